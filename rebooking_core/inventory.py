"""Seat counters: every seat taken, held, committed or given back goes through one guarded UPDATE.

Each function is a single conditional ``UPDATE ... WHERE <guard>`` whose row count decides the
outcome, so concurrent callers can never push ``sold + held`` above ``capacity`` (the CHECK
constraint on ``inventory`` is the last line). Nothing here reads a counter and writes it back,
and nothing relies on ``SELECT ... FOR UPDATE`` (SQLite silently drops it). The caller owns the
transaction: these functions never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import BigInteger, CursorResult, Integer, String, column, update, values
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Update

from rebooking_core.models import Inventory

__all__ = ["commit_seats", "hold_seats", "release_seats", "sell_seats", "unsell_seats"]


def _check(seats: int) -> None:
    if seats <= 0:
        raise ValueError("seats must be a positive number")


async def _apply(session: AsyncSession, stmt: Update) -> bool:
    """Run one guarded counter update; True when the guard let it through."""
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return cast("CursorResult[Any]", result).rowcount == 1


def _row(flight_id: int, cabin: str) -> Update:
    return update(Inventory).where(Inventory.flight_id == flight_id, Inventory.cabin == cabin)


async def hold_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Set seats aside for an offer, only if that many are still free."""
    _check(seats)
    stmt = (
        _row(flight_id, cabin)
        .where(Inventory.sold + Inventory.held + seats <= Inventory.capacity)
        .values(held=Inventory.held + seats)
    )
    return await _apply(session, stmt)


async def release_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Give held seats back to the free pool (offer expired, superseded or not chosen)."""
    _check(seats)
    stmt = _row(flight_id, cabin).where(Inventory.held >= seats).values(held=Inventory.held - seats)
    return await _apply(session, stmt)


async def commit_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Turn held seats into sold ones in one statement, so they are never free in between."""
    _check(seats)
    stmt = (
        _row(flight_id, cabin)
        .where(Inventory.held >= seats)
        .values(held=Inventory.held - seats, sold=Inventory.sold + seats)
    )
    return await _apply(session, stmt)


async def sell_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Sell seats without a prior hold (a hold was lost), under the same capacity guard."""
    _check(seats)
    stmt = (
        _row(flight_id, cabin)
        .where(Inventory.sold + Inventory.held + seats <= Inventory.capacity)
        .values(sold=Inventory.sold + seats)
    )
    return await _apply(session, stmt)


async def unsell_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Return sold seats of a replaced segment, so the counters keep matching the bookings."""
    _check(seats)
    stmt = _row(flight_id, cabin).where(Inventory.sold >= seats).values(sold=Inventory.sold - seats)
    return await _apply(session, stmt)


async def hold_many(session: AsyncSession, wanted: Mapping[tuple[int, str], int]) -> bool:
    """Hold seats on many flights at once, all or nothing within the caller's transaction.

    On PostgreSQL one `UPDATE … FROM (VALUES …)` with the same guard per row; elsewhere (SQLite,
    in-process) one guarded UPDATE per row. False means some row lacked seats: the caller must
    roll back, since the other rows did move.
    """
    if not wanted:
        return True
    for seats in wanted.values():
        _check(seats)
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        for (flight_id, cabin), seats in sorted(wanted.items()):
            if not await hold_seats(session, flight_id=flight_id, cabin=cabin, seats=seats):
                return False
        return True
    rows = values(
        column("flight_id", BigInteger), column("cabin", String), column("seats", Integer), name="wanted"
    ).data([(f, c, n) for (f, c), n in sorted(wanted.items())])
    stmt = (
        update(Inventory)
        .where(
            Inventory.flight_id == rows.c.flight_id,
            Inventory.cabin == rows.c.cabin,
            Inventory.sold + Inventory.held + rows.c.seats <= Inventory.capacity,
        )
        .values(held=Inventory.held + rows.c.seats)
        .returning(Inventory.flight_id)
        .execution_options(synchronize_session=False)
    )
    updated = (await session.execute(stmt)).all()
    return len(updated) == len(wanted)
