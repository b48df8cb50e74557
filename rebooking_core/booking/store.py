"""The statements of one booking behind one interface, a strategy per database (`postgres`, `sqlite`).

Both reach the same outcomes; PostgreSQL in fewer round trips (the guard, the segments and the
holds read in one statement, the holds and segments written in another, counter moves at commit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.booking.rules import Choice, CounterMove, CurrentBooking, Hold, Rewrite

__all__ = ["BookingStore"]


class BookingStore(Protocol):
    """What `book_option` asks of the database, in the order it asks; `head` is the `OPTION_HEAD` row."""

    async def accept(self, session: AsyncSession, head: Any, choice: Choice, now: dt.datetime) -> CurrentBooking | None:
        """Win the offer's guard and read the booking as it is now; None when the guard was lost."""

    async def take_holds(self, session: AsyncSession, head: Any, choice: Choice, current: CurrentBooking) -> list[Hold]:
        """The offer's held holds, this option's to be committed and the others' released."""

    async def move(self, session: AsyncSession, moves: Sequence[CounterMove]) -> bool:
        """Move the counters (now or at commit); False, with nothing moved, when a seat to sell is gone."""

    async def keep_holds(self, session: AsyncSession, holds: Sequence[Hold]) -> None:
        """The booking is refused after `take_holds`: the holds stay held."""

    async def rewrite(self, session: AsyncSession, rewrite: Rewrite, holds: Sequence[Hold]) -> None:
        """Mark the holds taken, the replaced segments HX, move later ones up and insert the new legs."""
