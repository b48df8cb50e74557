"""A deterministic synthetic hub-and-spoke airline, so demos, tests and benchmarks share one realistic world."""

from __future__ import annotations

import datetime as dt
import math
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from rebooking_core import airports
from rebooking_core.records import (
    BookingRecord,
    CabinCode,
    Cabins,
    Channel,
    ConsentFlags,
    ContactRecord,
    PassengerRecord,
    ScheduleRecord,
    SegmentRecord,
    SegmentStatusCode,
    TierName,
)

HUB = "FRA"
SPOKES: tuple[str, ...] = (
    "MAD", "BCN", "LIS", "CDG", "NCE", "LYS", "AMS", "BRU", "BER", "HAM",
    "VIE", "ZRH", "GVA", "CPH", "ARN", "OSL", "HEL", "WAW", "PRG", "BUD",
    "ATH", "FCO", "MXP", "DUB", "MAN", "CMN", "CAI", "DXB", "TLV", "IST",
)  # fmt: skip
#: Hub-local times at which each arrival wave lands; departures leave 45-120 min later.
BANKS: tuple[dt.time, ...] = (dt.time(9, 0), dt.time(12, 30), dt.time(16, 0), dt.time(19, 30))
MIN_CONNECTION = dt.timedelta(minutes=45)
MAX_CONNECTION = dt.timedelta(hours=3)
AIRCRAFT: dict[str, Cabins] = {
    "320": Cabins(Y=150, J=12),
    "32N": Cabins(Y=162, J=18),
    "321": Cabins(Y=180, J=24),
}
LOAD_FACTOR = (0.70, 0.85)
CONNECTING_SHARE = 0.35

_ARRIVAL_SPREAD = 30  # minutes after the bank time in which arrivals land
_DEPARTURE_GAP = 75  # minutes after the bank time when the first departure leaves
_DEPARTURE_SPREAD = 45
_TIERS: tuple[TierName, ...] = ("none", "silver", "gold", "platinum")
_TIER_WEIGHTS = (70, 18, 9, 3)
_SSRS = (("WCHR", 0.02), ("PETC", 0.005), ("BLND", 0.002), ("DEAF", 0.002))
_LOCATOR_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

