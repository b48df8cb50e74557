"""Change after booking: move a booked booking onto another option in the caller's transaction, or leave it as it was.

The earlier option's legs are given back and the new ones taken in one pass of guarded counter
updates (`counters.move_one_by_one`, lock order): a held leg (fresh options asked for after
booking) is committed, a leg without a hold (the protection's other options, whose holds went
at booking) is sold only under the capacity guard. If any leg is refused, every counter moved
is put back, the holds and the offer's guard restored, and the answer is UNAVAILABLE: the
booking never has both seats nor none. A guarded UPDATE on the offer decides between two
changes racing for one booking, as it does for a first choice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.airline.ports import PnrChange, PnrSegment
from rebooking_core.booking.book import store_for
from rebooking_core.booking.counters import move_one_by_one
from rebooking_core.booking.rules import Choice, CounterMove, Hold, Rewrite, SeatChange, plan_moves
from rebooking_core.booking.statements import ACCEPT, flights, offers, options, reopen, segments
from rebooking_core.booking.two_phase import flight_keys
from rebooking_core.impact import ACTIVE_SEGMENT_STATUSES, SEGMENT_COLUMNS, segment_row
from rebooking_core.impact_rules import SegmentRow
from rebooking_core.models import Booking, SeatHold
from rebooking_core.offers import OfferStatus
from rebooking_core.types import HoldStatus, SegmentStatus

__all__ = [
    "ChangeResult",
    "ChangeStatus",
    "ReservedChange",
    "change_option",
    "complete_change",
    "legs_of_option",
    "reserve_change",
]

_holds = cast(Table, SeatHold.__table__)


class ChangeStatus(StrEnum):
    CHANGED = "changed"
    #: The chosen option flies what the booking already flies (or the booking moved meanwhile).
    ALREADY_BOOKED = "already_booked"
    #: A leg of the chosen option has no seat left: the earlier booking stands.
    UNAVAILABLE = "unavailable"
    #: The booked flight, or the chosen one, leaves before the cut-off.
    TOO_LATE = "too_late"
    #: The chosen option's offer is no longer open (expired, superseded).
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ReservedChange:
    """A change after booking won for a fresh offer's option: the PNR change to send, its seats still held."""

    offer_id: int
    booking_id: int
    option_id: int
    change: PnrChange


@dataclass(frozen=True)
class ChangeResult:
    status: ChangeStatus
    option_id: int | None = None
    offer_id: int | None = None


#: Both options with their offers: what the checks and the guard need.
_OPTIONS = (
    select(
        options.c.id,
        options.c.offer_id,
        options.c.flight_ids,
        options.c.cabin,
        options.c.dep_utc,
        offers.c.booking_id,
        offers.c.status,
        offers.c.expires_at,
        offers.c.seats,
    )
    .join(offers, offers.c.id == options.c.offer_id)
    .where(options.c.id.in_(bindparam("ids", expanding=True)))
)
#: Another option of the accepted offer: the guard moves the acceptance from the booked option, once.
_MOVE_ACCEPTANCE = (
    update(offers)
    .where(
        offers.c.id == bindparam("offer_id"),
        offers.c.status == OfferStatus.ACCEPTED.value,
        offers.c.accepted_option_id == bindparam("from_option"),
    )
    .values(accepted_option_id=bindparam("to_option"))
)
_ANY_SEGMENT = segments.alias("any_segment")
#: The booking's active segments and its last seq (active or not).
_SEGMENTS = (
    select(
        *SEGMENT_COLUMNS,
        select(func.max(_ANY_SEGMENT.c.seq))
        .where(_ANY_SEGMENT.c.booking_id == bindparam("booking"))
        .scalar_subquery()
        .label("last"),
    )
    .join(flights, flights.c.id == segments.c.flight_id)
    .where(
        segments.c.booking_id == bindparam("booking"),
        segments.c.status.in_(ACTIVE_SEGMENT_STATUSES),
    )
    .order_by(segments.c.seq, segments.c.id)
)
#: The new offer's held holds: the chosen option's committed, the others released (as a first booking marks them).
_TAKE_HOLDS = (
    update(_holds)
    .where(
        _holds.c.option_id.in_(
            select(options.c.id).where(options.c.offer_id == bindparam("offer_id"))
        ),
        _holds.c.status == HoldStatus.HELD.value,
    )
    .values(
        status=case(
            (_holds.c.option_id == bindparam("chosen"), HoldStatus.COMMITTED.value),
            else_=HoldStatus.RELEASED.value,
        )
    )
    .returning(_holds.c.id, _holds.c.option_id, _holds.c.flight_id, _holds.c.cabin, _holds.c.seats)
)
_RESTORE_HOLDS = (
    update(_holds)
    .where(_holds.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=HoldStatus.HELD.value)
)


