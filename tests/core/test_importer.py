"""Importing schedule and booking files: all-or-nothing, line-numbered errors, encrypted PII, exact seat counts."""

from __future__ import annotations

import datetime as dt
import json
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
