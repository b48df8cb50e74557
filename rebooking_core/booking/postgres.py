"""Booking on PostgreSQL: two statements where SQLite takes five or six, the counters moved at commit.

The guard, the segments and the holds are read in one statement, and the holds, the old segments
and the new ones written in another. Every statement is a round trip, and under load each costs
both sides a wake-up on a busy machine. When every leg is held no move can be refused for want of
seats, and that pass runs at commit, after everything else the transaction writes, so a popular
flight's counter row is locked for two round trips per booking. A leg whose hold was lost is sold
directly under the capacity guard, all rows in one statement; if that fails every counter this
call moved is put back, so the caller's transaction stays consistent without a savepoint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Integer,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from infra.commit_hooks import CommitHook, CommitStage, queue
from rebooking_core.booking.counters import move_one_by_one
from rebooking_core.booking.rules import (
    Choice,
    CounterMove,
    CurrentBooking,
    Hold,
    OnRefuse,
    Rewrite,
    can_wait_for_commit,
    each_row_once,
    net_moves,
)
from rebooking_core.booking.statements import (
    ACCEPT,
    SEGMENTS,
    current_booking,
    flights,
    guard_params,
    offers,
    options,
    segments,
    segments_where,
)
from rebooking_core.impact import ACTIVE_SEGMENT_STATUSES
from rebooking_core.inventory import move_many, move_many_now
from rebooking_core.models import SeatHold
from rebooking_core.offers import InventoryInconsistent
from rebooking_core.types import HoldStatus, SegmentStatus

__all__ = ["PostgresBookingStore"]

_holds = cast(Table, SeatHold.__table__)

_ACCEPTED = ACCEPT.returning(offers.c.id).cte("accepted")
#: The offer's held holds as JSON, read with the guard: after winning it nobody else can release
#: them (`release_holds` runs only for the guard's winner), so they stay what this reads.
_HELD = (
    select(func.json_agg(func.json_build_array(_holds.c.id, _holds.c.option_id, _holds.c.flight_id, _holds.c.cabin, _holds.c.seats)))
    .select_from(_holds.join(options, options.c.id == _holds.c.option_id))
    .where(options.c.offer_id == bindparam("offer_id"), _holds.c.status == HoldStatus.HELD.value)
    .scalar_subquery()
)
#: `ACCEPT` and `SEGMENTS` in one statement, with the holds: no row means the guard was lost; a
#: row without a segment id means it was won by a booking with no active segments. Everything is
#: read in the statement's snapshot: if the guard had to wait for a racing winner, the guard is
#: lost and nothing read is used.
_ACCEPT_AND_READ = (
    select(
        _ACCEPTED.c.id.label("accepted"),
        *SEGMENTS.selected_columns,
        type_coerce(_HELD, JSON).label("holds"),
    )
    .select_from(
        _ACCEPTED.outerjoin(
            segments.join(flights, flights.c.id == segments.c.flight_id),
            and_(segments.c.status.in_(ACTIVE_SEGMENT_STATUSES), segments.c.booking_id == bindparam("seg_booking")),
        )
    )
    .order_by(segments.c.seq, segments.c.id)
)


def _rewrite_at_once(*, later: bool) -> Insert:
    """Holds marked, replaced segments HX, later ones moved up (if `later`), new legs in: one statement.

    No parameter is named after a column of a table written here: SQLAlchemy would add it to that
    table's SET clause.
    """
    taken = (
        update(_holds)
        .where(_holds.c.id == any_(bindparam("hold_ids", type_=ARRAY(BigInteger))))
        .values(
            status=case(
                (_holds.c.option_id == bindparam("chosen"), HoldStatus.COMMITTED.value), else_=HoldStatus.RELEASED.value
            )
        )
        .returning(_holds.c.id)
        .cte("taken")
    )
    retired = (
        update(segments)
        .where(segments.c.id == any_(bindparam("replaced_ids", type_=ARRAY(BigInteger))))
        .values(status=SegmentStatus.HX.value, replaced_by_option=bindparam("chosen"))
        .returning(segments.c.id)
        .cte("retired")
    )
    legs = select(
        bindparam("b_booking", type_=BigInteger),
        func.unnest(bindparam("new_flights", type_=ARRAY(BigInteger))),
        bindparam("new_cabin", type_=String),
        func.unnest(bindparam("new_seqs", type_=ARRAY(Integer))),
        literal(SegmentStatus.HK.value),
    )
    ctes = [taken, retired]
    if later:  # rows apart from the retired ones (seq above theirs); the new legs are not seen by it
        ctes.append(
            update(segments)
            .where(segments.c.booking_id == bindparam("b_booking"), segments.c.seq > bindparam("last_seq"))
            .values(seq=segments.c.seq + bindparam("legs", type_=Integer))
            .returning(segments.c.id)
            .cte("shifted")
        )
    columns = ["booking_id", "flight_id", "cabin", "seq", "status"]
    return insert(segments).from_select(columns, legs).add_cte(*ctes)


_REWRITE = {later: _rewrite_at_once(later=later) for later in (False, True)}


def _move_at_commit(session: Session, moves: list[CounterMove]) -> None:
    """The moves of `_defer`, after everything else the transaction writes, right before COMMIT."""
    session.flush()
    moved = move_many_now(session, net_moves(moves))
    for move in moves:
        if move.on_refuse is OnRefuse.RAISE and move.key not in moved:
            raise InventoryInconsistent(move.inconsistency())


#: Counter moves the transaction's bookings left for its commit (the last stage: see `CommitStage`).
_AT_COMMIT = CommitHook(CommitStage.SEAT_MOVES, "seat moves deferred to commit", _move_at_commit)


def _defer(session: AsyncSession, moves: Sequence[CounterMove]) -> None:
    """Leave moves that no lack of seats can refuse for the commit (`_move_at_commit`).

    With every leg held, each move commits a hold, releases one or gives a seat back. Replies to
    one disruption mostly book the same next flight, and each booking keeps that flight's counter
    row locked from its update to COMMIT: taken last, that is two round trips instead of ten.
    """
    for move in moves:
        queue(session, _AT_COMMIT, move)


async def _move_at_once(session: AsyncSession, moves: Sequence[CounterMove]) -> bool:
    """`move_one_by_one` in one statement (one row per move): the same outcomes, one round trip instead of one per leg."""
    moved = await move_many(session, {m.key: m.delta for m in moves})
    refused = [m for m in moves if m.key not in moved]
    for move in refused:
        if move.on_refuse is OnRefuse.RAISE:
            raise InventoryInconsistent(move.inconsistency())
    if any(move.on_refuse is OnRefuse.ABORT for move in refused):
        back = {m.key: (-m.delta[0], -m.delta[1]) for m in moves if m.key in moved}
        if len(await move_many(session, back)) != len(back):
            raise InventoryInconsistent("a counter this booking just moved could not be moved back")
        return False
    return True


class PostgresBookingStore:
    """The holds are read with the guard and marked with the rewrite; nothing to put back when refused."""

    async def accept(self, session: AsyncSession, head: Any, choice: Choice, now: dt.datetime) -> CurrentBooking | None:
        rows = (await session.execute(_ACCEPT_AND_READ, {**guard_params(head, choice, now), **segments_where(head, choice)})).all()
        if not rows:
            return None
        return current_booking(rows, tuple(Hold(*h) for h in rows[0].holds or ()))

    async def take_holds(self, session: AsyncSession, head: Any, choice: Choice, current: CurrentBooking) -> list[Hold]:
        return list(current.holds or ())

    async def move(self, session: AsyncSession, moves: Sequence[CounterMove]) -> bool:
        if can_wait_for_commit(moves):
            _defer(session, moves)
            return True
        if each_row_once(moves):
            return await _move_at_once(session, moves)
        return await move_one_by_one(session, moves)

    async def keep_holds(self, session: AsyncSession, holds: Sequence[Hold]) -> None:
        """Nothing marked them yet: that is the rewrite's work."""

    async def rewrite(self, session: AsyncSession, rewrite: Rewrite, holds: Sequence[Hold]) -> None:
        choice = rewrite.choice
        await session.execute(
            _REWRITE[rewrite.later],
            {
                "hold_ids": [h.id for h in holds],
                "chosen": choice.option_id,
                "replaced_ids": rewrite.replaced_ids,
                "b_booking": choice.booking_id,
                "new_flights": list(choice.flight_ids),
                "new_cabin": choice.cabin,
                "new_seqs": rewrite.new_seqs,
                "last_seq": rewrite.last_seq,
                "legs": len(choice.flight_ids),
            },
        )
