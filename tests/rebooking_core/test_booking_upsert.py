"""Delta imports of bookings: add, change, cancel by locator and version; stale and unchanged rows; whole file or nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from consent.models import ConsentEvent, ConsentState
from rebooking_core.booking_upsert import Outcome, UpsertReport, upsert_bookings
from rebooking_core.importer import (
    ImportFailed,
    import_bookings,
    import_schedule,
    parse_bookings,
    parse_schedule,
)
from rebooking_core.models import Booking, ContactPoint, Flight, Inventory, Passenger, Segment

DAY = "2026-03-27"


def _flight(number: str, *, y: int = 150, dep: str = "09:00", arr: str = "11:30") -> dict[str, Any]:
    return {
        "carrier": "RB",
        "number": number,
        "date": DAY,
        "origin": "FRA",
        "destination": "MAD",
        "departure": f"{DAY}T{dep}:00+01:00",
        "arrival": f"{DAY}T{arr}:00+01:00",
        "cabins": {"Y": y, "J": 4},
    }


def booking(
    locator: str,
    version: int | None,
    *,
    pax: int = 1,
    numbers: tuple[str, ...] = ("100",),
    phone: str = "+34600000001",
    **over: Any,
) -> dict[str, Any]:
    """A booking record in the import schema (also used by the HTTP and conversation tests)."""
    people = [
        {
            "given_name": f"Ana{i}",
            "family_name": "Ejemplo",
            "language": "es",
            "contacts": [
                {
                    "channel": "sms",
                    "address": phone,
                    "consent": {"service": True, "marketing": False},
                }
            ]
            if i == 0
            else [],
        }
        for i in range(pax)
    ]
    record: dict[str, Any] = {
        "locator": locator,
        "passengers": people,
        "segments": [
            {"carrier": "RB", "number": n, "date": DAY, "cabin": "Y", "status": "HK"}
            for n in numbers
        ],
        **over,
    }
    if version is not None:
        record["version"] = version
    return record


def _lines(*records: dict[str, Any]) -> list[str]:
    return [json.dumps(r) + "\n" for r in records]


async def _schedule(engine: AsyncEngine, *flights: dict[str, Any]) -> None:
    async with AsyncSession(engine) as s, s.begin():
        await import_schedule(s, parse_schedule(_lines(*flights)))


async def _upsert(engine: AsyncEngine, *records: dict[str, Any]) -> UpsertReport:
    async with AsyncSession(engine) as s, s.begin():
        return await upsert_bookings(s, parse_bookings(_lines(*records)))


async def _sold(engine: AsyncEngine) -> dict[str, int]:
    async with AsyncSession(engine) as s:
        rows = await s.execute(
            select(Flight.number, Inventory.sold)
            .join(Flight, Flight.id == Inventory.flight_id)
            .where(Inventory.cabin == "Y")
        )
        return {number: int(sold) for number, sold in rows}


async def _segments(engine: AsyncEngine, locator: str) -> list[tuple[str, str]]:
    async with AsyncSession(engine) as s:
        rows = await s.execute(
            select(Flight.number, Segment.status)
            .join(Segment, Segment.flight_id == Flight.id)
            .join(Booking, Booking.id == Segment.booking_id)
            .where(Booking.locator == locator)
            .order_by(Segment.seq)
        )
        return [(n, st) for n, st in rows]


async def _count(engine: AsyncEngine, model: type[Any]) -> int:
    async with AsyncSession(engine) as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_add_change_cancel_move_seat_counters(engine: AsyncEngine) -> None:
    await _schedule(engine, _flight("100"), _flight("102", dep="13:00", arr="15:30"))
    first = await _upsert(engine, booking("AAAAA1", 1, pax=2), booking("AAAAA2", 1))
    assert (first.added, first.changed, first.cancelled) == (2, 0, 0)
    assert await _sold(engine) == {"100": 3, "102": 0}

    # AAAAA1 moves to flight 102 and gains a passenger; AAAAA2 is cancelled; AAAAA3 is new.
    second = await _upsert(
        engine,
        booking("AAAAA1", 2, pax=3, numbers=("102",)),
        booking("AAAAA2", 2, status="cancelled"),
        booking("AAAAA3", 1, numbers=("100",)),
    )
    assert (second.added, second.changed, second.cancelled, second.unchanged, second.stale) == (
        1,
        1,
        1,
        0,
        0,
    )
    assert [o for _, o, _ in second.rows] == [Outcome.CHANGED, Outcome.CANCELLED, Outcome.ADDED]
    assert await _sold(engine) == {"100": 1, "102": 3}
    assert await _segments(engine, "AAAAA1") == [("102", "HK")]
    assert await _segments(engine, "AAAAA2") == [("100", "HX")]
    assert await _count(engine, Passenger) == 3 + 1 + 1
    async with AsyncSession(engine) as s:
        versions = dict((await s.execute(select(Booking.locator, Booking.version))).all())
    assert versions == {"AAAAA1": 2, "AAAAA2": 2, "AAAAA3": 1}


async def test_all_segments_hx_counts_as_cancelled_and_gives_seats_back(
    engine: AsyncEngine,
) -> None:
    await _schedule(engine, _flight("100"))
    await _upsert(engine, booking("AAAAA1", 1, pax=2))
    gone = booking("AAAAA1", 2, pax=2)
    gone["segments"][0]["status"] = "HX"
    report = await _upsert(engine, gone)
    assert report.cancelled == 1 and report.changed_ids
    assert await _sold(engine) == {"100": 0}


async def test_stale_and_unchanged_versions_change_nothing(engine: AsyncEngine) -> None:
    await _schedule(engine, _flight("100"), _flight("102", dep="13:00", arr="15:30"))
    await _upsert(engine, booking("AAAAA1", 5), booking("AAAAA2", 5))
    report = await _upsert(
        engine,
        booking("AAAAA1", 5),  # same version, same content
        booking("AAAAA2", 4, numbers=("102",)),  # older
        booking("AAAAA3", 1),
    )
    assert (report.unchanged, report.stale, report.added, report.changed) == (1, 1, 1, 0)
    same_version_other_content = await _upsert(engine, booking("AAAAA1", 5, numbers=("102",)))
    assert same_version_other_content.stale == 1 and same_version_other_content.changed_ids == ()
    assert await _segments(engine, "AAAAA2") == [("100", "HK")]
    assert await _sold(engine) == {"100": 3, "102": 0}
    # A newer version with the same content only moves the version.
    bumped = await _upsert(engine, booking("AAAAA1", 6))
    assert bumped.unchanged == 1 and bumped.changed_ids == ()
    async with AsyncSession(engine) as s:
        assert await s.scalar(select(Booking.version).where(Booking.locator == "AAAAA1")) == 6


async def test_a_booking_loaded_by_insert_is_changed_by_any_versioned_row(
    engine: AsyncEngine,
) -> None:
    await _schedule(engine, _flight("100"), _flight("102", dep="13:00", arr="15:30"))
    async with AsyncSession(engine) as s, s.begin():
        await import_bookings(s, parse_bookings(_lines(booking("AAAAA1", None))))
    report = await _upsert(engine, booking("AAAAA1", 1, numbers=("102",)))
    assert report.changed == 1
    assert await _sold(engine) == {"100": 0, "102": 1}


async def test_contacts_follow_the_file_and_consent_is_kept_where_the_ledger_has_it(
    engine: AsyncEngine,
) -> None:
    await _schedule(engine, _flight("100"))
    await _upsert(engine, booking("AAAAA1", 1))
    changed = booking("AAAAA1", 2, phone="+34600000002")
    changed["passengers"][0]["contacts"].append(
        {
            "channel": "email",
            "address": "ana@example.com",
            "consent": {"service": True, "marketing": True},
        }
    )
    changed["passengers"][0]["contacts"][0]["consent"] = {"service": False, "marketing": True}
    await _upsert(engine, changed)
    async with AsyncSession(engine) as s:
        contacts = {c.channel: c.address for c in (await s.scalars(select(ContactPoint))).all()}
        states = {
            (c.channel, c.purpose): c.state for c in (await s.scalars(select(ConsentState))).all()
        }
    assert contacts == {"sms": "+34600000002", "email": "ana@example.com"}
    # sms consent stays as the ledger had it (a file never undoes a passenger's own choice); email is new.
    assert states == {
        ("sms", "service"): "granted",
        ("sms", "marketing"): "withdrawn",
        ("email", "service"): "granted",
        ("email", "marketing"): "granted",
    }
    assert await _count(engine, ConsentEvent) == 4
    # Dropping the email contact removes it.
    await _upsert(engine, booking("AAAAA1", 3))
    assert await _count(engine, ContactPoint) == 1


async def test_a_change_that_would_oversell_refuses_the_whole_file(engine: AsyncEngine) -> None:
    await _schedule(engine, _flight("100", y=3), _flight("102", y=3, dep="13:00", arr="15:30"))
    await _upsert(
        engine,
        booking("AAAAA1", 1, pax=2, numbers=("100",)),
        booking("AAAAA2", 1, pax=2, numbers=("102",)),
    )
    with pytest.raises(ImportFailed) as err:
        await _upsert(
            engine,
            booking("AAAAA3", 1, numbers=("102",)),
            booking("AAAAA1", 2, pax=2, numbers=("102",)),
        )
    assert err.value.line == 2
    assert "cabin Y would be oversold (capacity 3, already taken 2)" in str(err.value)
    assert await _sold(engine) == {"100": 2, "102": 2}
    assert await _segments(engine, "AAAAA1") == [("100", "HK")]
    assert await _count(engine, Booking) == 2


async def test_a_malformed_or_unversioned_row_loads_nothing(engine: AsyncEngine) -> None:
    await _schedule(engine, _flight("100"))
    await _upsert(engine, booking("AAAAA1", 1))
    with pytest.raises(ImportFailed) as err:
        parse_bookings([*_lines(booking("AAAAA2", 1)), '{"locator": "AAAAA3", "version": 1}\n'])
    assert err.value.line == 2
    with pytest.raises(ImportFailed) as err:
        await _upsert(engine, booking("AAAAA2", 1), booking("AAAAA1", None))
    assert (
        str(err.value)
        == "line 2: version: required by --mode upsert (the PSS's version of the PNR)"
    )
    with pytest.raises(ImportFailed) as err:
        await _upsert(
            engine, booking("AAAAA1", 2, numbers=("100",)), booking("AAAAA4", 1, numbers=("999",))
        )
    assert str(err.value) == "line 2: segments.0: no flight RB999 on 2026-03-27 in the schedule"
    with pytest.raises(ImportFailed) as err:
        await _upsert(engine, booking("AAAAA1", 2), booking("AAAAA1", 3))
    assert str(err.value) == "line 2: locator: AAAAA1 already on line 1"
    assert await _count(engine, Booking) == 1
    assert await _sold(engine) == {"100": 1}


async def test_a_change_may_not_drop_passengers(engine: AsyncEngine) -> None:
    await _schedule(engine, _flight("100"))
    await _upsert(engine, booking("AAAAA1", 1, pax=2))
    with pytest.raises(ImportFailed) as err:
        await _upsert(engine, booking("AAAAA1", 2, pax=1))
    assert err.value.line == 1 and "may not drop passengers" in str(err.value)
    assert await _sold(engine) == {"100": 2}
