"""The synthetic network: deterministic, valid against the published formats, and realistic enough to rebook on."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from rebooking_core import airports
from rebooking_core.generate import (
    HUB,
    LOAD_FACTOR,
    MAX_CONNECTION,
    MIN_CONNECTION,
    Dataset,
    block_minutes,
    generate,
    write_jsonl,
)
from rebooking_core.importer import parse_bookings, parse_schedule
from rebooking_core.records import (
    SCHEMA_DIR,
    SCHEMA_FILES,
    SEAT_TAKING_STATUSES,
    BookingRecord,
    ScheduleRecord,
    schema_text,
)

START = dt.date(2026, 3, 27)  # the three days span the switch to summer time on 29 March


@pytest.fixture(scope="module")
def full() -> Dataset:
    return generate(seed=7, start=START)


@pytest.fixture(scope="module")
def small() -> Dataset:
    return generate(seed=7, start=START, passengers=1500)


def _flights(ds: Dataset) -> dict[tuple[str, str, dt.date], ScheduleRecord]:
    return {(f.carrier, f.number, f.date): f for f in ds.schedule}


def test_same_seed_gives_the_same_dataset(small: Dataset) -> None:
    again = generate(seed=7, start=START, passengers=1500)
    assert again == small
    assert [b.model_dump_json() for b in again.bookings] == [b.model_dump_json() for b in small.bookings]


def test_another_seed_gives_another_dataset(small: Dataset) -> None:
    other = generate(seed=8, start=START, passengers=1500)
    assert [b.locator for b in other.bookings] != [b.locator for b in small.bookings]
    assert [(f.number, f.departure) for f in other.schedule] != [(f.number, f.departure) for f in small.schedule]


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_committed_json_schema_matches_the_models(name: str) -> None:
    committed = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert committed == schema_text(SCHEMA_FILES[name]), "run: python -m rebooking_core.records"


def test_every_record_validates_against_models_and_committed_schemas(small: Dataset) -> None:
    schedule_schema = json.loads((SCHEMA_DIR / "schedule.schema.json").read_text(encoding="utf-8"))
    booking_schema = json.loads((SCHEMA_DIR / "booking.schema.json").read_text(encoding="utf-8"))
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    for model, schema, records in (
        (ScheduleRecord, schedule_schema, small.schedule),
        (BookingRecord, booking_schema, small.bookings),
    ):
        validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
        for rec in records:
            line = rec.model_dump_json(exclude_none=True)
            validator.validate(json.loads(line))
            assert model.model_validate_json(line) == rec


def test_hub_and_spoke_network(full: Dataset) -> None:
    spokes = {f.origin for f in full.schedule} | {f.destination for f in full.schedule}
    spokes.discard(HUB)
    assert 20 <= len(spokes) <= 30
    assert all(HUB in (f.origin, f.destination) for f in full.schedule)
    assert 300 <= len(full.schedule) <= 600
    assert len(_flights(full)) == len(full.schedule)
    for f in full.schedule:
        assert 150 <= f.cabins.Y <= 180 and 12 <= f.cabins.J <= 24
        assert f.arrival - f.departure == dt.timedelta(minutes=block_minutes(f.origin, f.destination))
        local = ZoneInfo(airports.get(f.origin).tz)
        assert f.departure.utcoffset() == f.departure.astimezone(local).utcoffset()
        assert f.departure.astimezone(local).date() == f.date
    per_route = Counter((f.origin, f.destination, f.date) for f in full.schedule)
    assert max(per_route.values()) >= 3  # several waves a day on short routes


def test_schedule_keeps_local_time_across_the_dst_switch(full: Dataset) -> None:
    flights = _flights(full)
    before = flights[("RB", full.schedule[0].number, START)]
    after = flights[("RB", before.number, START + dt.timedelta(days=2))]
    hub = ZoneInfo(airports.get(HUB).tz)
    assert before.departure.astimezone(hub).time() == after.departure.astimezone(hub).time()
    before_utc = before.departure.astimezone(dt.UTC)
    after_utc = after.departure.astimezone(dt.UTC)
    assert after_utc - before_utc == dt.timedelta(days=2, hours=-1)


def test_connections_respect_minimum_and_maximum_connecting_time(full: Dataset) -> None:
    flights = _flights(full)
    connecting = [b for b in full.bookings if len(b.segments) == 2]
    assert 0.25 <= len(connecting) / len(full.bookings) <= 0.45
    for b in connecting:
        first, second = (flights[(s.carrier, s.number, s.date)] for s in b.segments)
        assert first.destination == HUB == second.origin
        assert first.origin != second.destination
        assert MIN_CONNECTION <= second.departure - first.arrival <= MAX_CONNECTION
    assert all(len(b.segments) in (1, 2) for b in full.bookings)


def test_load_factor_leaves_seats_for_rebooking(full: Dataset) -> None:
    flights = _flights(full)
    sold: dict[tuple[tuple[str, str, dt.date], str], int] = defaultdict(int)
    for b in full.bookings:
        for s in b.segments:
            if s.status in SEAT_TAKING_STATUSES:
                sold[((s.carrier, s.number, s.date), s.cabin)] += len(b.passengers)
    for (key, cabin), n in sold.items():
        capacity = getattr(flights[key].cabins, cabin)
        assert n <= capacity * LOAD_FACTOR[1]
    capacity = sum(f.cabins.Y + f.cabins.J for f in full.schedule)
    taken = sum(len(b.passengers) * len(b.segments) for b in full.bookings)
    assert LOAD_FACTOR[0] - 0.05 <= taken / capacity <= LOAD_FACTOR[1]


def test_passenger_target_is_met(small: Dataset) -> None:
    assert sum(len(b.passengers) for b in small.bookings) == 1500
    huge = generate(seed=1, start=START, days=1, passengers=10**6)
    capacity = sum(f.cabins.Y + f.cabins.J for f in huge.schedule)
    assert sum(len(b.passengers) for b in huge.bookings) < capacity * LOAD_FACTOR[1]


def test_parties_tiers_and_special_service(full: Dataset) -> None:
    sizes = Counter(len(b.passengers) for b in full.bookings)
    assert set(sizes) == set(range(1, 10))
    assert sizes[1] + sizes[2] > 0.7 * len(full.bookings)
    for b in full.bookings:
        assert (b.group is not None) == (len(b.passengers) >= 6)
    pax = [p for b in full.bookings for p in b.passengers]
    tiers = Counter(p.tier for p in pax)
    assert 0.6 < tiers["none"] / len(pax) < 0.75
    assert 0.01 < tiers["platinum"] / len(pax) < 0.05
    wchr = sum(p.ssr == "WCHR" for p in pax) / len(pax)
    assert 0.01 < wchr < 0.03


def test_contacts_are_reachable_and_fictional(full: Dataset) -> None:
    shapes = Counter[str]()
    for b in full.bookings:
        assert b.passengers[0].contacts, "the booking contact must be reachable"
        for p in b.passengers:
            channels = [c.channel for c in p.contacts]
            if channels:
                shapes["+".join(sorted(set(channels) - {"email"}))] += 1
            for c in p.contacts:
                if c.channel in ("sms", "whatsapp"):
                    assert re.fullmatch(r"\+[1-9]\d{7,14}", c.address)
                    if c.address.startswith("+44"):  # Ofcom drama numbers (geographic: 07700 900 is not valid)
                        assert re.fullmatch(r"\+44(11[3-7]4960|1[2-6]14960|2079460|2920180)\d{3}", c.address)
                    if c.address.startswith("+33"):  # ARCEP fiction ranges
                        assert re.fullmatch(r"\+33(19900|26191|35301|46571|53649)\d{4}", c.address)
                if c.channel == "email":
                    assert c.address.endswith("@example.com")
    assert shapes["whatsapp"] and shapes["sms"] and shapes["sms+whatsapp"]
    consents = [c.consent for b in full.bookings for p in b.passengers for c in p.contacts]
    assert 0.92 < sum(c.service for c in consents) / len(consents) < 0.98
    assert 0.25 < sum(c.marketing for c in consents) / len(consents) < 0.35


def test_language_follows_the_home_country(full: Dataset) -> None:
    flights = _flights(full)
    from_madrid = [
        b.passengers[0].language
        for b in full.bookings
        if flights[(b.segments[0].carrier, b.segments[0].number, b.segments[0].date)].origin == "MAD"
    ]
    assert Counter(from_madrid).most_common(1)[0][0] == "es"
    assert {p.language for b in full.bookings for p in b.passengers} == {"es", "de", "fr", "ar", "en"}


def test_write_jsonl_round_trips_through_the_parsers(small: Dataset, tmp_path: Path) -> None:
    schedule_path, bookings_path = write_jsonl(small, tmp_path / "out")
    assert (schedule_path.name, bookings_path.name) == ("schedule.jsonl", "bookings.jsonl")
    with schedule_path.open(encoding="utf-8") as fh:
        assert parse_schedule(fh) == small.schedule
    with bookings_path.open(encoding="utf-8") as fh:
        assert parse_bookings(fh) == small.bookings
    assert len(bookings_path.read_text(encoding="utf-8").splitlines()) == len(small.bookings)
