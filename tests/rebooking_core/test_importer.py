"""Importing schedule and booking files: all-or-nothing, line-numbered errors, encrypted PII, exact seat counts."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from consent.models import ConsentEvent, ConsentState
from infra import crypto
from rebooking_core.generate import Dataset, generate
from rebooking_core.importer import (
    ImportFailed,
    ImportReport,
    import_bookings,
    import_schedule,
    parse_bookings,
    parse_schedule,
)
from rebooking_core.models import Booking, ContactPoint, Flight, Inventory, Passenger, Segment
from rebooking_core.records import SEAT_TAKING_STATUSES
from rebooking_core.types import Tier

START = dt.date(2026, 3, 27)
DAY = "2026-03-27"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(seed=11, start=START, days=2, passengers=900)


def _flight(number: str = "100", *, origin: str = "FRA", destination: str = "MAD", y: int = 150, j: int = 12, dep: str = "09:00", arr: str = "11:30") -> dict[str, Any]:
    return {
        "carrier": "RB",
        "number": number,
        "date": DAY,
        "origin": origin,
        "destination": destination,
        "departure": f"{DAY}T{dep}:00+01:00",
        "arrival": f"{DAY}T{arr}:00+01:00",
        "cabins": {"Y": y, "J": j},
    }


def _booking(locator: str, *, pax: int = 1, numbers: tuple[str, ...] = ("100",), tier: str = "gold", **over: Any) -> dict[str, Any]:
    people = [
        {
            "given_name": f"Ana{i}",
            "family_name": "Ejemplo",
            "tier": tier,
            "language": "es",
            "contacts": [
                {"channel": "whatsapp", "address": "+34600000001", "consent": {"service": True, "marketing": False}},
                {"channel": "sms", "address": "+34600000001", "consent": {"service": True, "marketing": True}},
                {"channel": "email", "address": f"ana{i}@example.com", "consent": {"service": False, "marketing": False}},
            ]
            if i == 0
            else [],
            **({"preferred_channels": ["sms", "whatsapp"]} if i == 0 else {}),
        }
        for i in range(pax)
    ]
    segments = [{"carrier": "RB", "number": n, "date": DAY, "cabin": "Y", "status": "HK"} for n in numbers]
    return {"locator": locator, "passengers": people, "segments": segments, **over}


def _lines(*records: dict[str, Any]) -> list[str]:
    return [json.dumps(r) + "\n" for r in records]


async def _count(engine: AsyncEngine, model: type[Any]) -> int:
    async with AsyncSession(engine) as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def _load(engine: AsyncEngine, ds: Dataset) -> tuple[ImportReport, ImportReport]:
    async with AsyncSession(engine) as s, s.begin():
        flights = await import_schedule(s, ds.schedule)
    async with AsyncSession(engine) as s, s.begin():
        bookings = await import_bookings(s, ds.bookings)
    return flights, bookings


async def test_generated_dataset_imports_with_exact_counts(engine: AsyncEngine, dataset: Dataset) -> None:
    flights, bookings = await _load(engine, dataset)
    pax = [p for b in dataset.bookings for p in b.passengers]
    contacts = sum(len(p.contacts) for p in pax)
    assert flights == ImportReport(flights=len(dataset.schedule))
    assert bookings == ImportReport(
        bookings=len(dataset.bookings),
        passengers=len(pax),
        contacts=contacts,
        segments=sum(len(b.segments) for b in dataset.bookings),
    )
    for model, expected in (
        (Flight, len(dataset.schedule)),
        (Inventory, 2 * len(dataset.schedule)),
        (Booking, bookings.bookings),
        (Passenger, bookings.passengers),
        (ContactPoint, contacts),
        (Segment, bookings.segments),
        (ConsentState, 2 * contacts),
        (ConsentEvent, 2 * contacts),
    ):
        assert await _count(engine, model) == expected, model.__name__


async def test_inventory_sold_matches_booked_passengers(engine: AsyncEngine, dataset: Dataset) -> None:
    await _load(engine, dataset)
    expected: dict[tuple[str, dt.date, str], int] = defaultdict(int)
    for b in dataset.bookings:
        for seg in b.segments:
            if seg.status in SEAT_TAKING_STATUSES:
                expected[(seg.number, seg.date, seg.cabin)] += len(b.passengers)
    async with AsyncSession(engine) as s:
        rows = await s.execute(
            select(Flight.number, Flight.service_date, Inventory.cabin, Inventory.sold, Inventory.held, Inventory.capacity).join(
                Flight, Flight.id == Inventory.flight_id
            )
        )
        seen = 0
        for number, date, cabin, sold, held, capacity in rows:
            assert sold == expected.get((number, date, cabin), 0)
            assert held == 0 and sold <= capacity
            seen += 1
    assert seen == 2 * len(dataset.schedule)
    assert sum(expected.values()) > 0


async def test_rows_keep_booking_structure_and_consent_provenance(engine: AsyncEngine, dataset: Dataset) -> None:
    await _load(engine, dataset)
    rec = next(b for b in dataset.bookings if len(b.passengers) >= 2 and len(b.segments) == 2)
    async with AsyncSession(engine) as s:
        booking = (await s.scalars(select(Booking).where(Booking.locator == rec.locator))).one()
        pax = (await s.scalars(select(Passenger).where(Passenger.booking_id == booking.id).order_by(Passenger.id))).all()
        assert [p.given_name for p in pax] == [p.given_name for p in rec.passengers]
        assert [p.is_contact for p in pax] == [True] + [False] * (len(pax) - 1)
        assert [p.tier for p in pax] == [int(Tier.parse(p.tier)) for p in rec.passengers]
        segs = (await s.scalars(select(Segment).where(Segment.booking_id == booking.id).order_by(Segment.seq))).all()
        assert [sg.seq for sg in segs] == [1, 2]
        numbers = [(await s.get(Flight, sg.flight_id)).number for sg in segs]  # type: ignore[union-attr]
        assert numbers == [sg.number for sg in rec.segments]
        events = (await s.scalars(select(ConsentEvent).where(ConsentEvent.passenger_id == pax[0].id))).all()
        assert {e.source for e in events} == {"booking_import"}
        assert {(e.purpose, e.legal_basis) for e in events} == {("service", "contract"), ("marketing", "consent")}
        first = rec.passengers[0].contacts[0]
        state = await s.get(ConsentState, (pax[0].id, first.channel, "marketing"))
        assert state is not None and state.state == ("granted" if first.consent.marketing else "withdrawn")


async def test_pii_is_ciphertext_at_rest_and_readable_through_the_orm(engine: AsyncEngine, dataset: Dataset, pii_keyring: crypto.Keyring) -> None:
    await _load(engine, dataset)
    rec = dataset.bookings[0]
    person = rec.passengers[0]
    phone = next(c.address for c in person.contacts if c.channel in ("sms", "whatsapp"))
    async with engine.connect() as conn:
        names = (await conn.execute(text("SELECT given_name, family_name FROM passengers"))).all()
        addresses = (await conn.execute(text("SELECT address FROM contact_points"))).scalars().all()
    raw = [v for row in names for v in row] + list(addresses)
    assert raw and all(v.startswith("enc1:") for v in raw)
    assert person.family_name not in " ".join(raw) and phone not in " ".join(raw)
    assert phone.lstrip("+") not in " ".join(raw)
    async with AsyncSession(engine) as s:
        hits = (
            await s.execute(
                select(ContactPoint, Passenger)
                .join(Passenger, Passenger.id == ContactPoint.passenger_id)
                .where(ContactPoint.address_hash == pii_keyring.blind_index(phone))
            )
        ).all()
        assert hits
        assert all(cp.address == phone for cp, _ in hits)
        assert (person.given_name, person.family_name) in {(p.given_name, p.family_name) for _, p in hits}


async def test_contact_preference_follows_preferred_channels(sqlite_engine: AsyncEngine) -> None:
    async with AsyncSession(sqlite_engine) as s, s.begin():
        await import_schedule(s, parse_schedule(_lines(_flight())))
        await import_bookings(s, parse_bookings(_lines(_booking("ABC123"))))
    async with AsyncSession(sqlite_engine) as s:
        order = dict((await s.execute(select(ContactPoint.channel, ContactPoint.preference))).all())
    assert order == {"sms": 0, "whatsapp": 1, "email": 2}


def test_bad_schedule_row_names_line_and_field() -> None:
    lines = _lines(_flight("100"), _flight("102"), _flight("104", destination="QQQ"), _flight("106"))
    with pytest.raises(ImportFailed) as err:
        parse_schedule(lines)
    assert err.value.line == 3
    assert str(err.value).startswith("line 3: destination: ")
    assert "unknown airport" in str(err.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"arrival": f"{DAY}T08:00:00+01:00"}, "record"),
        ({"departure": f"{DAY}T09:00:00"}, "departure"),
        ({"date": "2026-03-28"}, "record"),
        ({"number": "12345"}, "number"),
        ({"cabins": {"Y": -1, "J": 0}}, "cabins.Y"),
        ({"seats": 5}, "seats"),
    ],
)
def test_schedule_validation_problems(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ImportFailed) as err:
        parse_schedule(_lines(_flight(), {**_flight("102"), **change}))
    assert err.value.line == 2
    assert str(err.value).startswith(f"line 2: {field}: ")


def test_bad_tier_on_line_3_counts_blank_lines() -> None:
    lines = [_lines(_booking("AAAAA1"))[0], "\n", _lines(_booking("AAAAA2", tier="diamond"))[0]]
    with pytest.raises(ImportFailed) as err:
        parse_bookings(lines)
    assert err.value.line == 3
    assert str(err.value).startswith("line 3: passengers.0.tier: ")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (_booking("AAAAA3", pax=10), "passengers"),
        (_booking("aaaaa3"), "locator"),
        ({**_booking("AAAAA3"), "segments": []}, "segments"),
        ('{"locator": "AAAAA3",', "record"),
    ],
)
def test_booking_validation_problems(record: dict[str, Any] | str, field: str) -> None:
    bad = record if isinstance(record, str) else json.dumps(record)
    with pytest.raises(ImportFailed) as err:
        parse_bookings([json.dumps(_booking("AAAAA1")), bad])
    assert (err.value.line, str(err.value).split(": ")[1]) == (2, field)


def test_contact_problems_are_reported_without_the_address() -> None:
    rec = _booking("AAAAA1")
    rec["passengers"][0]["contacts"][0]["address"] = "0034600000001"
    with pytest.raises(ImportFailed) as err:
        parse_bookings([json.dumps(rec)])
    assert str(err.value) == "line 1: passengers.0.contacts.0: address is not an E.164 phone number"
    rec = _booking("AAAAA1")
    rec["passengers"][0]["preferred_channels"] = ["push"]
    with pytest.raises(ImportFailed) as err:
        parse_bookings([json.dumps(rec)])
    assert "preferred_channels: no contact for push" in str(err.value)


def test_csv_schedule_matches_jsonl() -> None:
    rows = [
        "carrier,number,date,origin,destination,departure,arrival,aircraft,cabin_y,cabin_j\n",
        f"RB,100,{DAY},FRA,MAD,{DAY}T09:00:00+01:00,{DAY}T11:30:00+01:00,,150,12\n",
        "\n",
        f"RB,0102,{DAY},MAD,FRA,{DAY}T12:00:00+01:00,{DAY}T14:30:00+01:00,321,180,24\n",
    ]
    parsed = parse_schedule(rows, fmt="csv")
    expected = parse_schedule(_lines(_flight(), {**_flight("102", origin="MAD", destination="FRA", dep="12:00", arr="14:30", y=180, j=24), "aircraft": "321"}))
    assert parsed == expected
    rows[3] = rows[3].replace(",180,", ",many,")
    with pytest.raises(ImportFailed) as err:
        parse_schedule(rows, fmt="csv")
    assert (err.value.line, str(err.value).split(": ")[1]) == (4, "cabin_y")
    with pytest.raises(ImportFailed) as err:
        parse_schedule(["carrier,number\n"], fmt="csv")
    assert str(err.value) == "line 1: header: missing column date"


async def test_segment_on_unknown_flight_loads_nothing(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as s, s.begin():
        await import_schedule(s, parse_schedule(_lines(_flight("100"), _flight("102"))))
    bookings = parse_bookings(_lines(_booking("AAAAA1"), _booking("AAAAA2", numbers=("102",)), _booking("AAAAA3", numbers=("999",))))
    with pytest.raises(ImportFailed) as err:
        async with AsyncSession(engine) as s, s.begin():
            await import_bookings(s, bookings)
    assert err.value.line == 3
    assert str(err.value) == "line 3: segments.0: no flight RB999 on 2026-03-27 in the schedule"
    for model in (Booking, Passenger, ContactPoint, Segment, ConsentState, ConsentEvent):
        assert await _count(engine, model) == 0, model.__name__
    async with AsyncSession(engine) as s:
        assert await s.scalar(select(func.sum(Inventory.sold))) == 0


async def test_overselling_file_is_refused_at_the_line_that_oversells(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as s, s.begin():
        await import_schedule(s, parse_schedule(_lines(_flight("100", y=5, j=0), _flight("102"))))
    lines = _lines(
        _booking("AAAAA1", pax=2, numbers=("100",)),
        _booking("AAAAA2", pax=9, numbers=("102",)),
        _booking("AAAAA3", pax=2, numbers=("100",)),
        _booking("AAAAA4", pax=2, numbers=("100",)),
    )
    with pytest.raises(ImportFailed) as err:
        async with AsyncSession(engine) as s, s.begin():
            await import_bookings(s, parse_bookings(lines))
    assert err.value.line == 4
    assert "segments.0: cabin Y would be oversold (capacity 5, already taken 0)" in str(err.value)
    assert await _count(engine, Booking) == 0
    async with AsyncSession(engine) as s:
        assert await s.scalar(select(func.sum(Inventory.sold))) == 0
    async with AsyncSession(engine) as s, s.begin():
        await import_bookings(s, parse_bookings(lines[:3]))
    async with AsyncSession(engine) as s:
        sold = dict((await s.execute(select(Flight.number, Inventory.sold).select_from(Inventory).join(Flight).where(Inventory.cabin == "Y"))).all())
    assert sold == {"100": 4, "102": 9}


async def test_cancelled_segments_take_no_seat(sqlite_engine: AsyncEngine) -> None:
    rec = _booking("AAAAA1", pax=3)
    rec["segments"][0]["status"] = "HX"
    async with AsyncSession(sqlite_engine) as s, s.begin():
        await import_schedule(s, parse_schedule(_lines(_flight("100", y=1))))
        report = await import_bookings(s, parse_bookings(_lines(rec)))
    assert report.segments == 1
    async with AsyncSession(sqlite_engine) as s:
        assert await s.scalar(select(func.sum(Inventory.sold))) == 0


async def test_existing_or_repeated_keys_are_refused(sqlite_engine: AsyncEngine) -> None:
    async with AsyncSession(sqlite_engine) as s, s.begin():
        await import_schedule(s, parse_schedule(_lines(_flight("100"))))
        await import_bookings(s, parse_bookings(_lines(_booking("AAAAA1"))))
    cases = [
        (import_schedule, parse_schedule(_lines(_flight("102"), _flight("100"))), "line 2: flight RB100 on 2026-03-27 already exists"),
        (import_schedule, parse_schedule(_lines(_flight("102"), _flight("102"))), "line 2: flight RB102 on 2026-03-27 already on line 1"),
        (import_bookings, parse_bookings(_lines(_booking("AAAAA2"), _booking("AAAAA1"))), "line 2: locator: AAAAA1 already exists"),
        (import_bookings, parse_bookings(_lines(_booking("AAAAA2"), _booking("AAAAA2"))), "line 2: locator: AAAAA2 already on line 1"),
    ]
    for importer, records, message in cases:
        with pytest.raises(ImportFailed) as err:
            async with AsyncSession(sqlite_engine) as s, s.begin():
                await importer(s, records)  # type: ignore[operator]
        assert str(err.value) == message
    assert await _count(sqlite_engine, Flight) == 1
    assert await _count(sqlite_engine, Booking) == 1


async def test_segments_out_of_travel_order_are_refused(sqlite_engine: AsyncEngine) -> None:
    async with AsyncSession(sqlite_engine) as s, s.begin():
        await import_schedule(
            s,
            parse_schedule(_lines(_flight("100"), _flight("101", origin="MAD", destination="FRA", dep="10:00", arr="12:30"))),
        )
    with pytest.raises(ImportFailed) as err:
        async with AsyncSession(sqlite_engine) as s, s.begin():
            await import_bookings(s, parse_bookings(_lines(_booking("AAAAA1", numbers=("100", "101")))))
    assert str(err.value) == "line 1: segments.1: departs before segments.0 arrives"


@pytest.mark.slow
async def test_a_full_network_of_about_fifty_thousand_passengers_imports(sqlite_engine: AsyncEngine) -> None:
    ds = generate(seed=5, start=START, passengers=50_000)
    _, report = await _load(sqlite_engine, ds)
    assert report.passengers == sum(len(b.passengers) for b in ds.bookings) >= 40_000
    assert await _count(sqlite_engine, Passenger) == report.passengers


# --- Hostile input: strict phone numbers, hidden characters, encodings (issue 15) ---


def _raw(*records: dict[str, Any], encoding: str = "utf-8") -> bytes:
    """A file as bytes, one JSON record per line, non-ASCII written as itself (not escaped)."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode(encoding)


