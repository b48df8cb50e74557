"""Small builders for flights, bookings and disruptions in core tests."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.models import (
    Booking,
    Disruption,
    DisruptionFlight,
    Flight,
    Inventory,
    Passenger,
    Segment,
)

T0 = dt.datetime(2026, 6, 1, 6, 0, tzinfo=dt.UTC)
_numbers = itertools.count(100)
_locators = itertools.count(1)


def at(hours: float) -> dt.datetime:
    """T0 plus some hours, for readable schedules."""
    return T0 + dt.timedelta(hours=hours)


async def add_flight(
    session: AsyncSession,
    *,
    origin: str,
    destination: str,
    dep: dt.datetime,
    minutes: int = 120,
    carrier: str = "LH",
    number: str | None = None,
    capacity: Mapping[str, int] | None = None,
    sold: Mapping[str, int] | None = None,
    held: Mapping[str, int] | None = None,
    status: str = "scheduled",
    est_dep: dt.datetime | None = None,
    est_arr: dt.datetime | None = None,
) -> Flight:
    flight = Flight(
        carrier=carrier,
        number=number or str(next(_numbers)),
        service_date=dep.date(),
        origin=origin,
        destination=destination,
        dep_utc=dep,
        arr_utc=dep + dt.timedelta(minutes=minutes),
        est_dep_utc=est_dep,
        est_arr_utc=est_arr,
        status=status,
    )
    session.add(flight)
    await session.flush()
    for cabin, cap in (capacity or {"Y": 150}).items():
        session.add(
            Inventory(
                flight_id=flight.id,
                cabin=cabin,
                capacity=cap,
                sold=(sold or {}).get(cabin, 0),
                held=(held or {}).get(cabin, 0),
            )
        )
    await session.flush()
    return flight


async def add_booking(
    session: AsyncSession,
    *,
    flights: Sequence[Flight],
    pax: int = 1,
    tiers: Sequence[int] | None = None,
    ssr: Sequence[str | None] | None = None,
    group_name: str | None = None,
    cabin: str = "Y",
    contact: int | None = 0,
    language: str = "en",
    sell: bool = True,
) -> Booking:
    """A booking of `pax` passengers on `flights` (in order); sells their seats if `sell`."""
    booking = Booking(locator=f"B{next(_locators):05d}", group_name=group_name, created_at=T0)
    session.add(booking)
    await session.flush()
    for i in range(pax):
        session.add(
            Passenger(
                booking_id=booking.id,
                given_name=f"Given{i}",
                family_name="Family",
                tier=(tiers or [0] * pax)[i],
                language=language,
                ssr=(ssr or [None] * pax)[i],
                is_contact=contact == i,
            )
        )
    for seq, flight in enumerate(flights, start=1):
        session.add(Segment(booking_id=booking.id, flight_id=flight.id, cabin=cabin, seq=seq))
        if sell:
            await session.execute(
                update(Inventory)
                .where(Inventory.flight_id == flight.id, Inventory.cabin == cabin)
                .values(sold=Inventory.sold + pax)
            )
    await session.flush()
    return booking


async def add_disruption(
    session: AsyncSession,
    *,
    flights: Sequence[Flight],
    kind: str = "cancelled",
    reason: str | None = None,
) -> Disruption:
    """Record a disruption; cancelled flights get status cancelled."""
    disruption = Disruption(kind=kind, reason=reason, created_at=T0)
    session.add(disruption)
    await session.flush()
    for flight in flights:
        session.add(DisruptionFlight(disruption_id=disruption.id, flight_id=flight.id))
        if kind == "cancelled":
            flight.status = "cancelled"
        else:
            flight.status = "delayed"
    await session.flush()
    return disruption


async def counters(session: AsyncSession, flight_id: int, cabin: str = "Y") -> tuple[int, int, int]:
    """(capacity, sold, held) read fresh from the database."""
    row = (
        await session.execute(
            select(Inventory.capacity, Inventory.sold, Inventory.held).where(
                Inventory.flight_id == flight_id, Inventory.cabin == cabin
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def segments_of(session: AsyncSession, booking_id: int) -> list[tuple[int, int, str]]:
    """(seq, flight_id, status) of a booking's segments, by seq then status."""
    rows = await session.execute(
        select(Segment.seq, Segment.flight_id, Segment.status)
        .where(Segment.booking_id == booking_id)
        .order_by(Segment.seq, Segment.status)
    )
    return [(int(a), int(b), str(c)) for a, b, c in rows]
