"""Booking on SQLite: one statement per step (five or six in all), each counter moved by its own guarded UPDATE."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, Table, bindparam, case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.booking.counters import move_one_by_one
from rebooking_core.booking.rules import Choice, CounterMove, CurrentBooking, Hold, Rewrite
from rebooking_core.booking.statements import (
    ACCEPT,
    SEGMENTS,
    current_booking,
    guard_params,
    options,
    segments,
    segments_where,
)
from rebooking_core.models import SeatHold
from rebooking_core.types import HoldStatus, SegmentStatus

__all__ = ["SqliteBookingStore"]

_holds = cast(Table, SeatHold.__table__)

#: Marks the offer's held holds in one pass (the chosen option's committed, the others released)
#: and returns them: the counter moves are planned from what was marked.
_TAKE_HOLDS = (
    update(_holds)
    .where(
        _holds.c.option_id.in_(select(options.c.id).where(options.c.offer_id == bindparam("offer_id"))),
        _holds.c.status == HoldStatus.HELD.value,
    )
    .values(
        status=case(
            (_holds.c.option_id == bindparam("chosen"), HoldStatus.COMMITTED.value), else_=HoldStatus.RELEASED.value
        )
    )
    .returning(_holds.c.id, _holds.c.option_id, _holds.c.flight_id, _holds.c.cabin, _holds.c.seats)
)
_RESTORE_HOLDS = (
    update(_holds).where(_holds.c.id.in_(bindparam("ids", expanding=True))).values(status=HoldStatus.HELD.value)
)
_RETIRE_SEGMENTS = (
    update(segments)
    .where(segments.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=SegmentStatus.HX.value, replaced_by_option=bindparam("option_id"))
)
_INSERT_SEGMENT = insert(segments)
_SHIFT_SEGMENTS = (
    update(segments)
    .where(segments.c.booking_id == bindparam("b_booking"), segments.c.seq > bindparam("last_seq"))
    .values(seq=segments.c.seq + bindparam("legs", type_=Integer))
)


class SqliteBookingStore:
    """The guard, then the segments read after winning it: a racing winner's rewrite is committed and visible by then."""

    async def accept(self, session: AsyncSession, head: Any, choice: Choice, now: dt.datetime) -> CurrentBooking | None:
        result = await session.execute(ACCEPT, guard_params(head, choice, now))
        if cast("CursorResult[Any]", result).rowcount != 1:
            return None
        return current_booking((await session.execute(SEGMENTS, segments_where(head, choice))).all())

    async def take_holds(self, session: AsyncSession, head: Any, choice: Choice, current: CurrentBooking) -> list[Hold]:
        rows = await session.execute(_TAKE_HOLDS, {"offer_id": head.offer_id, "chosen": choice.option_id})
        return [Hold(*row) for row in rows.all()]

    async def move(self, session: AsyncSession, moves: Sequence[CounterMove]) -> bool:
        return await move_one_by_one(session, moves)

    async def keep_holds(self, session: AsyncSession, holds: Sequence[Hold]) -> None:
        if holds:
            await session.execute(_RESTORE_HOLDS, {"ids": [h.id for h in holds]})

    async def rewrite(self, session: AsyncSession, rewrite: Rewrite, holds: Sequence[Hold]) -> None:
        """The holds were marked by `take_holds`; the later segments move up before the new legs go in."""
        choice = rewrite.choice
        await session.execute(_RETIRE_SEGMENTS, {"ids": rewrite.replaced_ids, "option_id": choice.option_id})
        if rewrite.later:
            await session.execute(
                _SHIFT_SEGMENTS, {"b_booking": choice.booking_id, "last_seq": rewrite.last_seq, "legs": len(choice.flight_ids)}
            )
        await session.execute(
            _INSERT_SEGMENT,
            [
                {"booking_id": choice.booking_id, "flight_id": fid, "cabin": choice.cabin, "seq": seq, "status": SegmentStatus.HK.value}
                for fid, seq in zip(choice.flight_ids, rewrite.new_seqs, strict=True)
            ],
        )