def _with_address(locator: str, address: str) -> dict[str, Any]:
    rec = _booking(locator)
    rec["passengers"][0]["contacts"][0]["address"] = address
    return rec


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("+447700900204\n", "passengers.0.contacts.0.address: control character U+000A not allowed"),
        ("+34600000001\r", "passengers.0.contacts.0: address is not an E.164 phone number"),
        ("+34600000001\u2028", "passengers.0.contacts.0: address is not an E.164 phone number"),
        ("+34600000001\u200b", "passengers.0.contacts.0: address is not an E.164 phone number"),
        ("+447700900204", "passengers.0.contacts.0.address: not a valid phone number (no such number range for +44)"),
        ("+4402079460123", "passengers.0.contacts.0.address: not written in E.164 (a + and digits only, nothing before or after)"),
        ("+34 600 000 001", "passengers.0.contacts.0: address is not an E.164 phone number"),
        (" +34600000001", "passengers.0.contacts.0: address is not an E.164 phone number"),
        ("+34600000001 ", "passengers.0.contacts.0: address is not an E.164 phone number"),
    ],
)
def test_a_phone_number_must_exist_and_be_written_exactly_in_e164(address: str, problem: str) -> None:
    good, bad = _booking("AAAAA1"), _with_address("AAAAA2", address)
    for lines in (_lines(good, bad), _raw(good, bad).splitlines()):
        with pytest.raises(ImportFailed) as err:
            parse_bookings(lines)
        assert str(err.value) == f"line 2: {problem}"
        assert address.strip()[3:] not in str(err.value), "the number itself is never in the message"


