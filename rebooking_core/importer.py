"""Load schedule and booking files all-or-nothing, with the first bad line named."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, TypeVar, cast

import phonenumbers
from pydantic import BaseModel, ValidationError
from sqlalchemy import CursorResult, Insert, column, func, insert, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from infra import crypto
from infra.orm import Base, UTCDateTime
from rebooking_core.models import Booking, ContactPoint, Flight, Inventory, Passenger, Segment
from rebooking_core.records import SEAT_TAKING_STATUSES, BookingRecord, ScheduleRecord
from rebooking_core.types import PUSH_SERVICES, Tier

R = TypeVar("R", bound=BaseModel)
FlightKey = tuple[str, str, dt.date]

CONSENT_SOURCE = "booking_import"
LEGAL_BASIS = {"service": "contract", "marketing": "consent"}
CSV_COLUMNS = ("carrier", "number", "date", "origin", "destination", "departure", "arrival", "aircraft", "cabin_y", "cabin_j", "status")
_CSV_OPTIONAL = frozenset({"aircraft", "status"})
_CSV_FIELD = {("cabins", "Y"): "cabin_y", ("cabins", "J"): "cabin_j"}
_CSV_COLUMN = {"cabins.Y": "cabin_y", "cabins.J": "cabin_j"}
_CHUNK = 5000
_RETURNING_CHUNK = 1000
_PHONE_CHANNELS = frozenset({"sms", "whatsapp"})

# Characters no name, address or other text field may hold: controls (a NUL or a newline
# smuggled in through a JSON escape), invisible format characters (bidi overrides that
# reorder what an agent sees, zero-width spaces), surrogates, private-use code points and
# line/paragraph separators. ZWNJ and ZWJ are format characters too, but they are part of
# the correct spelling of Persian and Indic names and of emoji sequences, so they stay.
_REFUSED_CATEGORY = {
    "Cc": "control character",
    "Cf": "invisible format character",
    "Cs": "surrogate code point",
    "Co": "private-use character",
    "Zl": "line separator",
    "Zp": "paragraph separator",
}
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# The consent ledger belongs to the `consent` package, which the core may not import
# (independent layers); these light table clauses name only the columns written here.
_consent_state = table(
    "consent_state",
    column("passenger_id"),
    column("channel"),
    column("purpose"),
    column("state"),
    column("updated_at", UTCDateTime()),
)
_consent_events = table(
    "consent_events",
    column("passenger_id"),
    column("channel"),
    column("purpose"),
    column("state"),
    column("source"),
    column("evidence"),
    column("legal_basis"),
    column("at", UTCDateTime()),
)


class ImportFailed(Exception):
    """A file was refused; `line` is 1-based in the file as given (blank lines counted)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


class RecordList(list[R]):
    """Parsed records that remember the file line each came from, for later error messages."""

    def __init__(self, records: Iterable[R] = (), lines: Iterable[int] = ()) -> None:
        super().__init__(records)
        self.lines: list[int] = list(lines)


@dataclass(frozen=True)
class ImportReport:
    flights: int = 0
    bookings: int = 0
    passengers: int = 0
    contacts: int = 0
    segments: int = 0


def _describe(err: ValidationError, rename: dict[tuple[Any, ...], str] | None = None) -> str:
    first = err.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    field = (rename or {}).get(loc) or ".".join(str(p) for p in loc) or "record"
    msg = str(first["msg"]).removeprefix("Value error, ")
    return f"{field}: {msg}"


def _decode(n: int, raw: bytes) -> str:
    """One line of the file as strict UTF-8, so a UTF-16 or Latin-1 file is refused at its line."""
    if n == 1 and raw.startswith(_UTF16_BOMS):
        raise ImportFailed(n, "record: the file is UTF-16 (byte-order mark); save it as UTF-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ImportFailed(
            n, f"record: not UTF-8 (byte 0x{raw[err.start]:02X}, byte {err.start + 1} of the line); save the file as UTF-8"
        ) from None


def _numbered(lines: Iterable[str | bytes]) -> Iterator[tuple[int, str]]:
    for n, raw in enumerate(lines, start=1):
        line = _decode(n, raw) if isinstance(raw, bytes) else raw
        if n == 1:
            line = line.removeprefix("\ufeff")
        if "\x00" in line:
            raise ImportFailed(n, "record: NUL character (U+0000); is the file UTF-16? Save it as UTF-8")
        if line.strip():
            yield n, line