_LANGUAGE_BY_COUNTRY = {"ES": "es", "DE": "de", "AT": "de", "CH": "de", "FR": "fr", "BE": "fr", "MA": "ar", "EG": "ar", "AE": "ar"}
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "es": (
        ("Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Leo", "Julia", "Daniel", "Paula", "Álvaro", "Carmen", "Javier"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz", "Navarro", "Torres"),
    ),
    "de": (
        ("Anna", "Lukas", "Lena", "Jonas", "Marie", "Felix", "Sophie", "Paul", "Hannah", "Maximilian", "Jürgen", "Katrin"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schäfer", "Koch", "Richter"),
    ),
    "fr": (
        ("Camille", "Louis", "Léa", "Gabriel", "Chloé", "Arthur", "Manon", "Jules", "Inès", "Raphaël", "Élodie", "Thomas"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Lefèvre", "Garnier"),
    ),
    "ar": (
        ("Mohamed", "Fatima", "Youssef", "Amina", "Omar", "Layla", "Karim", "Salma", "Hassan", "Nour", "Ali", "Yasmin"),
        ("El Amrani", "Haddad", "Mansour", "Benali", "Saleh", "Farouk", "Nasser", "Khalil", "Bennani", "Aziz", "Hamdan", "Rahman"),
    ),
    "en": (
        ("Olivia", "James", "Emma", "Oliver", "Amelia", "Jack", "Isla", "Noah", "Grace", "Harry", "Chloe", "William"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans", "Walker", "Wright", "Murphy"),
    ),
}
_GROUP_WORD = {"es": "Grupo", "de": "Reisegruppe", "fr": "Groupe", "ar": "Group", "en": "Group"}

#: Phone number shapes per country: (country code, prefixes, random digits after the prefix).
#: Every shape gives numbers that `phonenumbers` (the importer's check) finds valid (mobile ones),
#: except where a regulator's range reserved for fiction is used instead: GB (Ofcom drama
#: numbers, the geographic ones: the mobile range 07700 900xxx is not a valid number to
#: libphonenumber, so the importer would refuse it), FR (ARCEP fiction ranges 01 99 00,
#: 02 61 91, 03 53 01, 04 65 71, 05 36 49; 06 39 98 is likewise not valid) and DE (BNetzA
#: drama numbers in Berlin/Frankfurt/Hamburg/Munich) — all fixed-line. Elsewhere the digits
#: are random within national mobile ranges and must never be sent to outside the sandbox.
_PHONES: dict[str, tuple[str, tuple[str, ...], int]] = {
    "GB": ("44", ("1134960", "1144960", "1164960", "1174960", "1214960", "1314960", "1414960", "1614960", "2079460", "2920180"), 3),
    "FR": ("33", ("19900", "26191", "35301", "46571", "53649"), 4),
    "DE": ("49", ("3023125", "6990009", "4066969", "8999998"), 3),
    "ES": ("34", ("6",), 8),
    "PT": ("351", ("91", "92", "93", "96"), 7),
    "BE": ("32", ("47", "48", "49"), 7),
    "NL": ("31", ("61", "62", "63", "64", "65"), 7),
    "AT": ("43", ("664",), 7),
    "CH": ("41", ("76", "77", "78", "79"), 7),
    "DK": ("45", ("26", "27", "28"), 6),
    "SE": ("46", ("70", "72", "73", "76"), 7),
    "NO": ("47", ("40", "41", "46", "47", "48", "90", "91", "92", "93", "94", "95", "97", "98", "99"), 6),
    "FI": ("358", ("40", "44", "50"), 7),
    "PL": ("48", ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"), 7),
    "CZ": ("420", ("601", "602", "603", "604", "605", "606", "607", "608", "720", "721", "730", "731", "770", "777", "790", "799"), 6),
    "HU": ("36", ("20", "30", "70"), 7),
    "GR": ("30", ("69",), 8),
    "IT": ("39", ("320", "328", "329", "330", "333", "334", "335", "338", "339", "340", "345", "347", "348", "349", "366", "380", "388", "389", "391", "392", "393"), 7),
    "IE": ("353", ("85", "86", "87", "89"), 7),
    "MA": ("212", ("60", "61", "62", "63", "64", "65", "66", "67", "69", "70", "71", "76", "77", "78"), 7),
    "EG": ("20", ("10", "11", "12", "15"), 8),
    "AE": ("971", ("50", "52", "55", "56"), 7),
    "IL": ("972", ("502", "503", "504", "505", "506", "507", "508", "522", "523", "524", "525", "526", "527", "528", "542", "543", "544", "545", "546", "547", "548"), 6),
    "TR": ("90", ("501", "505", "506", "507", "530", "531", "532", "533", "534", "535", "536", "537", "538", "539", "541", "542", "543", "544", "545", "546", "551", "552", "553", "554", "555"), 7),
}


@dataclass(frozen=True)
class Dataset:
    schedule: list[ScheduleRecord]
    bookings: list[BookingRecord]


def block_minutes(origin: str, destination: str) -> int:
    """Scheduled block time: great-circle distance at ~800 km/h plus 30 min, rounded to 5 min."""
    raw = airports.distance_km(origin, destination) / 800 * 60 + 30
    return int(5 * round(raw / 5))


def aircraft_for(distance_km: float) -> str:
    if distance_km < 800:
        return "320"
    if distance_km < 1600:
        return "32N"
    return "321"


def _banks_for(index: int, distance_km: float) -> tuple[int, ...]:
    """Short routes fly three waves, medium two, long one, staggered so the hub banks stay balanced."""
    if distance_km < 1000:
        skip = index % 4
        return tuple(b for b in range(4) if b != skip)
    if distance_km < 2000:
        return (0, 2) if index % 2 else (1, 3)
    return (2,)


@dataclass
class _Leg:
    record: ScheduleRecord
    dep: dt.datetime
    arr: dt.datetime
    left: dict[str, int]


def _local(day: dt.date, at: dt.time, tz: str) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=ZoneInfo(tz))


def _schedule(rng: random.Random, start: dt.date, days: int, carrier: str) -> list[ScheduleRecord]:
    hub_tz = airports.get(HUB).tz
    records: list[ScheduleRecord] = []
    for index, spoke in enumerate(SPOKES):
        distance = airports.distance_km(HUB, spoke)
        block = dt.timedelta(minutes=block_minutes(HUB, spoke))
        aircraft = aircraft_for(distance)
        spoke_tz = ZoneInfo(airports.get(spoke).tz)
        for bank in _banks_for(index, distance):
            arrive_after = dt.timedelta(minutes=5 * rng.randrange(_ARRIVAL_SPREAD // 5 + 1))
            depart_after = dt.timedelta(minutes=_DEPARTURE_GAP + 5 * rng.randrange(_DEPARTURE_SPREAD // 5 + 1))
            outbound = str(100 + 10 * index + 2 * bank)
            inbound = str(100 + 10 * index + 2 * bank + 1)
            for d in range(days):
                wave = _local(start + dt.timedelta(days=d), BANKS[bank], hub_tz)
                arr_in = (wave + arrive_after).astimezone(ZoneInfo(hub_tz))
                dep_in = (arr_in - block).astimezone(spoke_tz)
                dep_out = wave + depart_after
                arr_out = (dep_out + block).astimezone(spoke_tz)
                for number, origin, destination, dep, arr in (
                    (inbound, spoke, HUB, dep_in, arr_in),
                    (outbound, HUB, spoke, dep_out, arr_out),
                ):
                    records.append(
                        ScheduleRecord(
                            carrier=carrier,
                            number=number,
                            date=dep.date(),
                            origin=origin,
                            destination=destination,
                            departure=dep,
                            arrival=arr,
                            aircraft=aircraft,
                            cabins=AIRCRAFT[aircraft],
                        )
                    )
    records.sort(key=lambda r: (r.departure, r.number))
    return records


def _connections(legs: list[_Leg]) -> list[tuple[int, int]]:
    inbound = [i for i, leg in enumerate(legs) if leg.record.destination == HUB]
    outbound = sorted((leg.dep, i) for i, leg in enumerate(legs) if leg.record.origin == HUB)
    pairs: list[tuple[int, int]] = []
    for i in inbound:
        first = legs[i]
        for dep, j in outbound:
            gap = dep - first.arr
            if gap > MAX_CONNECTION:
                break
            if gap >= MIN_CONNECTION and legs[j].record.destination != first.record.origin:
                pairs.append((i, j))
    return pairs


def _party_size(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.55:
        return 1
    if roll < 0.82:
        return 2
    if roll < 0.97:
        return rng.randint(3, 5)
    return rng.randint(6, 9)


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalnum()).lower()


class _People:
    """Names, languages and contact details that fit a passenger's home country."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.emails = 0

    def phone(self, country: str) -> str:
        cc, prefixes, digits = _PHONES.get(country, _PHONES["GB"])
        tail = "".join(str(self.rng.randrange(10)) for _ in range(digits))
        return f"+{cc}{self.rng.choice(prefixes)}{tail}"

    def contacts(self, country: str, given: str, family: str) -> tuple[list[ContactRecord], list[Channel] | None]:
        rng = self.rng
        number = self.phone(country)
        roll = rng.random()
        channels: list[Channel] = ["whatsapp"] if roll < 0.4 else ["sms"] if roll < 0.65 else ["whatsapp", "sms"]
        preferred: list[Channel] | None = None
        if len(channels) == 2:
            preferred = channels if rng.random() < 0.7 else channels[::-1]
        found: list[tuple[Channel, str]] = [(c, number) for c in channels]
        if rng.random() < 0.15:
            self.emails += 1
            found.append(("email", f"{_ascii(given)}.{_ascii(family)}{self.emails}@example.com"))
        contacts = [
            ContactRecord(
                channel=channel,
                address=address,
                consent=ConsentFlags(service=rng.random() < 0.95, marketing=rng.random() < 0.30),
            )
            for channel, address in found
        ]
        return contacts, preferred

    def party(self, size: int, country: str, cabin: str) -> tuple[list[PassengerRecord], str | None]:
        rng = self.rng
        language = "en" if rng.random() < 0.15 else _LANGUAGE_BY_COUNTRY.get(country, "en")
        givens, families = _NAMES[language]
        family = rng.choice(families)
        is_group = size >= 6
        passengers: list[PassengerRecord] = []
        for i in range(size):
            given = rng.choice(givens)
            surname = family if (not is_group and rng.random() < 0.8) or i == 0 else rng.choice(families)
            tier = rng.choices(_TIERS, _TIER_WEIGHTS)[0]
            if cabin == "J" and tier == "none" and rng.random() < 0.5:
                tier = "silver"
            ssr = next((code for code, p in _SSRS if rng.random() < p), None)
            contacts: list[ContactRecord] = []
            preferred: list[Channel] | None = None
            if i == 0 or rng.random() < 0.3:
                contacts, preferred = self.contacts(country, given, surname)
            passengers.append(
                PassengerRecord(
                    given_name=given,
                    family_name=surname,
                    tier=tier,
                    language=language,
                    ssr=ssr,
                    contacts=contacts,
                    preferred_channels=preferred,
                )
            )
        group = f"{_GROUP_WORD[language]} {family} {rng.randint(1, 99)}" if is_group else None
        return passengers, group


class _Seats:
    """Remaining sellable seats per leg and cabin, with lazily pruned pools of open options."""

    def __init__(self, legs: list[_Leg], pairs: list[tuple[int, int]]) -> None:
        self.legs = legs
        self.pools: dict[tuple[str, bool], list[tuple[int, ...]]] = {}
        for cabin in ("Y", "J"):
            self.pools[(cabin, False)] = [(i,) for i in range(len(legs))]
            self.pools[(cabin, True)] = list(pairs)

    def _fits(self, legs: Sequence[int], cabin: str, size: int) -> bool:
        return all(self.legs[i].left[cabin] >= size for i in legs)

    def pick(self, rng: random.Random, cabin: str, size: int, connect: bool, tries: int = 25) -> tuple[int, ...] | None:
        pool = self.pools[(cabin, connect)]
        for _ in range(tries):
            if not pool:
                return None
            pos = rng.randrange(len(pool))
            option = pool[pos]
            if not self._fits(option, cabin, 1):
                pool[pos] = pool[-1]
                pool.pop()
                continue
            if self._fits(option, cabin, size):
                return option
        return None

    def take(self, option: tuple[int, ...], cabin: str, size: int) -> None:
        for i in option:
            self.legs[i].left[cabin] -= size

    def exhausted(self) -> bool:
        return not self.pools[("Y", False)] and not self.pools[("J", False)]


def _locator(rng: random.Random, used: set[str]) -> str:
    while True:
        code = "".join(rng.choice(_LOCATOR_ALPHABET) for _ in range(6))
        if code not in used:
            used.add(code)
            return code


def _bookings(rng: random.Random, schedule: list[ScheduleRecord], passengers: int | None) -> list[BookingRecord]:
    legs = []
    for rec in schedule:
        lf = rng.uniform(*LOAD_FACTOR)
        left = {"Y": math.floor(rec.cabins.Y * lf), "J": math.floor(rec.cabins.J * lf)}
        legs.append(_Leg(rec, rec.departure.astimezone(dt.UTC), rec.arrival.astimezone(dt.UTC), left))
    seats = _Seats(legs, _connections(legs))
    people = _People(rng)
    used: set[str] = set()
    bookings: list[BookingRecord] = []
    total = 0
    misses = 0
    while (passengers is None or total < passengers) and misses < 200 and not seats.exhausted():
        size = _party_size(rng)
        if passengers is not None:
            size = min(size, passengers - total)
        connect = rng.random() < CONNECTING_SHARE
        wanted: CabinCode = "J" if size <= 3 and rng.random() < 0.10 else "Y"
        attempts: tuple[tuple[CabinCode, int, bool], ...] = (
            (wanted, size, connect),
            ("Y", size, connect),
            ("Y", size, False),
            ("Y", 1, False),
        )
        option = None
        cabin: CabinCode = "Y"
        for c, s, conn in attempts:
            option = seats.pick(rng, c, s, conn)
            if option is not None:
                cabin, size = c, s
                break
        if option is None:
            misses += 1
            continue
        misses = 0
        seats.take(option, cabin, size)
        first = legs[option[0]].record
        home = first.origin if rng.random() < 0.75 else legs[option[-1]].record.destination
        party, group = people.party(size, airports.get(home).country, cabin)
        status: SegmentStatusCode = "TK" if rng.random() < 0.02 else "HK"
        segments = [
            SegmentRecord(carrier=leg.record.carrier, number=leg.record.number, date=leg.record.date, cabin=cabin, status=status)
            for leg in (legs[i] for i in option)
        ]
        bookings.append(BookingRecord(locator=_locator(rng, used), group=group, passengers=party, segments=segments))
        total += size
    return bookings


def generate(
    *, seed: int, start: dt.date, days: int = 3, passengers: int | None = None, carrier: str = "RB"
) -> Dataset:
    """A network and its bookings; the same arguments always give the same dataset.

    `passengers=None` fills every flight to a 70-85 % load factor (about 16,000 passengers a
    day); a number stops at roughly that many passengers, capped by that same load factor.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    schedule = _schedule(random.Random(f"{seed}:schedule"), start, days, carrier)
    bookings = _bookings(random.Random(f"{seed}:bookings"), schedule, passengers)
    return Dataset(schedule=schedule, bookings=bookings)


def write_jsonl(dataset: Dataset, out_dir: Path) -> tuple[Path, Path]:
    """Write `schedule.jsonl` and `bookings.jsonl`, one record per line, for `rebook import`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    schedule_path = out_dir / "schedule.jsonl"
    bookings_path = out_dir / "bookings.jsonl"
    for path, records in ((schedule_path, dataset.schedule), (bookings_path, dataset.bookings)):
        with path.open("w", encoding="utf-8") as out:
            for rec in records:
                out.write(rec.model_dump_json(exclude_none=True) + "\n")
    return schedule_path, bookings_path
