"""The statements both databases book with, built once at import: building one costs about as much as running it.

They are Core, on the tables: the ORM's bulk-statement layer adds about half again to each
(measured: 113 against 70 µs an UPDATE), and nothing here needs it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.booking.rules import BookingResult, BookingStatus, Choice, CurrentBooking, Hold
from rebooking_core.impact import ACTIVE_SEGMENT_STATUSES, SEGMENT_COLUMNS, segment_row
from rebooking_core.models import DisruptionFlight, Flight, Offer, OfferOption, Segment
from rebooking_core.offers import OfferStatus, release_holds

__all__ = [
    "ACCEPT",
    "HEAD",
    "OPTION_HEAD",
    "SEGMENTS",
    "already_booked",
    "current_booking",
    "guard_lost",
    "guard_params",
    "reopen",
    "retire",
    "segments_where",
]

offers = cast(Table, Offer.__table__)
options = cast(Table, OfferOption.__table__)
segments = cast(Table, Segment.__table__)
flights = cast(Table, Flight.__table__)
_disrupted = cast(Table, DisruptionFlight.__table__)

#: What `book_option` reads of the option and its offer first (a caller that read these columns
#: in the same transaction may pass its row: the offer's status is checked again by the guard).
OPTION_HEAD = (
    options.c.id,
    options.c.offer_id,
    options.c.flight_ids,
    options.c.cabin,
    offers.c.booking_id,
    offers.c.disruption_id,
    offers.c.status,
    offers.c.expires_at,
    offers.c.seats,
)
HEAD = (
    select(*OPTION_HEAD)
    .select_from(options)
    .join(offers, offers.c.id == options.c.offer_id)
    .where(options.c.id == bindparam("option_id"))
)

#: The guard: of two choices racing for one offer (a WhatsApp tap and an SMS "2"), one finds the row.
ACCEPT = (
    update(offers)
    .where(offers.c.id == bindparam("offer_id"), offers.c.status == OfferStatus.OPEN.value, offers.c.expires_at > bindparam("now"))
    .values(status=OfferStatus.ACCEPTED.value, accepted_option_id=bindparam("option_id"))
)

_ANY_SEGMENT = segments.alias("any_segment")
#: The booking's active segments, each flagged when the disruption hits its flight, with the
#: option's departure airport and the booking's last seq, active or not: what `current_booking`
#: needs, in one round trip.
SEGMENTS = (
    select(
        *SEGMENT_COLUMNS,
        segments.c.flight_id.in_(
            select(_disrupted.c.flight_id).where(_disrupted.c.disruption_id == bindparam("seg_disruption"))
        ).label("hit"),
        select(flights.c.origin).where(flights.c.id == bindparam("first_flight")).scalar_subquery().label("rebook_from"),
        select(func.max(_ANY_SEGMENT.c.seq)).where(_ANY_SEGMENT.c.booking_id == bindparam("seg_booking")).scalar_subquery().label("last"),
    )
    .join(flights, flights.c.id == segments.c.flight_id)
    .where(segments.c.status.in_(ACTIVE_SEGMENT_STATUSES), segments.c.booking_id == bindparam("seg_booking"))
    .order_by(segments.c.seq, segments.c.id)
)


def segments_where(head: Any, choice: Choice) -> dict[str, Any]:
    """`SEGMENTS`' parameters for the offer's booking and disruption."""
    return {"seg_booking": head.booking_id, "seg_disruption": head.disruption_id, "first_flight": choice.flight_ids[0]}


def guard_params(head: Any, choice: Choice, now: dt.datetime) -> dict[str, Any]:
    """`ACCEPT`'s parameters."""
    return {"offer_id": head.offer_id, "option_id": choice.option_id, "now": now}


def current_booking(rows: Sequence[Any], holds: tuple[Hold, ...] | None = None) -> CurrentBooking:
    """Rows of `SEGMENTS` (or with them, a row without a segment: none is active) as the rules read them."""
    active = [r for r in rows if r.id is not None]
    if not active:
        return CurrentBooking((), (), "", 0, holds)
    return CurrentBooking(
        tuple(segment_row(r) for r in active),
        tuple(r.flight_id for r in active if r.hit),
        rows[0].rebook_from,
        rows[0].last,
        holds,
    )


async def already_booked(session: AsyncSession, offer_id: int, booking_id: int) -> BookingResult:
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


async def guard_lost(session: AsyncSession, head: Any, choice: Choice) -> BookingResult:
    """Another choice won the offer (already booked), or it closed since it was read (expired)."""
    status = (await session.execute(select(Offer.status).where(Offer.id == head.offer_id))).scalar_one()
    if status == OfferStatus.ACCEPTED.value:
        return await already_booked(session, head.offer_id, head.booking_id)
    return BookingResult(BookingStatus.EXPIRED, choice.booking_id, choice.option_id, choice.flight_ids)


async def reopen(session: AsyncSession, offer_id: int) -> None:
    await session.execute(
        update(Offer)
        .where(Offer.id == offer_id)
        .values(status=OfferStatus.OPEN.value, accepted_option_id=None)
        .execution_options(synchronize_session=False)
    )


async def retire(session: AsyncSession, offer_id: int) -> None:
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
