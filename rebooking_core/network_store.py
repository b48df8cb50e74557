"""Loading a `NetworkSnapshot` from the database: the flights and free seats of a time window.

One query of seats and times per load; the legs are read again only when no cached schedule of
a window around the one asked for shows the same times (`rebooking_core.network.ScheduleCache`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, bindparam, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.models import Flight, Inventory
from rebooking_core.network import Leg, NetworkSnapshot, Schedule, ScheduleCache
from rebooking_core.types import FlightStatus

__all__ = ["load_network"]


#: A new schedule's window reaches this far around the one asked for, so the next batches (whose
#: bookings leave a little earlier or later) find it cached.
_GRID = dt.timedelta(hours=6)
_SLACK = dt.timedelta(hours=12)


def _widened(start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return epoch + (start - epoch) // _GRID * _GRID, epoch + -(-(end + _SLACK - epoch) // _GRID) * _GRID


async def load_network(
    session: AsyncSession,
    *,
    start: dt.datetime,
    end: dt.datetime,
    schedules: ScheduleCache | None = None,
) -> NetworkSnapshot:
    """Every operating flight departing in [start, end] with its free seats.

    One query of seats and times; a second for the legs only when no cached schedule of a window
    around [start, end] matches those times.
    """
    schedules = schedules if schedules is not None else ScheduleCache(size=1)
    cached = schedules.covering(start, end)
    window = cached.window if cached is not None and cached.window is not None else _widened(start, end)
    times, free = await _seats(session, *window)
    schedule = cached
    if schedule is None or schedule.times != times:
        schedule = Schedule(await _legs(session, *window), window=window, times=times)
        schedules.keep(schedule, replaces=cached)
    return NetworkSnapshot(schedule, free, earliest=start, latest=end)


_DEP = func.coalesce(Flight.est_dep_utc, Flight.dep_utc)
_ARR = func.coalesce(Flight.est_arr_utc, Flight.arr_utc)
_OPERATING = (
    Flight.status != FlightStatus.CANCELLED.value,
    _DEP.between(bindparam("start"), bindparam("end")),
)
#: Free seats per leg and cabin, and each leg's times as stored (no conversion: they are only compared).
_SEATS = (
    select(
        Inventory.flight_id,
        type_coerce(_DEP, DateTime()),
        type_coerce(_ARR, DateTime()),
        Inventory.cabin,
        Inventory.capacity - Inventory.sold - Inventory.held,
    )
    .join(Flight, Inventory.flight_id == Flight.id)
    .where(*_OPERATING)
)
_LEGS = select(
    Flight.id,
    Flight.carrier,
    Flight.number,
    Flight.service_date,
    Flight.origin,
    Flight.destination,
    _DEP.label("dep"),
    _ARR.label("arr"),
).where(*_OPERATING)


async def _seats(
    session: AsyncSession, start: dt.datetime, end: dt.datetime
) -> tuple[dict[int, tuple[object, object]], dict[tuple[int, str], int]]:
    times: dict[int, tuple[object, object]] = {}
    free: dict[tuple[int, str], int] = {}
    # Plain tuples: every batch of the fan-out loads a couple of thousand rows here.
    for fid, dep, arr, cabin, seats in await session.execute(_SEATS, {"start": start, "end": end}):
        times[fid] = (dep, arr)
        free[(fid, cabin)] = seats
    return times, free


async def _legs(session: AsyncSession, start: dt.datetime, end: dt.datetime) -> list[Leg]:
    return [Leg(*row) for row in await session.execute(_LEGS, {"start": start, "end": end})]
