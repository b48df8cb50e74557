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

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    CursorResult,
    Integer,
    String,
    Table,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.selectable import Subquery

from rebooking_core.models import Inventory

__all__ = ["commit_seats", "hold_seats", "move_many", "move_many_now", "release_seats", "sell_seats", "unsell_seats"]


def _check(seats: int) -> None:
    if seats <= 0:
        raise ValueError("seats must be a positive number")


async def _apply(session: AsyncSession, stmt: Update, flight_id: int, cabin: str, seats: int) -> bool:
    """Run one guarded counter update; True when the guard let it through."""
    _check(seats)
    result = await session.execute(stmt, {"f": flight_id, "c": cabin, "n": seats})
    return cast("CursorResult[Any]", result).rowcount == 1


#: Core on the table: the ORM's bulk-update layer costs about half again per statement, for nothing here.
_inventory = cast(Table, Inventory.__table__)


def _guarded(guard: ColumnElement[bool], **moves: ColumnElement[int]) -> Update:
    """Built once at import: a booking reply moves several counters, and building a statement costs as much as running it."""
    return (
        update(_inventory)
        .where(_inventory.c.flight_id == bindparam("f"), _inventory.c.cabin == bindparam("c"), guard)
        .values(**moves)
    )


_N = bindparam("n", type_=Integer)
_HOLD = _guarded(_inventory.c.sold + _inventory.c.held + _N <= _inventory.c.capacity, held=_inventory.c.held + _N)
_RELEASE = _guarded(_inventory.c.held >= _N, held=_inventory.c.held - _N)
_COMMIT = _guarded(_inventory.c.held >= _N, held=_inventory.c.held - _N, sold=_inventory.c.sold + _N)
_SELL = _guarded(_inventory.c.sold + _inventory.c.held + _N <= _inventory.c.capacity, sold=_inventory.c.sold + _N)
_UNSELL = _guarded(_inventory.c.sold >= _N, sold=_inventory.c.sold - _N)


async def hold_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Set seats aside for an offer, only if that many are still free."""
    return await _apply(session, _HOLD, flight_id, cabin, seats)


async def release_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Give held seats back to the free pool (offer expired, superseded or not chosen)."""
    return await _apply(session, _RELEASE, flight_id, cabin, seats)


async def commit_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Turn held seats into sold ones in one statement, so they are never free in between."""
    return await _apply(session, _COMMIT, flight_id, cabin, seats)


async def sell_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Sell seats without a prior hold (a hold was lost), under the same capacity guard."""
    return await _apply(session, _SELL, flight_id, cabin, seats)


async def unsell_seats(session: AsyncSession, *, flight_id: int, cabin: str, seats: int) -> bool:
    """Return sold seats of a replaced segment, so the counters keep matching the bookings."""
    return await _apply(session, _UNSELL, flight_id, cabin, seats)


async def hold_many(session: AsyncSession, wanted: Mapping[tuple[int, str], int]) -> bool:
    """Hold seats on many flights at once, all or nothing within the caller's transaction.

    On PostgreSQL one `UPDATE … FROM unnest(…)` with the same guard per row; elsewhere (SQLite,
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
    ordered = sorted(wanted.items())
    updated = (
        await session.execute(
            _HOLD_MANY,
            {"flights": [f for (f, _), _ in ordered], "cabins": [c for (_, c), _ in ordered], "seats": [n for _, n in ordered]},
        )
    ).all()
    return len(updated) == len(wanted)


async def move_many(session: AsyncSession, moves: Mapping[tuple[int, str], tuple[int, int]]) -> set[tuple[int, str]]:
    """Move (sold, held) by signed amounts on many rows in one PostgreSQL statement; the rows that moved.

    The guard is the invariant every single move above keeps: both counters stay non-negative and
    their sum within capacity. A row that fails it stays as it was; the caller decides what that
    means (and must take back the rows that did move if it gives up). Rows are listed in (flight,
    cabin) order, the order every booking takes its row locks in.
    """
    return await session.run_sync(move_many_now, moves)


def move_many_now(session: Session, moves: Mapping[tuple[int, str], tuple[int, int]]) -> set[tuple[int, str]]:
    """`move_many` from synchronous session code: the commit hook (`infra.commit_hooks`) where a booking's deferred moves run."""
    if not moves:
        return set()
    ordered = sorted(moves.items())
    result = session.execute(
        _MOVE_MANY,
        {
            "flights": [f for (f, _), _ in ordered],
            "cabins": [c for (_, c), _ in ordered],
            "d_sold": [ds for _, (ds, _) in ordered],
            "d_held": [dh for _, (_, dh) in ordered],
        },
    )
    return {(int(f), str(c)) for f, c in result.all()}


def _rows_from_arrays(name: str, *counts: str) -> Subquery:
    """(flight_id, cabin, *counts) rows from arrays `flights`, `cabins` and one per count: one statement shape for any number of rows."""
    return select(
        func.unnest(bindparam("flights", type_=ARRAY(BigInteger))).label("flight_id"),
        func.unnest(bindparam("cabins", type_=ARRAY(String))).label("cabin"),
        *(func.unnest(bindparam(count, type_=ARRAY(Integer))).label(count) for count in counts),
    ).subquery(name)


def _move_many() -> Update:
    """Built once: the moves arrive as four arrays (`_rows_from_arrays`)."""
    moves = _rows_from_arrays("moves", "d_sold", "d_held")
    # A plain UPDATE … FROM locks rows in whatever order its plan visits them, and two bookings
    # crossing the same flights deadlock. Locking first, sorted, in a materialised CTE fixes the order.
    locked = (
        select(_inventory.c.flight_id, _inventory.c.cabin, moves.c.d_sold, moves.c.d_held)
        .join(moves, (_inventory.c.flight_id == moves.c.flight_id) & (_inventory.c.cabin == moves.c.cabin))
        .order_by(_inventory.c.flight_id, _inventory.c.cabin)
        .with_for_update(of=Inventory)
        .cte("locked")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    return (
        update(_inventory)
        .where(
            _inventory.c.flight_id == locked.c.flight_id,
            _inventory.c.cabin == locked.c.cabin,
            _inventory.c.sold + locked.c.d_sold >= 0,
            _inventory.c.held + locked.c.d_held >= 0,
            _inventory.c.sold + _inventory.c.held + locked.c.d_sold + locked.c.d_held <= _inventory.c.capacity,
        )
        .values(sold=_inventory.c.sold + locked.c.d_sold, held=_inventory.c.held + locked.c.d_held)
        .returning(_inventory.c.flight_id, _inventory.c.cabin)
    )


_MOVE_MANY = _move_many()


def _hold_many() -> Update:
    """Built once, like `_move_many`: a VALUES list of the rows would be compiled anew for every batch."""
    wanted = _rows_from_arrays("wanted", "seats")
    return (
        update(_inventory)
        .where(
            _inventory.c.flight_id == wanted.c.flight_id,
            _inventory.c.cabin == wanted.c.cabin,
            _inventory.c.sold + _inventory.c.held + wanted.c.seats <= _inventory.c.capacity,
        )
        .values(held=_inventory.c.held + wanted.c.seats)
        .returning(_inventory.c.flight_id)
    )


_HOLD_MANY = _hold_many()