def test_the_sms_contact_is_checked_as_strictly_as_whatsapp() -> None:
    rec = _booking("AAAAA1")
    rec["passengers"][0]["contacts"][1]["address"] = "+34600000001\n"
    with pytest.raises(ImportFailed) as err:
        parse_bookings(_lines(rec))
    assert str(err.value) == "line 1: passengers.0.contacts.1.address: control character U+000A not allowed"


@pytest.mark.parametrize(
    ("where", "value", "problem"),
    [
        ("given_name", "Ana\x00", "control character U+0000 not allowed"),
        ("family_name", "Ejem\nplo", "control character U+000A not allowed"),
        ("family_name", "Ejemplo\t", "control character U+0009 not allowed"),
        ("family_name", "Ejemplo\x85", "control character U+0085 not allowed"),
        ("given_name", "\u202eanA", "invisible format character U+202E not allowed"),
        ("given_name", "A\u200bna", "invisible format character U+200B not allowed"),
        ("given_name", "Ana\ue000", "private-use character U+E000 not allowed"),
        ("email", "ana@example.com\n", "control character U+000A not allowed"),
        ("group", "Grupo\x07", "control character U+0007 not allowed"),
    ],
)
def test_control_and_invisible_characters_are_refused_in_every_text_field(where: str, value: str, problem: str) -> None:
    rec = _booking("AAAAA2")
    if where == "group":
        rec["group"], path = value, "group"
    elif where == "email":
        rec["passengers"][0]["contacts"][2]["address"], path = value, "passengers.0.contacts.2.address"
    else:
        rec["passengers"][0][where], path = value, f"passengers.0.{where}"
    for lines in (_lines(_booking("AAAAA1"), rec), _raw(_booking("AAAAA1"), rec).splitlines()):
        with pytest.raises(ImportFailed) as err:
            parse_bookings(lines)
        assert str(err.value) == f"line 2: {path}: {problem}"


