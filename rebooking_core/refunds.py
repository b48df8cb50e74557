"""A refund instead of rerouting: the request recorded, the journey's unflown segments cancelled, and the airline told.

`record` runs inside the passenger's reply transaction: one request per booking and disruption
(a unique idempotency key, so a second "refund" inserts nothing), the disrupted journey's
remaining segments set HX and their seats given back with the guarded counter updates of
`rebooking_core.inventory`. `send_requested` is the worker's step that hands each new request to
the airline's `Reservations.refund` port outside any transaction, idempotent by the same key.
No money moves through rebook: the airline refunds to the original payment.
Functions here never commit, except `send_requested`, which owns its short transactions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from infra.db import Database, insert_ignore
from rebooking_core.airline.ports import (
    FlightKey,
    PnrSegment,
    PnrState,
    PssUnavailable,
    RefundOutcome,
    RefundRequest,
)
from rebooking_core.inventory import unsell_seats
from rebooking_core.models import Booking, Flight, RefundRequestRow, Segment
from rebooking_core.types import SegmentStatus

__all__ = ["RefundDesk", "RefundState", "Recorded", "idempotency_key", "record", "send_requested"]


class RefundState(StrEnum):
    REQUESTED = "requested"
    #: The airline accepted it and will confirm later.
    SENT = "sent"
    ACCEPTED = "accepted"
    REFUSED = "refused"


class RefundDesk(Protocol):
    """What sending needs of the airline's `Reservations` port: its refund call."""

    async def refund(self, request: RefundRequest, *, idempotency_key: str) -> RefundOutcome: ...


@dataclass(frozen=True)
class Recorded:
    """What `record` did: `new` is False when the booking's request already existed (nothing changed)."""

    new: bool
    cancelled_segments: tuple[int, ...] = ()


def idempotency_key(disruption_id: int, booking_id: int) -> str:
    """One refund per booking and disruption, also the key the airline's system sees."""
    return f"refund-{disruption_id}-{booking_id}"


async def record(
    s: AsyncSession,
    *,
    booking_id: int,
    disruption_id: int,
    conversation_id: int | None,
    passengers: int,
    segment_ids: Sequence[int],
    basis: str,
    now: dt.datetime,
) -> Recorded:
    """Record the request once and cancel (HX) the still-confirmed segments of `segment_ids`, giving their seats back."""
    inserted = await insert_ignore(
        s,
        RefundRequestRow,
        {
            "booking_id": booking_id,
            "disruption_id": disruption_id,
            "conversation_id": conversation_id,
            "passengers": passengers,
            "segment_ids": list(segment_ids),
            "basis": basis[:600],
            "state": RefundState.REQUESTED.value,
            "idempotency_key": idempotency_key(disruption_id, booking_id),
            "created_at": now,
        },
    )
    if not inserted:
        return Recorded(new=False)
    # Guarded: only a segment still HK turns HX, so its seats are given back exactly once.
    cancelled = (
        await s.execute(
            update(Segment)
            .where(
                Segment.id.in_(list(segment_ids)),
                Segment.booking_id == booking_id,
                Segment.status == SegmentStatus.HK.value,
            )
            .values(status=SegmentStatus.HX.value)
            .returning(Segment.id, Segment.flight_id, Segment.cabin)
            .execution_options(synchronize_session=False)
        )
    ).all()
    for _, flight_id, cabin in sorted(cancelled, key=lambda r: (r.flight_id, r.cabin)):
        # Best effort, as a rebooking's replaced segments: a counter already short is left as it is.
        await unsell_seats(s, flight_id=int(flight_id), cabin=str(cabin), seats=passengers)
    return Recorded(new=True, cancelled_segments=tuple(sorted(int(r.id) for r in cancelled)))


async def send_requested(
    db: Database, reservations: RefundDesk, *, now: dt.datetime, limit: int = 100
) -> int:
    """Hand up to `limit` new requests to the airline; how many got an answer (accepted, pending or refused).

    The call runs outside any transaction (a slow PSS holds no row lock); the same idempotency key
    makes a repeat after a crash harmless. A PSS that does not answer leaves the request for the next sweep.
    """
    async with db.reading() as s:
        due = (
            await s.scalars(
                select(RefundRequestRow)
                .where(RefundRequestRow.state == RefundState.REQUESTED.value)
                .order_by(RefundRequestRow.id)
                .limit(limit)
            )
        ).all()
        requests = [(row.id, row.idempotency_key, await _request(s, row)) for row in due]
    answered = 0
    for row_id, key, request in requests:
        if request is None:
            continue
        try:
            outcome = await reservations.refund(request, idempotency_key=key)
        except PssUnavailable:
            continue
        state = {
            PnrState.CONFIRMED: RefundState.ACCEPTED,
            PnrState.PENDING: RefundState.SENT,
            PnrState.REFUSED: RefundState.REFUSED,
        }.get(outcome.state)
        if state is None:  # UNKNOWN: it never arrived; the next sweep sends it again
            continue
        async with db.transaction() as s:
            await s.execute(
                update(RefundRequestRow)
                .where(
                    RefundRequestRow.id == row_id,
                    RefundRequestRow.state == RefundState.REQUESTED.value,
                )
                .values(
                    state=state.value,
                    reference=(outcome.reference or "")[:64] or None,
                    reason=(outcome.reason or "")[:64] or None,
                    sent_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        answered += 1
    return answered


async def _request(s: AsyncSession, row: RefundRequestRow) -> RefundRequest | None:
    """The port's value for a stored request: the PNR's locator and the cancelled segments as the PSS names them."""
    locator = await s.scalar(select(Booking.locator).where(Booking.id == row.booking_id))
    if locator is None:
        return None
    legs = (
        await s.execute(
            select(Flight.carrier, Flight.number, Flight.service_date, Segment.cabin)
            .join(Segment, Segment.flight_id == Flight.id)
            .where(Segment.id.in_(list(row.segment_ids)))
            .order_by(Segment.seq, Segment.id)
        )
    ).all()
    segments = tuple(
        PnrSegment(FlightKey(str(carrier), str(number), date), str(cabin), SegmentStatus.HX.value)
        for carrier, number, date, cabin in legs
    )
    return RefundRequest(
        locator=str(locator), segments=segments, basis=row.basis, passengers=row.passengers
    )