async def change_option(
    session: AsyncSession,
    *,
    booked_option_id: int,
    option_id: int,
    now: dt.datetime,
    not_before: dt.datetime,
) -> ChangeResult:
    """Move the booking from `booked_option_id` to `option_id` unless either departs before `not_before`."""
    pair = await _pair(session, booked_option_id, option_id, not_before)
    if isinstance(pair, ChangeResult):
        return pair
    old, new = pair
    seg_rows = (await session.execute(_SEGMENTS, {"booking": new.booking_id})).all()
    replaced = _legs_of(seg_rows, old)
    if replaced is None:
        return ChangeResult(ChangeStatus.ALREADY_BOOKED, booked_option_id, old.offer_id)
    if not await _win(session, old, new, now):
        return ChangeResult(ChangeStatus.EXPIRED, option_id, new.offer_id)
    if not await _move(session, old, new, replaced, int(seg_rows[0].last)):
        await _give_back(session, old, new)
        return ChangeResult(ChangeStatus.UNAVAILABLE, option_id, new.offer_id)
    return ChangeResult(ChangeStatus.CHANGED, new.id, new.offer_id)


async def reserve_change(
    session: AsyncSession,
    *,
    booked_option_id: int,
    option_id: int,
    now: dt.datetime,
    not_before: dt.datetime,
) -> ReservedChange | ChangeResult:
    """Against a remote PSS: win the fresh offer for `option_id`, its seats left held, and plan the PNR change.

    Nothing moves until the PSS confirmed (`complete_change`). Only a fresh offer's option can be
    reserved so: another option of the booked offer holds no seat (its holds went at booking), so
    the answer there is UNAVAILABLE and the passenger gets fresh options, which hold theirs.
    """
    pair = await _pair(session, booked_option_id, option_id, not_before)
    if isinstance(pair, ChangeResult):
        return pair
    old, new = pair
    if new.offer_id == old.offer_id:
        return ChangeResult(ChangeStatus.UNAVAILABLE, option_id, new.offer_id)
    seg_rows = (await session.execute(_SEGMENTS, {"booking": new.booking_id})).all()
    replaced = _legs_of(seg_rows, old)
    if replaced is None:
        return ChangeResult(ChangeStatus.ALREADY_BOOKED, booked_option_id, old.offer_id)
    if not await _win(session, old, new, now):
        return ChangeResult(ChangeStatus.EXPIRED, option_id, new.offer_id)
    keys = await flight_keys(session, {s.flight_id for s in replaced} | {int(f) for f in new.flight_ids})
    pnr = (
        await session.execute(
            select(Booking.locator, Booking.version).where(Booking.id == new.booking_id)
        )
    ).one()
    change = PnrChange(
        locator=pnr.locator,
        cancel=tuple(
            PnrSegment(keys[s.flight_id], s.cabin, SegmentStatus.HX.value) for s in replaced
        ),
        sell=tuple(
            PnrSegment(keys[int(f)], new.cabin, SegmentStatus.HK.value) for f in new.flight_ids
        ),
        passengers=int(new.seats),
        version=int(pnr.version) or None,
    )
    return ReservedChange(int(new.offer_id), int(new.booking_id), int(new.id), change)


async def complete_change(
    session: AsyncSession, *, booked_option_id: int, option_id: int
) -> ChangeResult:
    """The PSS confirmed the reserved change: move the booking with the held seats, as `change_option` does.

    UNAVAILABLE (the offer left accepted: the caller escalates) only if a leg's seat went since;
    ALREADY_BOOKED if the booking no longer flies the booked option; EXPIRED if the offer is no
    longer accepted for this option.
    """
    rows = {
        r.id: r
        for r in (await session.execute(_OPTIONS, {"ids": [booked_option_id, option_id]})).all()
    }
    old, new = rows.get(booked_option_id), rows.get(option_id)
    if old is None or new is None or old.booking_id != new.booking_id:
        return ChangeResult(ChangeStatus.UNKNOWN, option_id)
    accepted = (
        await session.execute(select(offers.c.accepted_option_id).where(offers.c.id == new.offer_id))
    ).scalar_one_or_none()
    if new.status != OfferStatus.ACCEPTED.value or accepted != new.id:
        return ChangeResult(ChangeStatus.EXPIRED, option_id, new.offer_id)
    seg_rows = (await session.execute(_SEGMENTS, {"booking": new.booking_id})).all()
    replaced = _legs_of(seg_rows, old)
    if replaced is None:
        return ChangeResult(ChangeStatus.ALREADY_BOOKED, booked_option_id, old.offer_id)
    if not await _move(session, old, new, replaced, int(seg_rows[0].last)):
        return ChangeResult(ChangeStatus.UNAVAILABLE, option_id, new.offer_id)
    return ChangeResult(ChangeStatus.CHANGED, new.id, new.offer_id)