def _refused_char(value: str) -> str | None:
    """What is wrong with a text value, if it holds a character no field may hold."""
    if value.isprintable():
        return None
    for ch in value:
        kind = _REFUSED_CATEGORY.get(unicodedata.category(ch))
        if kind is not None and ch not in _ALLOWED_FORMAT:
            return f"{kind} U+{ord(ch):04X} not allowed"
    return None


def _text_problem(value: object, path: str) -> tuple[str, str] | None:
    """The first text field (dotted path, problem) holding a refused character, walking the whole record."""
    if isinstance(value, str):
        refused = _refused_char(value)
        return (path, refused) if refused else None
    if isinstance(value, BaseModel):
        children: Iterable[tuple[str, object]] = ((name, getattr(value, name)) for name in type(value).model_fields)
    elif isinstance(value, (list, tuple)):
        children = ((str(i), item) for i, item in enumerate(value))
    elif isinstance(value, dict):  # a passenger's loyalty preferences
        children = ((str(k), item) for k, item in value.items())
    else:
        return None
    for name, child in children:
        found = _text_problem(child, f"{path}.{name}" if path else name)
        if found:
            return found
    return None


def _phone_problem(address: str) -> str | None:
    """Why an address is not a real phone number written exactly in E.164, if it is not."""
    try:
        number = phonenumbers.parse(address, None)
    except phonenumbers.NumberParseException:
        return "not an E.164 phone number"
    if phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) != address:
        return "not written in E.164 (a + and digits only, nothing before or after)"
    if not phonenumbers.is_valid_number(number):
        return f"not a valid phone number (no such number range for +{number.country_code})"
    return None


def _check_strict(n: int, record: BaseModel, json_line: str | None, rename: dict[str, str] | None = None) -> None:
    """Refuse what the record models let through: hidden characters in text, unreal or loosely written phones."""
    # A JSON string can only carry a control or format character as an escape or as itself, so a
    # printable JSON line without a backslash needs no walk: 1.7 µs a line instead of 25 µs a
    # booking (measured on the generated network, 522-character lines). CSV records always walk.
    if json_line is None or "\\" in json_line or not json_line.rstrip("\r\n").isprintable():
        found = _text_problem(record, "")
        if found:
            path, problem = found
            raise ImportFailed(n, f"{(rename or {}).get(path, path)}: {problem}")
    if isinstance(record, BookingRecord):
        for i, pax in enumerate(record.passengers):
            # WhatsApp and SMS usually share one number: parse it once (~25 µs each).
            checked: dict[str, str | None] = {}
            for j, contact in enumerate(pax.contacts):
                if contact.channel in _PHONE_CHANNELS and contact.address is not None:
                    if contact.address not in checked:
                        checked[contact.address] = _phone_problem(contact.address)
                    wrong = checked[contact.address]
                    if wrong:
                        raise ImportFailed(n, f"passengers.{i}.contacts.{j}.address: {wrong}")


def _parse_jsonl(lines: Iterable[str | bytes], model: type[R]) -> RecordList[R]:
    records: list[R] = []
    numbers: list[int] = []
    for n, line in _numbered(lines):
        try:
            record = model.model_validate_json(line)
        except ValidationError as err:
            raise ImportFailed(n, _describe(err)) from None
        _check_strict(n, record, line)
        records.append(record)
        numbers.append(n)
    return RecordList(records, numbers)


def _parse_schedule_csv(lines: Iterable[str | bytes]) -> RecordList[ScheduleRecord]:
    physical = [0]

    def source() -> Iterable[str]:
        for n, line in _numbered(lines):
            physical[0] = n
            yield line

    reader = csv.DictReader(source())
    if reader.fieldnames is None:
        return RecordList()
    header = list(reader.fieldnames)
    unknown = [c for c in header if c not in CSV_COLUMNS]
    missing = [c for c in CSV_COLUMNS if c not in header and c not in _CSV_OPTIONAL]
    if unknown or missing:
        problem = f"unknown column {unknown[0]}" if unknown else f"missing column {missing[0]}"
        raise ImportFailed(physical[0], f"header: {problem}")
    records: list[ScheduleRecord] = []
    numbers: list[int] = []
    for row in reader:
        n = physical[0]
        if None in row:
            raise ImportFailed(n, "record: more values than columns")
        data: dict[str, Any] = {k: v for k, v in row.items() if k in CSV_COLUMNS and k not in ("cabin_y", "cabin_j")}
        for optional in _CSV_OPTIONAL:
            if not data.get(optional):
                data.pop(optional, None)
        data["cabins"] = {"Y": row.get("cabin_y"), "J": row.get("cabin_j")}
        try:
            record = ScheduleRecord.model_validate(data, strict=False)
        except ValidationError as err:
            raise ImportFailed(n, _describe(err, _CSV_FIELD)) from None
        _check_strict(n, record, None, _CSV_COLUMN)
        records.append(record)
        numbers.append(n)
    return RecordList(records, numbers)