@pytest.mark.parametrize(
    "name",
    ["José", "Ana\u00a0María", "مهر\u200cانگیز", "Nour 👩\u200d✈️", "O'Brien-Smith", "Zoë"],
)
def test_real_names_with_joiners_and_non_ascii_letters_are_kept(name: str) -> None:
    rec = _booking("AAAAA1")
    rec["passengers"][0]["given_name"] = name
    for lines in (_lines(rec), _raw(rec).splitlines()):
        assert parse_bookings(lines)[0].passengers[0].given_name == name


def test_a_utf16_file_is_refused_at_line_1() -> None:
    text = "".join(_lines(_booking("AAAAA1"), _booking("AAAAA2")))
    with pytest.raises(ImportFailed) as err:
        parse_bookings(text.encode("utf-16").splitlines())
    assert str(err.value) == "line 1: record: the file is UTF-16 (byte-order mark); save it as UTF-8"
    with pytest.raises(ImportFailed) as err:
        parse_bookings(text.encode("utf-16-le").splitlines())
    assert str(err.value) == "line 1: record: NUL character (U+0000); is the file UTF-16? Save it as UTF-8"
    with pytest.raises(ImportFailed) as err:
        parse_schedule(text.encode("utf-16-be").splitlines(), fmt="csv")
    assert err.value.line == 1 and "UTF-16" in err.value.message


