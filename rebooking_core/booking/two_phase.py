"""Booking against a remote PSS in two steps: reserve the choice now, complete it once the PSS confirmed.

`reserve` wins the offer's guard (the same ``UPDATE offers SET status = 'accepted'`` as
`book_option`) and plans the PNR change, without moving a seat: the chosen option's holds stay
held, so the seats the PSS is asked for cannot go to anyone else meanwhile, and an accepted offer
is neither expired nor superseded by the sweepers (they take open offers only). `complete` then
books it locally with those held seats (holds committed, the others released, segments rewritten)
through the database's `BookingStore`, like `book_option`; `give_back` reopens the offer after a
refusal, so the conversation's fresh offer supersedes it and frees its seats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.airline.ports import FlightKey, PnrChange, PnrSegment
from rebooking_core.booking.book import store_for
from rebooking_core.booking.rules import (
    BookingResult,
    BookingStatus,
    Choice,
    Hold,
    plan_moves,
    plan_rewrite,
)
from rebooking_core.booking.statements import (
    ACCEPT,
    HEAD,
    SEGMENTS,
    already_booked,
    current_booking,
    guard_lost,
    guard_params,
    options,
    retire,
    segments_where,
)
from rebooking_core.models import Booking, Flight, Offer, SeatHold
from rebooking_core.offers import OfferStatus
from rebooking_core.types import HoldStatus, SegmentStatus

__all__ = ["Reserved", "complete", "flight_keys", "give_back", "keep_version", "reserve"]

_holds = cast(Table, SeatHold.__table__)

#: The offer's seats still held: what `complete` commits (the chosen option's) and releases (the others').
_HELD = (
    select(_holds.c.id, _holds.c.option_id, _holds.c.flight_id, _holds.c.cabin, _holds.c.seats)
    .join(options, options.c.id == _holds.c.option_id)
    .where(_holds.c.status == HoldStatus.HELD.value)
)


@dataclass(frozen=True)
class Reserved:
    """The guard was won for this option: the change to send, the offer's seats still held."""

    offer_id: int
    booking_id: int
    option_id: int
    change: PnrChange


async def reserve(
    session: AsyncSession, *, option_id: int, now: dt.datetime, head: Any = None
) -> Reserved | BookingResult:
    """Win the offer for `option_id` and plan its PNR change; a `BookingResult` when there is nothing to send."""
    if head is None or head.id != option_id:
        head = (await session.execute(HEAD, {"option_id": option_id})).one_or_none()
    if head is None:
        return BookingResult(BookingStatus.UNKNOWN, option_id=option_id)
    choice = _choice(head)
    if head.status == OfferStatus.ACCEPTED.value:
        return await already_booked(session, head.offer_id, head.booking_id)
    if head.status != OfferStatus.OPEN.value or head.expires_at <= now:
        return BookingResult(BookingStatus.EXPIRED, choice.booking_id, option_id, choice.flight_ids)
    won = await session.execute(ACCEPT, guard_params(head, choice, now))
    if cast("CursorResult[Any]", won).rowcount != 1:
        return await guard_lost(session, head, choice)
    current = current_booking((await session.execute(SEGMENTS, segments_where(head, choice))).all())
    rewrite = plan_rewrite(choice, current)
    if rewrite is None:
        await retire(session, head.offer_id)
        return BookingResult(BookingStatus.CHANGED, choice.booking_id, option_id, choice.flight_ids)
    keys = await flight_keys(
        session, {s.flight_id for s in rewrite.replaced} | set(choice.flight_ids)
    )
    pnr = (
        await session.execute(
            select(Booking.locator, Booking.version).where(Booking.id == choice.booking_id)
        )
    ).one()
    change = PnrChange(
        locator=pnr.locator,
        cancel=tuple(
            PnrSegment(keys[s.flight_id], s.cabin, SegmentStatus.HX.value) for s in rewrite.replaced
        ),
        sell=tuple(
            PnrSegment(keys[f], choice.cabin, SegmentStatus.HK.value) for f in choice.flight_ids
        ),
        passengers=choice.seats,
        # The PNR version the airline's last import carried: a PNR changed at the airline since is refused (409).
        version=int(pnr.version) or None,
    )
    return Reserved(head.offer_id, choice.booking_id, option_id, change)


async def complete(session: AsyncSession, *, option_id: int) -> BookingResult:
    """Book the reserved option with its held seats: the PSS confirmed it, so nothing here may refuse for want of seats.

    UNAVAILABLE only if a leg's hold was lost and its seat is gone since (the offer is left
    accepted: the caller escalates); CHANGED if the booking has nothing left to replace.
    """
    head = (await session.execute(HEAD, {"option_id": option_id})).one_or_none()
    if head is None:
        return BookingResult(BookingStatus.UNKNOWN, option_id=option_id)
    choice = _choice(head)
    accepted = (
        await session.execute(select(Offer.accepted_option_id).where(Offer.id == head.offer_id))
    ).scalar_one()
    if head.status != OfferStatus.ACCEPTED.value or accepted != option_id:
        return BookingResult(BookingStatus.EXPIRED, choice.booking_id, option_id, choice.flight_ids)
    held = (await session.execute(_HELD.where(options.c.offer_id == head.offer_id))).all()
    segments = (await session.execute(SEGMENTS, segments_where(head, choice))).all()
    current = current_booking(segments, tuple(Hold(*h) for h in held))
    rewrite = plan_rewrite(choice, current)
    if rewrite is None:
        return BookingResult(BookingStatus.CHANGED, choice.booking_id, option_id, choice.flight_ids)
    store = store_for(session)
    holds = await store.take_holds(session, head, choice, current)
    if not await store.move(session, plan_moves(choice, holds, rewrite.replaced)):
        await store.keep_holds(session, holds)
        return BookingResult(
            BookingStatus.UNAVAILABLE, choice.booking_id, option_id, choice.flight_ids
        )
    await store.rewrite(session, rewrite, holds)
    return BookingResult(BookingStatus.BOOKED, choice.booking_id, option_id, choice.flight_ids)


async def give_back(session: AsyncSession, *, offer_id: int) -> None:
    """The PSS refused: the offer opens again with its seats still held, for the next offer to supersede."""
    await session.execute(
        update(Offer)
        .where(Offer.id == offer_id, Offer.status == OfferStatus.ACCEPTED.value)
        .values(status=OfferStatus.OPEN.value, accepted_option_id=None)
        .execution_options(synchronize_session=False)
    )


async def keep_version(session: AsyncSession, *, booking_id: int, version: int) -> None:
    """The PNR's version after the PSS applied our change, so the next change is planned on it (never moved back)."""
    await session.execute(
        update(Booking)
        .where(Booking.id == booking_id, Booking.version < version)
        .values(version=version)
        .execution_options(synchronize_session=False)
    )


def _choice(head: Any) -> Choice:
    return Choice(
        head.booking_id,
        head.id,
        tuple(int(f) for f in head.flight_ids),
        head.cabin,
        int(head.seats),
    )


async def flight_keys(session: AsyncSession, flight_ids: set[int]) -> dict[int, FlightKey]:
    """The PSS's names of our flights (carrier, number, service date), to send in a PNR change."""
    rows = await session.execute(
        select(Flight.id, Flight.carrier, Flight.number, Flight.service_date).where(
            Flight.id.in_(sorted(flight_ids))
        )
    )
    return {int(r.id): FlightKey(r.carrier, r.number, r.service_date) for r in rows}
