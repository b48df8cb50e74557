"""Book a chosen option: idempotent, atomic in the caller's transaction, never double-booked.

The offer's guarded ``UPDATE offers SET status = 'accepted' ... WHERE status = 'open'`` decides
the winner when two choices race (a WhatsApp tap and an SMS "2"): the loser sees no row and
answers "already_booked". Seat counters then move in one pass in (flight, cabin) order, so two
bookings never wait on each other's rows in opposite orders. When every leg is held no move can
be refused for want of seats, and on PostgreSQL that pass runs at commit, after everything else
the transaction writes, so a popular flight's counter row is locked for two round trips per
booking. A leg whose hold was lost is sold directly under the capacity guard; if that fails every
counter this call moved is put back and the offer reopens, so the caller's transaction stays
consistent without a savepoint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    CursorResult,
    Integer,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    event,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import Insert

from rebooking_core.impact import (
    ACTIVE_SEGMENT_STATUSES,
    SEGMENT_COLUMNS,
    segment_row,
    segments_to_replace,
)
from rebooking_core.inventory import (
    commit_seats,
    hold_seats,
    move_many,
    move_many_now,
    release_seats,
    sell_seats,
    unsell_seats,
)
from rebooking_core.models import DisruptionFlight, Flight, Offer, OfferOption, SeatHold, Segment
from rebooking_core.offers import InventoryInconsistent, OfferStatus, release_holds
from rebooking_core.types import HoldStatus, SegmentStatus

__all__ = ["OPTION_HEAD", "BookingResult", "BookingStatus", "book_option"]

_Counter = Callable[..., Awaitable[bool]]


class BookingStatus(StrEnum):
    BOOKED = "booked"
    ALREADY_BOOKED = "already_booked"
    EXPIRED = "expired"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class BookingResult:
    """`option_id`/`flight_ids` name the option that holds the booking (the winner if not ours)."""

    status: BookingStatus
    booking_id: int | None = None
    option_id: int | None = None
    flight_ids: tuple[int, ...] = ()


class _OnRefuse(StrEnum):
    ABORT = "abort"  # no seat left: undo and answer "unavailable"
    SKIP = "skip"  # best effort (old seats of a replaced segment)
    RAISE = "raise"  # a held seat-hold row without held seats: a bug, never hidden


#: What each counter move does to (sold, held) per seat: `move_many` applies several at once.
_PER_SEAT: dict[_Counter, tuple[int, int]] = {
    commit_seats: (1, -1),
    sell_seats: (1, 0),
    release_seats: (0, -1),
    unsell_seats: (-1, 0),
}


@dataclass(frozen=True)
class _Op:
    """One counter move and the moves that take it back."""

    flight_id: int
    cabin: str
    seats: int
    apply: _Counter
    undo: tuple[_Counter, ...]
    on_refuse: _OnRefuse

    @property
    def delta(self) -> tuple[int, int]:
        sold, held = _PER_SEAT[self.apply]
        return sold * self.seats, held * self.seats

    def inconsistent(self) -> InventoryInconsistent:
        return InventoryInconsistent(f"flight {self.flight_id} cabin {self.cabin}: fewer than {self.seats} seats held")


async def _already(session: AsyncSession, offer_id: int, booking_id: int) -> BookingResult:
    row = (
        await session.execute(
            select(OfferOption.id, OfferOption.flight_ids)
            .join(Offer, Offer.accepted_option_id == OfferOption.id)
            .where(Offer.id == offer_id)
        )
    ).one_or_none()
    if row is None:
        return BookingResult(BookingStatus.ALREADY_BOOKED, booking_id)
    return BookingResult(
        BookingStatus.ALREADY_BOOKED, booking_id, row.id, tuple(int(f) for f in row.flight_ids)
    )


# The statements a booking reply runs are Core, on the tables: the ORM's bulk-statement layer adds
# about half again to each (measured: 113 against 70 µs an UPDATE), and nothing here needs it.
_offers = cast(Table, Offer.__table__)
_options = cast(Table, OfferOption.__table__)
_segments = cast(Table, Segment.__table__)
_holds = cast(Table, SeatHold.__table__)
_flights = cast(Table, Flight.__table__)
_disrupted = cast(Table, DisruptionFlight.__table__)

_ACCEPT = (
    update(_offers)
    .where(_offers.c.id == bindparam("offer_id"), _offers.c.status == OfferStatus.OPEN.value, _offers.c.expires_at > bindparam("now"))
    .values(status=OfferStatus.ACCEPTED.value, accepted_option_id=bindparam("option_id"))
)


async def _accept(
    session: AsyncSession, *, offer_id: int, option_id: int, now: dt.datetime
) -> bool:
    result = await session.execute(_ACCEPT, {"offer_id": offer_id, "option_id": option_id, "now": now})
    return cast("CursorResult[Any]", result).rowcount == 1


async def _reopen(session: AsyncSession, offer_id: int) -> None:
    await session.execute(
        update(Offer)
        .where(Offer.id == offer_id)
        .values(status=OfferStatus.OPEN.value, accepted_option_id=None)
        .execution_options(synchronize_session=False)
    )


async def _retire(session: AsyncSession, offer_id: int) -> None:
    """The booking changed elsewhere (nothing left to replace): the offer is stale, free its seats."""
    await session.execute(
        update(Offer)
        .where(Offer.id == offer_id)
        .values(status=OfferStatus.SUPERSEDED.value, accepted_option_id=None)
        .execution_options(synchronize_session=False)
    )
    await release_holds(
        session, option_ids=select(OfferOption.id).where(OfferOption.offer_id == offer_id)
    )


async def _run(session: AsyncSession, ops: list[_Op]) -> bool:
    """Apply the moves in lock order; on a refused required move, undo the applied ones."""
    if session.get_bind().dialect.name == "postgresql" and len({(o.flight_id, o.cabin) for o in ops}) == len(ops):
        if not any(op.on_refuse is _OnRefuse.ABORT for op in ops):
            _defer(session, ops)
            return True
        return await _run_at_once(session, ops)
    done: list[_Op] = []
    for op in sorted(ops, key=lambda o: (o.flight_id, o.cabin)):
        ok = await op.apply(session, flight_id=op.flight_id, cabin=op.cabin, seats=op.seats)
        if ok:
            done.append(op)
        elif op.on_refuse is _OnRefuse.RAISE:
            raise op.inconsistent()
        elif op.on_refuse is _OnRefuse.ABORT:
            for prev in reversed(done):
                for fn in prev.undo:
                    await fn(session, flight_id=prev.flight_id, cabin=prev.cabin, seats=prev.seats)
            return False
    return True


#: `Session.info` key of the counter moves a transaction's bookings left for its commit.
_DEFERRED = "rebook.deferred_seat_moves"


def _defer(session: AsyncSession, ops: list[_Op]) -> None:
    """Leave moves that no lack of seats can refuse for the commit (`_move_deferred`).

    With every leg held, each move commits a hold, releases one or gives a seat back. Replies to
    one disruption mostly book the same next flight, and each booking keeps that flight's counter
    row locked from its update to COMMIT: taken last, that is two round trips instead of ten.
    """
    session.sync_session.info.setdefault(_DEFERRED, []).extend(ops)


@event.listens_for(Session, "before_commit")
def _move_deferred(session: Session) -> None:
    """Run the deferred moves after everything else the transaction writes, right before COMMIT."""
    ops: list[_Op] = session.info.pop(_DEFERRED, [])
    if not ops:
        return
    session.flush()
    moves: dict[tuple[int, str], tuple[int, int]] = {}
    for op in ops:
        sold, held = moves.get((op.flight_id, op.cabin), (0, 0))
        moves[(op.flight_id, op.cabin)] = (sold + op.delta[0], held + op.delta[1])
    moved = move_many_now(session, moves)
    for op in ops:
        if op.on_refuse is _OnRefuse.RAISE and (op.flight_id, op.cabin) not in moved:
            raise op.inconsistent()


@event.listens_for(Session, "after_transaction_end")
def _forget_deferred(session: Session, transaction: SessionTransaction) -> None:
    """Moves of a rolled-back transaction never happen."""
    if transaction.parent is None:
        session.info.pop(_DEFERRED, None)


async def _run_at_once(session: AsyncSession, ops: list[_Op]) -> bool:
    """`_run` in one statement (one row per op): the same outcomes, one round trip instead of one per leg."""
    moved = await move_many(session, {(o.flight_id, o.cabin): o.delta for o in ops})
    refused = [o for o in ops if (o.flight_id, o.cabin) not in moved]
    for op in refused:
        if op.on_refuse is _OnRefuse.RAISE:
            raise op.inconsistent()
    if any(op.on_refuse is _OnRefuse.ABORT for op in refused):
        back = {(o.flight_id, o.cabin): (-o.delta[0], -o.delta[1]) for o in ops if (o.flight_id, o.cabin) in moved}
        if len(await move_many(session, back)) != len(back):
            raise InventoryInconsistent("a counter this booking just moved could not be moved back")
        return False
    return True


# Built once at import: a reply books in ~10 statements, and building one costs about as much as running it.

#: What `book_option` reads of the option and its offer first (a caller that read these columns
#: in the same transaction may pass its row: the offer's status is checked again by the guard).
OPTION_HEAD = (
    _options.c.id,
    _options.c.offer_id,
    _options.c.flight_ids,
    _options.c.cabin,
    _offers.c.booking_id,
    _offers.c.disruption_id,
    _offers.c.status,
    _offers.c.expires_at,
    _offers.c.seats,
)
_HEAD = (
    select(*OPTION_HEAD)
    .select_from(_options)
    .join(_offers, _offers.c.id == _options.c.offer_id)
    .where(_options.c.id == bindparam("option_id"))
)
_ANY_SEGMENT = _segments.alias("any_segment")
#: The booking's active segments, each flagged when the disruption hits its flight, with the
#: option's departure airport and the booking's last seq, active or not: what `segments_to_replace`
#: and the rewrite need, in one round trip.
_SEGMENTS = (
    select(
        *SEGMENT_COLUMNS,
        _segments.c.flight_id.in_(
            select(_disrupted.c.flight_id).where(_disrupted.c.disruption_id == bindparam("seg_disruption"))
        ).label("hit"),
        select(_flights.c.origin).where(_flights.c.id == bindparam("first_flight")).scalar_subquery().label("rebook_from"),
        select(func.max(_ANY_SEGMENT.c.seq)).where(_ANY_SEGMENT.c.booking_id == bindparam("seg_booking")).scalar_subquery().label("last"),
    )
    .join(_flights, _flights.c.id == _segments.c.flight_id)
    .where(_segments.c.status.in_(ACTIVE_SEGMENT_STATUSES), _segments.c.booking_id == bindparam("seg_booking"))
    .order_by(_segments.c.seq, _segments.c.id)
)
#: Marks the offer's held holds in one pass (the chosen option's committed, the others released)
#: and returns them: the counter moves are planned from what was marked.
_TAKE_HOLDS = (
    update(_holds)
    .where(
        _holds.c.option_id.in_(select(_options.c.id).where(_options.c.offer_id == bindparam("offer_id"))),
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
    update(_segments)
    .where(_segments.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=SegmentStatus.HX.value, replaced_by_option=bindparam("option_id"))
)
_INSERT_SEGMENT = insert(_segments)
_SHIFT_SEGMENTS = (
    update(_segments)
    .where(_segments.c.booking_id == bindparam("b_booking"), _segments.c.seq > bindparam("last_seq"))
    .values(seq=_segments.c.seq + bindparam("legs", type_=Integer))
)


# PostgreSQL books in two statements where SQLite takes five or six: the guard, the segments and
# the holds are read in one, and the holds, the old segments and the new ones written in another.
# Every statement is a round trip, and under load each costs both sides a wake-up on a busy machine.


class _Hold(NamedTuple):
    id: int
    option_id: int
    flight_id: int
    cabin: str
    seats: int


_ACCEPTED = _ACCEPT.returning(_offers.c.id).cte("accepted")
#: The offer's held holds as JSON, read with the guard: after winning it nobody else can release
#: them (`release_holds` runs only for the guard's winner), so they stay what this reads.
_HELD = (
    select(func.json_agg(func.json_build_array(_holds.c.id, _holds.c.option_id, _holds.c.flight_id, _holds.c.cabin, _holds.c.seats)))
    .select_from(_holds.join(_options, _options.c.id == _holds.c.option_id))
    .where(_options.c.offer_id == bindparam("offer_id"), _holds.c.status == HoldStatus.HELD.value)
    .scalar_subquery()
)
#: `_ACCEPT` and `_SEGMENTS` in one statement, with the holds: no row means the guard was lost; a
#: row without a segment id means it was won by a booking with no active segments. Everything is
#: read in the statement's snapshot: if the guard had to wait for a racing winner, the guard is
#: lost and nothing read is used.
_ACCEPT_AND_READ = (
    select(
        _ACCEPTED.c.id.label("accepted"),
        *_SEGMENTS.selected_columns,
        type_coerce(_HELD, JSON).label("holds"),
    )
    .select_from(
        _ACCEPTED.outerjoin(
            _segments.join(_flights, _flights.c.id == _segments.c.flight_id),
            and_(_segments.c.status.in_(ACTIVE_SEGMENT_STATUSES), _segments.c.booking_id == bindparam("seg_booking")),
        )
    )
    .order_by(_segments.c.seq, _segments.c.id)
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
        update(_segments)
        .where(_segments.c.id == any_(bindparam("replaced_ids", type_=ARRAY(BigInteger))))
        .values(status=SegmentStatus.HX.value, replaced_by_option=bindparam("chosen"))
        .returning(_segments.c.id)
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
            update(_segments)
            .where(_segments.c.booking_id == bindparam("b_booking"), _segments.c.seq > bindparam("last_seq"))
            .values(seq=_segments.c.seq + bindparam("legs", type_=Integer))
            .returning(_segments.c.id)
            .cte("shifted")
        )
    columns = ["booking_id", "flight_id", "cabin", "seq", "status"]
    return insert(_segments).from_select(columns, legs).add_cte(*ctes)


_REWRITE = {later: _rewrite_at_once(later=later) for later in (False, True)}


async def book_option(session: AsyncSession, *, option_id: int, now: dt.datetime, head: Any = None) -> BookingResult:
    """Move the booking onto the chosen option, once, whatever the number of calls.

    `head` is this option's `OPTION_HEAD` row if the caller just read it in this transaction.
    """
    if head is None or head.id != option_id:
        head = (await session.execute(_HEAD, {"option_id": option_id})).one_or_none()
    if head is None:
        return BookingResult(BookingStatus.UNKNOWN, option_id=option_id)
    flight_ids = tuple(int(f) for f in head.flight_ids)
    if head.status == OfferStatus.ACCEPTED.value:
        return await _already(session, head.offer_id, head.booking_id)
    if head.status != OfferStatus.OPEN.value or head.expires_at <= now:
        return BookingResult(BookingStatus.EXPIRED, head.booking_id, option_id, flight_ids)

    at_once = session.get_bind().dialect.name == "postgresql"
    where = {"seg_booking": head.booking_id, "seg_disruption": head.disruption_id, "first_flight": flight_ids[0]}
    guard = {"offer_id": head.offer_id, "option_id": option_id, "now": now}
    if at_once:
        rows = (await session.execute(_ACCEPT_AND_READ, {**guard, **where})).all()
        won = bool(rows)
    else:
        won = await _accept(session, offer_id=head.offer_id, option_id=option_id, now=now)
        # Read after winning the guard: a racing winner's rewrite is committed and visible by now.
        rows = (await session.execute(_SEGMENTS, where)).all() if won else []
    if not won:
        status = (
            await session.execute(select(Offer.status).where(Offer.id == head.offer_id))
        ).scalar_one()
        if status == OfferStatus.ACCEPTED.value:
            return await _already(session, head.offer_id, head.booking_id)
        return BookingResult(BookingStatus.EXPIRED, head.booking_id, option_id, flight_ids)

    active = [r for r in rows if r.id is not None]
    segments = [segment_row(r) for r in active]
    hit = [row.flight_id for row in active if row.hit]
    replaced = segments_to_replace(segments, hit, rows[0].rebook_from) if active else ()
    if not replaced:
        await _retire(session, head.offer_id)
        return BookingResult(BookingStatus.EXPIRED, head.booking_id, option_id, flight_ids)

    if at_once:
        holds: Sequence[Any] = [_Hold(*h) for h in rows[0].holds or ()]
    else:
        holds = (await session.execute(_TAKE_HOLDS, {"offer_id": head.offer_id, "chosen": option_id})).all()
    seats = int(head.seats)
    ops = _plan(
        holds,
        option_id=option_id,
        flight_ids=flight_ids,
        cabin=head.cabin,
        seats=seats,
        replaced=[(s.flight_id, s.cabin) for s in replaced],
    )
    if not await _run(session, ops):
        if holds and not at_once:
            await session.execute(_RESTORE_HOLDS, {"ids": [h.id for h in holds]})
        await _reopen(session, head.offer_id)
        return BookingResult(BookingStatus.UNAVAILABLE, head.booking_id, option_id, flight_ids)

    last_seq = max(s.seq for s in replaced)
    later = rows[0].last > last_seq
    if at_once:
        await session.execute(
            _REWRITE[later],
            {
                "hold_ids": [h.id for h in holds],
                "chosen": option_id,
                "replaced_ids": [s.segment_id for s in replaced],
                "b_booking": head.booking_id,
                "new_flights": list(flight_ids),
                "new_cabin": head.cabin,
                "new_seqs": [last_seq + n for n in range(1, len(flight_ids) + 1)],
                "last_seq": last_seq,
                "legs": len(flight_ids),
            },
        )
    else:
        await _rewrite_segments(
            session,
            booking_id=head.booking_id,
            replaced_ids=[s.segment_id for s in replaced],
            last_seq=last_seq,
            later=later,
            option_id=option_id,
            flight_ids=flight_ids,
            cabin=head.cabin,
        )
    return BookingResult(BookingStatus.BOOKED, head.booking_id, option_id, flight_ids)


def _plan(
    holds: Sequence[Any],
    *,
    option_id: int,
    flight_ids: tuple[int, ...],
    cabin: str,
    seats: int,
    replaced: list[tuple[int, str]],
) -> list[_Op]:
    """Counter moves: commit our holds (or sell lost legs), release the rest, return old seats."""
    ours = {h.flight_id for h in holds if h.option_id == option_id}
    ops = [
        _Op(h.flight_id, h.cabin, h.seats, commit_seats, (unsell_seats, hold_seats), _OnRefuse.RAISE)
        for h in holds
        if h.option_id == option_id
    ]
    ops += [
        _Op(fid, cabin, seats, sell_seats, (unsell_seats,), _OnRefuse.ABORT)
        for fid in flight_ids
        if fid not in ours
    ]
    ops += [
        _Op(h.flight_id, h.cabin, h.seats, release_seats, (hold_seats,), _OnRefuse.RAISE)
        for h in holds
        if h.option_id != option_id
    ]
    ops += [_Op(fid, seg_cabin, seats, unsell_seats, (sell_seats,), _OnRefuse.SKIP) for fid, seg_cabin in replaced]
    return ops


async def _rewrite_segments(
    session: AsyncSession,
    *,
    booking_id: int,
    replaced_ids: list[int],
    last_seq: int,
    later: bool,
    option_id: int,
    flight_ids: tuple[int, ...],
    cabin: str,
) -> None:
    """Replaced segments become HX; the new legs take their place in the journey order.

    Later segments (an onward journey, a return, replaced ones) move up by the number of new legs;
    a booking whose replaced part is the end of it has none to move (`later` is False), and skips that.
    """
    await session.execute(_RETIRE_SEGMENTS, {"ids": replaced_ids, "option_id": option_id})
    if later:
        await session.execute(_SHIFT_SEGMENTS, {"b_booking": booking_id, "last_seq": last_seq, "legs": len(flight_ids)})
    await session.execute(
        _INSERT_SEGMENT,
        [
            {
                "booking_id": booking_id,
                "flight_id": fid,
                "cabin": cabin,
                "seq": last_seq + n,
                "status": SegmentStatus.HK.value,
            }
            for n, fid in enumerate(flight_ids, start=1)
        ],
    )