def test_a_latin1_file_is_refused_at_its_first_non_ascii_line() -> None:
    plain, accented = _booking("AAAAA1"), _booking("AAAAA2")
    accented["passengers"][0]["family_name"] = "Müller"
    with pytest.raises(ImportFailed) as err:
        parse_bookings(_raw(plain, plain | {"locator": "AAAAA3"}, accented, encoding="latin-1").splitlines())
    assert err.value.line == 3
    assert str(err.value).startswith("line 3: record: not UTF-8 (byte 0xFC, byte ")
    assert "Müller" not in str(err.value) and "ller" not in str(err.value)


def test_a_mixed_file_is_refused_at_the_line_in_the_other_encoding() -> None:
    utf8 = _booking("AAAAA1")
    utf8["passengers"][0]["family_name"] = "Müller"
    latin1 = _booking("AAAAA2")
    latin1["passengers"][0]["family_name"] = "Gérard"
    raw = _raw(utf8) + b"\n" + _raw(latin1, encoding="latin-1") + _raw(_booking("AAAAA3"))
    with pytest.raises(ImportFailed) as err:
        parse_bookings(raw.splitlines())
    assert err.value.line == 3  # the blank line 2 is counted
    assert "not UTF-8 (byte 0xE9" in str(err.value)


def test_a_utf8_byte_order_mark_and_crlf_line_ends_are_accepted() -> None:
    rec = _booking("AAAAA1")
    rec["passengers"][0]["family_name"] = "Müller"
    raw = b"\xef\xbb\xbf" + _raw(rec, _booking("AAAAA2")).replace(b"\n", b"\r\n")
    parsed = parse_bookings(raw.splitlines())
    assert [b.locator for b in parsed] == ["AAAAA1", "AAAAA2"]
    assert parsed[0].passengers[0].family_name == "Müller"
    rows = b"\xef\xbb\xbfcarrier,number,date,origin,destination,departure,arrival,aircraft,cabin_y,cabin_j\r\n"
    rows += f"RB,100,{DAY},FRA,MAD,{DAY}T09:00:00+01:00,{DAY}T11:30:00+01:00,,150,12\r\n".encode()
    assert len(parse_schedule(rows.splitlines(), fmt="csv")) == 1


