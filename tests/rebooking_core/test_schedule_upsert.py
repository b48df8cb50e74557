"""Delta imports of the schedule: add, change times/aircraft/capacity, remove unbooked flights; refusals load nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rebooking_core.booking_upsert import upsert_bookings
from rebooking_core.importer import ImportFailed, import_schedule, parse_bookings, parse_schedule
from rebooking_core.models import Flight, Inventory
from rebooking_core.schedule_upsert import ScheduleUpsertReport, upsert_schedule
from tests.rebooking_core.test_booking_upsert import booking

DAY = "2026-03-27"


def flight(
    number: str, *, y: int = 150, j: int = 4, dep: str = "09:00", arr: str = "11:30", **over: Any
) -> dict[str, Any]:
    return {
        "carrier": "RB",
        "number": number,
        "date": DAY,
        "origin": "FRA",
        "destination": "MAD",
        "departure": f"{DAY}T{dep}:00+01:00",
        "arrival": f"{DAY}T{arr}:00+01:00",
        "cabins": {"Y": y, "J": j},
        **over,
    }


def _lines(*records: dict[str, Any]) -> list[str]:
    return [json.dumps(r) + "\n" for r in records]


async def _upsert(engine: AsyncEngine, *records: dict[str, Any]) -> ScheduleUpsertReport:
    async with AsyncSession(engine) as s, s.begin():
        return await upsert_schedule(s, parse_schedule(_lines(*records)))


async def _flights(engine: AsyncEngine) -> dict[str, tuple[str, str, dict[str, tuple[int, int]]]]:
    async with AsyncSession(engine) as s:
        out: dict[str, tuple[str, str, dict[str, tuple[int, int]]]] = {}
        for f in (await s.scalars(select(Flight))).all():
            inv = {
                i.cabin: (i.capacity, i.sold)
                for i in (
                    await s.scalars(select(Inventory).where(Inventory.flight_id == f.id))
                ).all()
            }
            out[f.number] = (f.dep_utc.strftime("%H:%M"), f.aircraft, inv)
        return out


async def _book(engine: AsyncEngine, *records: dict[str, Any]) -> None:
    async with AsyncSession(engine) as s, s.begin():
        await upsert_bookings(s, parse_bookings(_lines(*records)))


async def test_add_change_and_remove_flights(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as s, s.begin():
        await import_schedule(
            s, parse_schedule(_lines(flight("100"), flight("102"), flight("104")))
        )
    await _book(engine, booking("AAAAA1", 1, pax=2, numbers=("100",)))
    report = await _upsert(
        engine,
        flight(
            "100", dep="10:00", arr="12:30", aircraft="321", y=160
        ),  # retimed, new aircraft, more seats
        flight("102"),  # unchanged
        flight("104", status="removed"),  # no bookings
        flight("106"),  # new
    )
    assert report == ScheduleUpsertReport(added=1, changed=1, removed=1, unchanged=1)
    assert await _flights(engine) == {
        "100": ("09:00", "321", {"Y": (160, 2), "J": (4, 0)}),
        "102": ("08:00", "320", {"Y": (150, 0), "J": (4, 0)}),
        "106": ("08:00", "320", {"Y": (150, 0), "J": (4, 0)}),
    }


async def test_capacity_below_sold_or_removing_a_booked_flight_refuses_the_file(
    engine: AsyncEngine,
) -> None:
    async with AsyncSession(engine) as s, s.begin():
        await import_schedule(s, parse_schedule(_lines(flight("100", y=5), flight("102"))))
    await _book(engine, booking("AAAAA1", 1, pax=3, numbers=("100",)))
    before = await _flights(engine)
    with pytest.raises(ImportFailed) as err:
        await _upsert(engine, flight("102", y=90), flight("108"), flight("100", y=2))
    assert (
        str(err.value)
        == "line 3: cabins.Y: 2 seats is fewer than the 3 sold and 0 held on this flight"
    )
    with pytest.raises(ImportFailed) as err:
        await _upsert(engine, flight("100", status="removed"))
    assert (
        str(err.value)
        == "line 1: status: flight RB100 on 2026-03-27 has booking segments; it cannot be removed"
    )
    with pytest.raises(ImportFailed) as err:
        await _upsert(engine, flight("100", origin="MUC"))
    assert err.value.line == 1 and "route cannot change" in str(err.value)
    assert await _flights(engine) == before
    # Down to exactly what is sold is allowed.
    assert (await _upsert(engine, flight("100", y=3))).changed == 1


async def test_insert_mode_refuses_a_removal_row(engine: AsyncEngine) -> None:
    with pytest.raises(ImportFailed) as err:
        async with AsyncSession(engine) as s, s.begin():
            await import_schedule(s, parse_schedule(_lines(flight("100", status="removed"))))
    assert str(err.value) == "line 1: status: removed is for --mode upsert"


def test_csv_schedule_takes_an_optional_status_column() -> None:
    rows = parse_schedule(
        [
            "carrier,number,date,origin,destination,departure,arrival,cabin_y,cabin_j,status\n",
            f"RB,100,{DAY},FRA,MAD,{DAY}T09:00:00+01:00,{DAY}T11:30:00+01:00,150,4,removed\n",
            f"RB,102,{DAY},FRA,MAD,{DAY}T09:00:00+01:00,{DAY}T11:30:00+01:00,150,4,\n",
        ],
        fmt="csv",
    )
    assert [r.status for r in rows] == ["removed", "scheduled"]
