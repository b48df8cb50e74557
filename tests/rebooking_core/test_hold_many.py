"""Holding many legs in one statement: all or nothing, and never past capacity under a race."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rebooking_core.inventory import hold_many
from rebooking_core.models import Inventory
from tests.rebooking_core.factories import add_flight, at


async def _two_flights(engine: AsyncEngine, seats: int) -> tuple[int, int]:
    async with AsyncSession(engine) as s, s.begin():
        a = await add_flight(s, origin="FRA", destination="MAD", dep=at(1), capacity={"Y": seats})
        b = await add_flight(s, origin="MAD", destination="LIS", dep=at(4), capacity={"Y": seats})
        return a.id, b.id


async def _held(engine: AsyncEngine) -> dict[int, tuple[int, int]]:
    async with AsyncSession(engine) as s:
        rows = await s.execute(select(Inventory.flight_id, Inventory.held, Inventory.sold).where(Inventory.cabin == "Y"))
        return {f: (held, sold) for f, held, sold in rows}


async def test_hold_many_moves_every_row_or_reports_failure(engine: AsyncEngine) -> None:
    a, b = await _two_flights(engine, 10)
    async with AsyncSession(engine) as s, s.begin():
        assert await hold_many(s, {(a, "Y"): 4, (b, "Y"): 6})
    assert (await _held(engine))[a][0] == 4 and (await _held(engine))[b][0] == 6

    async with AsyncSession(engine) as s, s.begin():
        ok = await hold_many(s, {(a, "Y"): 1, (b, "Y"): 5})
        assert ok is False
        await s.rollback()
    assert (await _held(engine))[a][0] == 4 and (await _held(engine))[b][0] == 6


async def test_hold_many_race_on_postgresql_never_oversells(pg_engine: AsyncEngine) -> None:
    a, b = await _two_flights(pg_engine, 60)

    async def attempt() -> bool:
        async with AsyncSession(pg_engine) as s:
            for _ in range(5):
                try:
                    async with s.begin():
                        if await hold_many(s, {(a, "Y"): 2, (b, "Y"): 2}):
                            return True
                        await s.rollback()
                        return False
                except Exception as exc:  # deadlock between two multi-row updates: retry like the fan-out does
                    if "deadlock" not in str(exc):
                        raise
            return False

    results = await asyncio.gather(*(attempt() for _ in range(50)))
    assert sum(results) == 30
    held = await _held(pg_engine)
    assert held[a] == (60, 0) and held[b] == (60, 0)
