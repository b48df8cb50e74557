"""A small airline in the built-in tables, on both databases, for the airline ports' tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import rebooking_core.airline.tables  # noqa: F401  (register the ports' tables before create_all)
from infra.db import Database
from rebooking_core.airline.ports import FlightKey
from rebooking_core.airline.sql import SqlStore
from rebooking_core.models import Booking, Flight, Inventory, Passenger, Segment

NOW = dt.datetime(2031, 3, 1, 8, 0, tzinfo=dt.UTC)
DAY = dt.date(2031, 3, 1)
LX100 = FlightKey("LX", "100", DAY)
LX102 = FlightKey("LX", "102", DAY)
LX104 = FlightKey("LX", "104", DAY)


@dataclass
class Airline:
    db: Database
    store: SqlStore
    flights: dict[FlightKey, int]
    locator: str
    passenger_ids: list[int]

    async def counters(self, key: FlightKey, cabin: str = "Y") -> tuple[int, int]:
        """(sold, held) of one cabin, read straight from the table."""
        async with self.db.reading() as s:
            row = await s.get(Inventory, (self.flights[key], cabin))
            assert row is not None
            return row.sold, row.held


@pytest.fixture
async def airline(engine: AsyncEngine) -> AsyncIterator[Airline]:
    """Three ZRH-LHR flights (Y: 10 seats, LX102 with 2 free), a two-passenger booking on LX100."""
    db = Database(engine.url.render_as_string(hide_password=False))
    flights: dict[FlightKey, int] = {}
    async with db.transaction() as s:
        for hour, (key, sold) in enumerate([(LX100, 4), (LX102, 8), (LX104, 0)]):
            dep = NOW + dt.timedelta(hours=2 + 3 * hour)
            flight = Flight(
                carrier=key.carrier,
                number=key.number,
                service_date=key.date,
                origin="ZRH",
                destination="LHR",
                dep_utc=dep,
                arr_utc=dep + dt.timedelta(hours=2),
            )
            s.add(flight)
            await s.flush()
            flights[key] = flight.id
            s.add(Inventory(flight_id=flight.id, cabin="Y", capacity=10, sold=sold, held=0))
            s.add(Inventory(flight_id=flight.id, cabin="J", capacity=2, sold=0, held=0))
        booking = Booking(locator="ABC123", created_at=NOW)
        s.add(booking)
        await s.flush()
        s.add(
            Segment(booking_id=booking.id, flight_id=flights[LX100], cabin="Y", seq=1, status="HK")
        )
        people = [
            Passenger(
                booking_id=booking.id,
                given_name="Ada",
                family_name="Byron",
                tier=2,
                loyalty_status="Gold",
                miles=48_000,
                preferences={"seat": "aisle"},
            ),
            Passenger(booking_id=booking.id, tier=0),
        ]
        s.add_all(people)
        await s.flush()
        ids = [p.id for p in people]
    try:
        yield Airline(db, SqlStore(db, clock=lambda: NOW), flights, "ABC123", ids)
    finally:
        await db.dispose()