def test_a_csv_schedule_with_a_nul_or_latin1_byte_is_refused_at_its_line() -> None:
    header = b"carrier,number,date,origin,destination,departure,arrival,aircraft,cabin_y,cabin_j\n"
    row = f"RB,100,{DAY},FRA,MAD,{DAY}T09:00:00+01:00,{DAY}T11:30:00+01:00,,150,12\n".encode()
    with pytest.raises(ImportFailed) as err:
        parse_schedule((header + row + row.replace(b"RB,100", b"RB,1\x0002")).splitlines(), fmt="csv")
    assert err.value.line == 3 and "NUL" in err.value.message
    with pytest.raises(ImportFailed) as err:
        parse_schedule((header + row.replace(b",,", b",\xe9,")).splitlines(), fmt="csv")
    assert str(err.value).startswith("line 2: record: not UTF-8 (byte 0xE9")


MALFORMED: dict[str, tuple[bytes, int]] = {
    "trailing newline in a phone": (_raw(_booking("AAAAA1"), _with_address("AAAAA2", "+34600000001\n")), 2),
    "NUL in a name": (_raw(_booking("AAAAA1"), _booking("AAAAA2"), _booking("AAAAA3") | {"group": "G\x00"}), 3),
    "invalid phone range": (_raw(_booking("AAAAA1"), _with_address("AAAAA2", "+447700900204")), 2),
    "UTF-16": ("".join(_lines(_booking("AAAAA1"), _booking("AAAAA2"))).encode("utf-16"), 1),
    "Latin-1 line": (_raw(_booking("AAAAA1")) + _raw(_booking("AAAAA2") | {"group": "Équipe"}, encoding="latin-1"), 2),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_a_malformed_file_loads_nothing_and_its_fixed_copy_loads_whole(engine: AsyncEngine, case: str) -> None:
    async with AsyncSession(engine) as s, s.begin():
        await import_schedule(s, parse_schedule(_lines(_flight("100"))))
    raw, line = MALFORMED[case]
    with pytest.raises(ImportFailed) as err:
        async with AsyncSession(engine) as s, s.begin():
            await import_bookings(s, parse_bookings(raw.splitlines()))
    assert err.value.line == line
    for model in (Booking, Passenger, ContactPoint, Segment, ConsentState, ConsentEvent):
        assert await _count(engine, model) == 0, model.__name__
    async with AsyncSession(engine) as s:
        assert await s.scalar(select(func.sum(Inventory.sold))) == 0

    fixed = _raw(_booking("AAAAA1"), _booking("AAAAA2"), _booking("AAAAA3") | {"group": "Équipe"})
    async with AsyncSession(engine) as s, s.begin():
        report = await import_bookings(s, parse_bookings(fixed.splitlines()))
    assert report.bookings == 3
    async with AsyncSession(engine) as s:
        phones = (await s.scalars(select(ContactPoint.address).where(ContactPoint.channel != "email"))).all()
        groups = (await s.scalars(select(Booking.group_name).where(Booking.group_name.is_not(None)))).all()
    assert phones and set(phones) == {"+34600000001"}
    assert groups == ["Équipe"]


async def test_the_import_command_names_the_line_of_a_badly_encoded_file(
    empty_db_url: str,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    pii_keyring: crypto.Keyring,
) -> None:
    import asyncio

    from gateway.cli.main import main as cli

    async def rebook(*args: str) -> tuple[int, str, str]:
        code = await asyncio.to_thread(cli, list(args))
        out, err = capsys.readouterr()
        return code, out, err

    monkeypatch.setenv("REBOOK_DATABASE_URL", empty_db_url)
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    schedule = tmp_path / "schedule.jsonl"
    schedule.write_bytes(_raw(_flight("100")))
    files = {
        "latin1.jsonl": (_raw(_booking("AAAAA1"), _booking("AAAAA2")) + _raw(_booking("AAAAA3") | {"group": "Équipe"}, encoding="latin-1"), 3),
        "utf16.jsonl": ("".join(_lines(_booking("AAAAA1"))).encode("utf-16"), 1),
        "newline.jsonl": (_raw(_with_address("AAAAA1", "+34600000001\n")), 1),
    }
    try:
        assert (await rebook("db", "upgrade"))[0] == 0
        assert (await rebook("import", "schedule", str(schedule)))[0] == 0
        for name, (raw, line) in files.items():
            path = tmp_path / name
            path.write_bytes(raw)
            code, _, err = await rebook("import", "bookings", str(path))
            assert code == 1, (name, err)
            assert f": line {line}: " in err and "nothing was loaded from this file" in err, err
            assert "Traceback" not in err and "600000001" not in err
        good = tmp_path / "good.jsonl"
        good.write_bytes(_raw(_booking("AAAAA1"), _booking("AAAAA2"), _booking("AAAAA3") | {"group": "Équipe"}))
        code, out, err = await rebook("import", "bookings", str(good))
        assert code == 0, err  # the same locators again: nothing of the refused files was kept
        assert re.search(r"^\s*bookings\s+3\s*$", out, re.M), out  # the summary table
    finally:
        crypto.configure(pii_keyring)


@pytest.mark.parametrize("seed", [7, 42])
def test_every_generated_phone_number_passes_the_strict_import(seed: int, tmp_path: Any) -> None:
    from rebooking_core.generate import write_jsonl

    full = generate(seed=seed, start=START)
    _, bookings = write_jsonl(full, tmp_path)
    assert parse_bookings(bookings.read_bytes().splitlines()) == full.bookings