async def _move(
    session: AsyncSession, old: Any, new: Any, replaced: tuple[SegmentRow, ...], last: int
) -> bool:
    """The atomic move: the replaced legs given back, the new ones taken (held seats committed); all or nothing."""
    choice = Choice(
        new.booking_id, new.id, tuple(int(f) for f in new.flight_ids), new.cabin, int(new.seats)
    )
    holds = await _take_holds(session, old, new)
    if not await move_one_by_one(session, _netted(plan_moves(choice, holds, replaced))):
        if holds:
            await session.execute(_RESTORE_HOLDS, {"ids": [h.id for h in holds]})
        return False
    rewrite = Rewrite(choice, replaced, later=last > max(s.seq for s in replaced))
    await store_for(session).rewrite(session, rewrite, [])
    return True


def _legs_of(rows: Sequence[Any], old: Any) -> tuple[SegmentRow, ...] | None:
    """The booking's active segments flying the booked option, in order; None if it no longer flies all of them."""
    wanted = [int(f) for f in old.flight_ids]
    legs = [segment_row(r) for r in rows if r.flight_id in wanted]
    if sorted(s.flight_id for s in legs) != sorted(wanted):
        return None
    return tuple(legs)


async def _win(session: AsyncSession, old: Any, new: Any, now: dt.datetime) -> bool:
    """The guard: the booked offer's acceptance moves once, or the fresh offer is accepted once while open."""
    if new.offer_id == old.offer_id:
        params = {"offer_id": old.offer_id, "from_option": old.id, "to_option": new.id}
        result = await session.execute(_MOVE_ACCEPTANCE, params)
    else:
        result = await session.execute(
            ACCEPT, {"offer_id": new.offer_id, "option_id": new.id, "now": now}
        )
    return cast("CursorResult[Any]", result).rowcount == 1


async def _take_holds(session: AsyncSession, old: Any, new: Any) -> list[Hold]:
    """A fresh offer's holds (an accepted offer's were released at booking: its other options are sold under the guard)."""
    if new.offer_id == old.offer_id:
        return []
    rows = await session.execute(_TAKE_HOLDS, {"offer_id": new.offer_id, "chosen": new.id})
    return [Hold(*row) for row in rows.all()]


async def _give_back(session: AsyncSession, old: Any, new: Any) -> None:
    """Refused: the acceptance goes back to the booked option, or the fresh offer reopens."""
    if new.offer_id == old.offer_id:
        await session.execute(
            _MOVE_ACCEPTANCE, {"offer_id": old.offer_id, "from_option": new.id, "to_option": old.id}
        )
    else:
        await reopen(session, new.offer_id)


def _netted(moves: list[CounterMove]) -> list[CounterMove]:
    """A leg both given back and sold again (a flight the two options share) does not move: no guard can refuse it."""
    sold = {m.key for m in moves if m.change is SeatChange.SELL}
    unsold = {m.key for m in moves if m.change is SeatChange.UNSELL}
    both = sold & unsold
    return [
        m for m in moves if not (m.key in both and m.change in (SeatChange.SELL, SeatChange.UNSELL))
    ]


async def legs_of_option(
    session: AsyncSession, *, booking_id: int, option_id: int
) -> tuple[int, ...]:
    """The booking's active segments flying this option (a refund instead of a protection cancels them)."""
    flight_ids = (
        await session.execute(select(options.c.flight_ids).where(options.c.id == option_id))
    ).scalar_one_or_none()
    wanted = {int(f) for f in flight_ids or ()}
    rows = (await session.execute(_SEGMENTS, {"booking": booking_id})).all()
    return tuple(int(r.id) for r in rows if r.flight_id in wanted)


async def _pair(session: AsyncSession, booked_option_id: int, option_id: int, not_before: dt.datetime) -> tuple[Any, Any] | ChangeResult:
    """The booked option and the chosen one, or why no change between them can be made."""
    rows = {r.id: r for r in (await session.execute(_OPTIONS, {"ids": [booked_option_id, option_id]})).all()}
    old, new = rows.get(booked_option_id), rows.get(option_id)
    if old is None or new is None or old.booking_id != new.booking_id:
        return ChangeResult(ChangeStatus.UNKNOWN, option_id)
    if list(new.flight_ids) == list(old.flight_ids) and new.cabin == old.cabin:
        return ChangeResult(ChangeStatus.ALREADY_BOOKED, booked_option_id, old.offer_id)
    if old.dep_utc < not_before or new.dep_utc < not_before:
        return ChangeResult(ChangeStatus.TOO_LATE, booked_option_id, old.offer_id)
    return old, new
