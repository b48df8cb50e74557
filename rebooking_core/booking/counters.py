"""Counter moves one guarded UPDATE at a time, in lock order: what SQLite always does.

PostgreSQL does it too when one row moves twice in a booking (one statement cannot).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.booking.rules import CounterMove, OnRefuse, SeatChange
from rebooking_core.inventory import (
    commit_seats,
    hold_seats,
    release_seats,
    sell_seats,
    unsell_seats,
)
from rebooking_core.offers import InventoryInconsistent

__all__ = ["move_one_by_one"]

_Counter = Callable[..., Awaitable[bool]]

#: The guarded UPDATE of each change (`rebooking_core.inventory`).
_APPLY: dict[SeatChange, _Counter] = {
    SeatChange.HOLD: hold_seats,
    SeatChange.COMMIT: commit_seats,
    SeatChange.SELL: sell_seats,
    SeatChange.RELEASE: release_seats,
    SeatChange.UNSELL: unsell_seats,
}


async def _apply(session: AsyncSession, change: SeatChange, move: CounterMove) -> bool:
    return await _APPLY[change](session, flight_id=move.flight_id, cabin=move.cabin, seats=move.seats)


async def move_one_by_one(session: AsyncSession, moves: Sequence[CounterMove]) -> bool:
    """Apply the moves in lock order; on a refused required move, undo the applied ones."""
    done: list[CounterMove] = []
    for move in sorted(moves, key=lambda m: m.key):
        if await _apply(session, move.change, move):
            done.append(move)
        elif move.on_refuse is OnRefuse.RAISE:
            raise InventoryInconsistent(move.inconsistency())
        elif move.on_refuse is OnRefuse.ABORT:
            for prev in reversed(done):
                for change in prev.undo:
                    await _apply(session, change, prev)
            return False
    return True