def parse_schedule(lines: Iterable[str | bytes], *, fmt: Literal["jsonl", "csv"] = "jsonl") -> list[ScheduleRecord]:
    """Validate a whole schedule file (bytes or text lines); raises ImportFailed at the first bad line."""
    if fmt == "csv":
        return _parse_schedule_csv(lines)
    return _parse_jsonl(lines, ScheduleRecord)


def parse_bookings(lines: Iterable[str | bytes]) -> list[BookingRecord]:
    """Validate a whole bookings file (bytes or text lines); raises ImportFailed at the first bad line."""
    return _parse_jsonl(lines, BookingRecord)


def content_hash(record: BookingRecord) -> str:
    """Keyed SHA-256 of a booking record without its version: an upsert of the same content is `unchanged`.

    Keyed (the blind-index key) because the record holds names and numbers; a key rotation only
    makes the next upsert of each booking count as `changed`.
    """
    body = record.model_dump_json(exclude={"version"}).encode()
    return hmac.new(crypto.keyring().blind_key, body, hashlib.sha256).hexdigest()


def _line_numbers(records: Sequence[Any]) -> list[int]:
    if isinstance(records, RecordList) and len(records.lines) == len(records):
        return records.lines
    return list(range(1, len(records) + 1))


def _flight_label(key: FlightKey) -> str:
    return f"{key[0]}{key[1]} on {key[2].isoformat()}"


