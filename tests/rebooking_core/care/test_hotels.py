"""The built-in hotel table: rooms counted per night by a guarded UPDATE, never oversold, a key answered once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from infra.db import Database
from rebooking_core.care.hotels import Allotment, TableHotels
from rebooking_core.care.models import HotelReservation, HotelRoom
from rebooking_core.care.ports import HotelBooking, HotelInventory

NOW = dt.datetime(2026, 12, 8, 18, 0, tzinfo=dt.UTC)
NIGHT = dt.date(2026, 12, 8)
HOTELS = (
    Allotment("FRA", "Airport Inn", 2),
    Allotment("FRA", "Runway Lodge", 1),
    Allotment("MUC", "Isar Hotel", 5),
)


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[Database]:
    """The tables on each database, through `Database` (SQLite write transactions take its lock, as in production)."""
    database = Database(engine.url.render_as_string(hide_password=False), pool_size=20)
    yield database
    await database.dispose()


async def _reserve(
    db: Database, key: str, *, airport: str = "FRA", night: dt.date = NIGHT
) -> HotelBooking | None:
    async with db.transaction() as s:
        hotels: HotelInventory = TableHotels(s, HOTELS, now=NOW)
        return await hotels.reserve(airport, night, 1, key)


async def _counters(db: Database) -> dict[tuple[str, dt.date], tuple[int, int]]:
    async with db.reading() as s:
        rows = await s.execute(
            select(HotelRoom.hotel, HotelRoom.night, HotelRoom.rooms, HotelRoom.taken)
        )
        return {(h, n): (r, t) for h, n, r, t in rows}


async def test_rooms_fill_in_the_listed_order_then_none_and_each_night_counts_apart(
    db: Database,
) -> None:
    got = [await _reserve(db, f"k{i}") for i in range(4)]
    assert [b.hotel if b else None for b in got] == [
        "Airport Inn",
        "Airport Inn",
        "Runway Lodge",
        None,
    ]
    assert await _counters(db) == {("Airport Inn", NIGHT): (2, 2), ("Runway Lodge", NIGHT): (1, 1)}
    tomorrow = NIGHT + dt.timedelta(days=1)
    assert await _reserve(db, "k-next", night=tomorrow) == HotelBooking(
        "Airport Inn", "FRA", tomorrow, 1
    )
    assert await _reserve(db, "k-nowhere", airport="MAD") is None


async def test_the_same_key_books_once_and_gets_the_same_answer(db: Database) -> None:
    first = await _reserve(db, "care-p1")
    again = await _reserve(db, "care-p1")
    assert first == again == HotelBooking("Airport Inn", "FRA", NIGHT, 1)
    assert (await _counters(db))[("Airport Inn", NIGHT)] == (2, 1)
    # a key first answered with no room stays answered so: a retry books nothing behind the desk's back
    for i in range(3):
        await _reserve(db, f"fill{i}")
    assert await _reserve(db, "late") is None
    assert await _reserve(db, "late") is None
    async with db.reading() as s:
        assert (
            await s.scalars(
                select(HotelReservation.hotel_room_id).where(HotelReservation.key == "late")
            )
        ).one() is None


async def test_concurrent_reservations_never_book_more_rooms_than_the_hotels_give(
    db: Database,
) -> None:
    got = await asyncio.gather(*(_reserve(db, f"c{i}") for i in range(12)))
    placed = [b for b in got if b is not None]
    assert len(placed) == 3
    assert sorted(b.hotel for b in placed) == ["Airport Inn", "Airport Inn", "Runway Lodge"]
    assert await _counters(db) == {("Airport Inn", NIGHT): (2, 2), ("Runway Lodge", NIGHT): (1, 1)}
    # the same key from many callers at once books one room
    same = await asyncio.gather(
        *(_reserve(db, "one-key", night=NIGHT + dt.timedelta(days=2)) for _ in range(6))
    )
    assert len(set(same)) == 1 and same[0] is not None
    assert (await _counters(db))[("Airport Inn", NIGHT + dt.timedelta(days=2))] == (2, 1)