def _bulk(model: type[Base]) -> Insert:
    """ORM bulk INSERT that sends NULLs instead of dropping the column, so every row
    shares one statement and the whole list goes out in a few batches."""
    return insert(model).execution_options(render_nulls=True)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def _insert_flights(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert flights; ids come back matched by flight key, which needs no RETURNING order."""
    stmt = _bulk(Flight).returning(Flight.id, Flight.carrier, Flight.number, Flight.service_date)
    by_key: dict[FlightKey, int] = {}
    for part in _chunks(rows, _RETURNING_CHUNK):
        for fid, carrier, number, date in await session.execute(stmt, part):
            by_key[(carrier, number, date)] = fid
    return [by_key[(r["carrier"], r["number"], r["service_date"])] for r in rows]


async def _insert_bookings(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert bookings; ids come back matched by locator, which needs no RETURNING order."""
    stmt = _bulk(Booking).returning(Booking.id, Booking.locator)
    by_locator: dict[str, int] = {}
    for part in _chunks(rows, _RETURNING_CHUNK):
        for bid, locator in await session.execute(stmt, part):
            by_locator[locator] = bid
    return [by_locator[r["locator"]] for r in rows]


async def _insert_passengers(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert passengers and return their ids in row order (they have no natural key).

    SQLite cannot promise RETURNING order, and SQLAlchemy then falls back to one statement
    per row; but SQLite has a single writer and this transaction has already written (the
    bookings), so the ids after the current maximum are ours alone and can be assigned here.
    """
    conn = await session.connection()
    if conn.dialect.name == "sqlite":
        first = int(await session.scalar(select(func.coalesce(func.max(Passenger.id), 0))) or 0) + 1
        ids = list(range(first, first + len(rows)))
        await session.execute(_bulk(Passenger), [{**r, "id": i} for r, i in zip(rows, ids, strict=True)])
        return ids
    stmt = _bulk(Passenger).returning(Passenger.id, sort_by_parameter_order=True)
    found: list[int] = []
    for part in _chunks(rows, _RETURNING_CHUNK):
        found.extend(await session.scalars(stmt, part))
    return found


async def import_schedule(session: AsyncSession, records: Sequence[ScheduleRecord]) -> ImportReport:
    """Insert flights and their inventory; any key already present or repeated refuses the file."""
    lines = _line_numbers(records)
    seen: dict[FlightKey, int] = {}
    for n, rec in zip(lines, records, strict=True):
        key = (rec.carrier, rec.number, rec.date)
        if key in seen:
            raise ImportFailed(n, f"flight {_flight_label(key)} already on line {seen[key]}")
        if rec.status == "removed":
            raise ImportFailed(n, "status: removed is for --mode upsert")
        seen[key] = n
    existing = await _flights(session, set(seen))
    for n, rec in zip(lines, records, strict=True):
        if (rec.carrier, rec.number, rec.date) in existing:
            raise ImportFailed(n, f"flight {_flight_label((rec.carrier, rec.number, rec.date))} already exists")
    if not records:
        return ImportReport()
    rows = [
        {
            "carrier": r.carrier,
            "number": r.number,
            "service_date": r.date,
            "origin": r.origin,
            "destination": r.destination,
            "dep_utc": r.departure.astimezone(dt.UTC),
            "arr_utc": r.arrival.astimezone(dt.UTC),
            "status": "scheduled",
            "aircraft": r.aircraft,
        }
        for r in records
    ]
    ids = await _insert_flights(session, rows)
    inventory = [
        {"flight_id": fid, "cabin": cabin, "capacity": seats, "sold": 0, "held": 0}
        for fid, r in zip(ids, records, strict=True)
        for cabin, seats in (("Y", r.cabins.Y), ("J", r.cabins.J))
    ]
    await session.execute(_bulk(Inventory), inventory)
    return ImportReport(flights=len(ids))


@dataclass(frozen=True)
class _FlightRow:
    id: int
    dep_utc: dt.datetime
    arr_utc: dt.datetime


async def _flights(session: AsyncSession, keys: set[FlightKey]) -> dict[FlightKey, _FlightRow]:
    dates = sorted({k[2] for k in keys})
    found: dict[FlightKey, _FlightRow] = {}
    for part in _chunks(dates):
        rows = await session.execute(
            select(Flight.id, Flight.carrier, Flight.number, Flight.service_date, Flight.dep_utc, Flight.arr_utc).where(
                Flight.service_date.in_(part)
            )
        )
        for fid, carrier, number, date, dep, arr in rows:
            if (carrier, number, date) in keys:
                found[(carrier, number, date)] = _FlightRow(fid, dep, arr)
    return found


async def _existing_locators(session: AsyncSession, locators: list[str]) -> set[str]:
    found: set[str] = set()
    for part in _chunks(locators):
        found.update(await session.scalars(select(Booking.locator).where(Booking.locator.in_(part))))
    return found


def _check_locators(lines: list[int], records: Sequence[BookingRecord], existing: set[str]) -> None:
    seen: dict[str, int] = {}
    for n, rec in zip(lines, records, strict=True):
        if rec.locator in seen:
            raise ImportFailed(n, f"locator: {rec.locator} already on line {seen[rec.locator]}")
        if rec.locator in existing:
            raise ImportFailed(n, f"locator: {rec.locator} already exists")
        seen[rec.locator] = n


def _resolve_segments(
    lines: list[int], records: Sequence[BookingRecord], flights: dict[FlightKey, _FlightRow]
) -> list[list[_FlightRow]]:
    resolved: list[list[_FlightRow]] = []
    for n, rec in zip(lines, records, strict=True):
        legs: list[_FlightRow] = []
        for i, seg in enumerate(rec.segments):
            key = (seg.carrier, seg.number, seg.date)
            row = flights.get(key)
            if row is None:
                raise ImportFailed(n, f"segments.{i}: no flight {_flight_label(key)} in the schedule")
            if legs and row.dep_utc < legs[-1].arr_utc:
                raise ImportFailed(n, f"segments.{i}: departs before segments.{i - 1} arrives")
            legs.append(row)
        resolved.append(legs)
    return resolved


async def _take_seats(
    session: AsyncSession,
    lines: list[int],
    records: Sequence[BookingRecord],
    legs: list[list[_FlightRow]],
) -> None:
    """One atomic conditional UPDATE per flight and cabin; never read-then-write a counter."""
    demand: dict[tuple[int, str], list[tuple[int, int, int]]] = defaultdict(list)
    for n, rec, booking_legs in zip(lines, records, legs, strict=True):
        for i, (seg, leg) in enumerate(zip(rec.segments, booking_legs, strict=True)):
            if rec.segment_status(seg) in SEAT_TAKING_STATUSES:
                demand[(leg.id, seg.cabin)].append((n, i, len(rec.passengers)))
    take = text(
        "UPDATE inventory SET sold = sold + :n "
        "WHERE flight_id = :f AND cabin = :c AND sold + held + :n <= capacity"
    )
    for (flight_id, cabin), wants in demand.items():
        seats = sum(w[2] for w in wants)
        result = cast(CursorResult[Any], await session.execute(take, {"n": seats, "f": flight_id, "c": cabin}))
        if result.rowcount != 1:
            await _refuse_oversell(session, flight_id, cabin, wants)


async def _refuse_oversell(session: AsyncSession, flight_id: int, cabin: str, wants: list[tuple[int, int, int]]) -> NoReturn:
    row = (
        await session.execute(
            select(Inventory.capacity, Inventory.sold, Inventory.held).where(
                Inventory.flight_id == flight_id, Inventory.cabin == cabin
            )
        )
    ).first()
    if row is None:
        n, i, _ = wants[0]
        raise ImportFailed(n, f"segments.{i}: flight has no cabin {cabin}")
    capacity, sold, held = row
    taken = sold + held
    culprit = wants[-1]
    for want in wants:
        taken += want[2]
        if taken > capacity:
            culprit = want
            break
    n, i, _ = culprit
    raise ImportFailed(n, f"segments.{i}: cabin {cabin} would be oversold (capacity {capacity}, already taken {sold + held})")


async def import_bookings(session: AsyncSession, records: Sequence[BookingRecord]) -> ImportReport:
    """Insert bookings with their passengers, contacts, segments and consent, and take their seats."""
    lines = _line_numbers(records)
    _check_locators(lines, records, await _existing_locators(session, [r.locator for r in records]))
    keys = {(s.carrier, s.number, s.date) for r in records for s in r.segments}
    legs = _resolve_segments(lines, records, await _flights(session, keys))
    if not records:
        return ImportReport()
    await _take_seats(session, lines, records, legs)

    now = dt.datetime.now(dt.UTC)
    booking_ids = await _insert_bookings(
        session,
        [
            {"locator": r.locator, "group_name": r.group, "created_at": now, "version": r.version or 0, "content_hash": content_hash(r)}
            for r in records
        ],
    )
    pax_rows: list[dict[str, Any]] = []
    for bid, rec in zip(booking_ids, records, strict=True):
        for i, p in enumerate(rec.passengers):
            pax_rows.append(
                {
                    "booking_id": bid,
                    "given_name": p.given_name,
                    "family_name": p.family_name,
                    "tier": int(Tier.parse(p.tier)),
                    "language": p.language,
                    "ssr": p.ssr,
                    "is_contact": i == 0,
                    "loyalty_status": p.loyalty_status,
                    "miles": p.miles,
                    "preferences": p.preferences,
                }
            )
    pax_ids = await _insert_passengers(session, pax_rows)

    ring = crypto.keyring()
    contacts: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    pax_iter = iter(pax_ids)
    for bid, rec, booking_legs in zip(booking_ids, records, legs, strict=True):
        for p in rec.passengers:
            pid = next(pax_iter)
            order = list(p.preferred_channels or [])
            order += [c.channel for c in p.contacts if c.channel not in order]
            for c in p.contacts:
                contacts.append(
                    {
                        "passenger_id": pid,
                        "channel": c.channel,
                        "address": c.address,
                        "address_hash": ring.blind_index(c.address) if c.address is not None else None,
                        # WhatsApp's BSUID: a passenger who hides their number is found and reached by it.
                        "bsuid": c.bsuid,
                        "bsuid_hash": ring.blind_index(c.bsuid) if c.bsuid is not None else None,
                        "preference": order.index(c.channel),
                        # A push token's platform names its service (APNs, FCM), the lane it is sent on.
                        "platform": c.platform,
                        "app_id": c.app_id,
                        "sender": PUSH_SERVICES.get(c.platform or ""),
                    }
                )
                for purpose, granted in (("service", c.consent.service), ("marketing", c.consent.marketing)):
                    state = "granted" if granted else "withdrawn"
                    base = {"passenger_id": pid, "channel": c.channel, "purpose": purpose, "state": state}
                    states.append({**base, "updated_at": now})
                    events.append(
                        {
                            **base,
                            "source": CONSENT_SOURCE,
                            "evidence": f"booking {rec.locator}",
                            "legal_basis": LEGAL_BASIS[purpose],
                            "at": now,
                        }
                    )
        for seq, (seg, leg) in enumerate(zip(rec.segments, booking_legs, strict=True), start=1):
            segments.append(
                {"booking_id": bid, "flight_id": leg.id, "cabin": seg.cabin, "seq": seq, "status": rec.segment_status(seg)}
            )

    for model, rows in ((ContactPoint, contacts), (Segment, segments)):
        if rows:
            await session.execute(_bulk(model), rows)
    for clause, rows in ((_consent_state, states), (_consent_events, events)):
        if rows:
            await session.execute(insert(clause), rows)
    return ImportReport(
        bookings=len(booking_ids),
        passengers=len(pax_ids),
        contacts=len(contacts),
        segments=len(segments),
    )

