"""The built-in SQL store as the default `Inventory`, `Reservations` and `Loyalty` (embedded demo, tests).

Here rebook's own tables are the airline's systems, and that decides what each answer means:

- Seats: availability is `capacity - sold - held` from `inventory`; a hold and its release are the
  guarded UPDATEs of `rebooking_core.inventory` (never read-then-write), recorded in
  `airline_holds` so a repeated idempotency key holds nothing twice and a release is idempotent.
- PNRs: the local booking IS the PNR, and rebook's booking transaction rewrites its segments
  (replaced ones HX, new legs HK) and moves the seat counters itself. So `change` writes no
  segment and no counter — doing it here too would do it twice. It checks what a PSS would check
  (the PNR exists, the `version` it was planned on is current, every segment to cancel is held),
  answers CONFIRMED at once or REFUSED, and records that answer under its key: a retry gets the
  same answer and `change_status` can tell a change it confirmed from one it never saw (UNKNOWN),
  exactly as the two-phase recovery asks a remote PSS.
- Version: the bookings table has no version column; a PNR's version here is the number of its
  segment rows. Each rewrite adds rows (replaced segments stay, as HX), so it only grows, and a
  change planned before another rewrite is refused as a PSS refuses a stale version.
- Refunds: recorded once per key and CONFIRMED, meaning the request is accepted; paying it is the
  airline's own process, outside rebook.
- Loyalty: the tier, status, miles and preferences columns of `passengers`, as the import gave them.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from infra.db import Database, insert_ignore
from rebooking_core.airline.ports import (
    Availability,
    FlightKey,
    LoyaltyProfile,
    PnrChange,
    PnrOutcome,
    PnrSegment,
    PnrState,
    PnrView,
    RefundOutcome,
    RefundRequest,
    RemoteHold,
)
from rebooking_core.airline.tables import PortHold, PortRequest
from rebooking_core.inventory import hold_seats, release_seats
from rebooking_core.models import Booking, Flight, Inventory, Passenger, Segment
from rebooking_core.types import SegmentStatus

__all__ = ["HELD", "RELEASED", "REFUSED_HOLD", "SqlStore", "passenger_in_pnr"]

log = logging.getLogger(__name__)

HELD, RELEASED, REFUSED_HOLD = "held", "released", "refused"
_CHANGE, _REFUND = "change", "refund"


class SqlStore:
    """All three ports over rebook's own tables; each call is one transaction of its own."""

    def __init__(self, db: Database, *, clock: Callable[[], dt.datetime]) -> None:
        self.db = db
        self.clock = clock

    # -- Inventory ---------------------------------------------------------------------------

    async def availability(self, flights: Sequence[FlightKey]) -> list[Availability]:
        """Free seats (capacity - sold - held) per cabin of each flight known here, in the order asked."""
        if not flights:
            return []
        wanted = or_(*(_is_flight(key) for key in flights))
        free = Inventory.capacity - Inventory.sold - Inventory.held
        stmt = (
            select(Flight.carrier, Flight.number, Flight.service_date, Inventory.cabin, free)
            .join(Inventory, Inventory.flight_id == Flight.id)
            .where(wanted)
            .order_by(Inventory.cabin)
        )
        async with self.db.reading() as s:
            rows = (await s.execute(stmt)).all()
        found: dict[FlightKey, list[Availability]] = {}
        for carrier, number, date, cabin, seats in rows:
            key = FlightKey(carrier, number, date)
            found.setdefault(key, []).append(Availability(key, cabin, max(0, int(seats))))
        return [a for key in dict.fromkeys(flights) for a in found.get(key, [])]

    async def hold(
        self,
        flight: FlightKey,
        cabin: str,
        seats: int,
        *,
        expires_at: dt.datetime,
        idempotency_key: str,
    ) -> RemoteHold | None:
        """Hold through the guarded UPDATE; the same key answers what it answered first and holds nothing again."""
        async with self.db.transaction() as s:
            flight_id = await _flight_id(s, flight)
            if flight_id is None:
                return None
            reference = f"H{uuid.uuid4().hex[:20]}"
            row = {
                "reference": reference,
                "idempotency_key": idempotency_key,
                "flight_id": flight_id,
                "cabin": cabin,
                "seats": seats,
                "status": HELD,
                "expires_at": expires_at,
                "created_at": self.clock(),
            }
            if await insert_ignore(s, PortHold, row):
                if not await hold_seats(s, flight_id=flight_id, cabin=cabin, seats=seats):
                    await s.execute(
                        update(PortHold)
                        .where(PortHold.reference == reference)
                        .values(status=REFUSED_HOLD)
                    )
                    return None
                return RemoteHold(reference, flight, cabin, seats, expires_at)
            first = await s.scalar(
                select(PortHold).where(PortHold.idempotency_key == idempotency_key)
            )
        if first is None or first.status == REFUSED_HOLD:
            return None
        return RemoteHold(first.reference, flight, first.cabin, first.seats, first.expires_at)

    async def release(self, reference: str) -> None:
        """Give the seats back once: only the UPDATE that moves the hold from held counts them."""
        async with self.db.transaction() as s:
            await _release(s, reference)

    async def expire(self, now: dt.datetime) -> int:
        """Release every hold past its expiry (a sweeper's pass); the number released."""
        async with self.db.transaction() as s:
            lapsed = (
                await s.scalars(
                    select(PortHold.reference).where(
                        PortHold.status == HELD, PortHold.expires_at <= now
                    )
                )
            ).all()
            released = [ref for ref in lapsed if await _release(s, ref)]
        return len(released)

    # -- Reservations ------------------------------------------------------------------------

    async def change(self, change: PnrChange, *, idempotency_key: str) -> PnrOutcome:
        """Check the change as a PSS would and confirm it at once; rebook's booking transaction does the rewrite."""
        async with self.db.transaction() as s:
            first = await _request(s, idempotency_key, _CHANGE)
            if first is not None:
                return _outcome(first)
            booking_id = await _booking_id(s, change.locator)
            if booking_id is None:
                return PnrOutcome(PnrState.REFUSED, reason="unknown_pnr")
            segments = await _segments(s, booking_id)
            outcome = _judge(change, segments)
            row = {
                "idempotency_key": idempotency_key,
                "booking_id": booking_id,
                "kind": _CHANGE,
                "state": outcome.state.value,
                "reason": outcome.reason,
                "version": outcome.version,
                "created_at": self.clock(),
            }
            if await insert_ignore(s, PortRequest, row):
                return outcome
            raced = await _request(s, idempotency_key, _CHANGE)
        if raced is None:  # the key was taken by a refund: never answer a change with it
            return PnrOutcome(PnrState.REFUSED, reason="key_reused")
        return _outcome(raced)

    async def change_status(self, locator: str, idempotency_key: str) -> PnrOutcome:
        """The answer recorded for this key on this PNR; UNKNOWN when `change` never got it."""
        async with self.db.reading() as s:
            row = await s.scalar(
                select(PortRequest)
                .join(Booking, Booking.id == PortRequest.booking_id)
                .where(
                    PortRequest.idempotency_key == idempotency_key,
                    PortRequest.kind == _CHANGE,
                    Booking.locator == locator,
                )
            )
        return _outcome(row) if row is not None else PnrOutcome(PnrState.UNKNOWN)

    async def refund(self, request: RefundRequest, *, idempotency_key: str) -> RefundOutcome:
        """Record the request once per key; CONFIRMED means accepted (paying it is the airline's process)."""
        async with self.db.transaction() as s:
            first = await _request(s, idempotency_key, _REFUND)
            if first is None:
                booking_id = await _booking_id(s, request.locator)
                if booking_id is None:
                    return RefundOutcome(PnrState.REFUSED, reason="unknown_pnr")
                row = {
                    "idempotency_key": idempotency_key,
                    "booking_id": booking_id,
                    "kind": _REFUND,
                    "state": PnrState.CONFIRMED.value,
                    "reference": f"R{uuid.uuid4().hex[:20]}",
                    "created_at": self.clock(),
                }
                await insert_ignore(s, PortRequest, row)
                first = await _request(s, idempotency_key, _REFUND)
        if first is None:  # the key was taken by a change: never answer a refund with it
            return RefundOutcome(PnrState.REFUSED, reason="key_reused")
        return RefundOutcome(PnrState(first.state), reference=first.reference, reason=first.reason)

    async def read(self, locator: str) -> PnrView | None:
        """The booking as a PNR: every segment with its status (replaced ones HX), in itinerary order."""
        async with self.db.reading() as s:
            booking_id = await _booking_id(s, locator)
            if booking_id is None:
                return None
            segments = await _segments(s, booking_id)
            passengers = await s.scalar(
                select(func.count())
                .select_from(Passenger)
                .where(Passenger.booking_id == booking_id)
            )
        return PnrView(locator, len(segments), tuple(segments), int(passengers or 0))

    # -- Loyalty -----------------------------------------------------------------------------

    async def profile(self, passenger_id: int) -> LoyaltyProfile | None:
        """What the import file gave: tier, and the programme's status, miles and preferences when it had them."""
        async with self.db.reading() as s:
            row = (
                await s.execute(
                    select(
                        Passenger.tier,
                        Passenger.loyalty_status,
                        Passenger.miles,
                        Passenger.preferences,
                    ).where(Passenger.id == passenger_id)
                )
            ).first()
        if row is None:
            return None
        return LoyaltyProfile(
            tier=int(row.tier),
            status=row.loyalty_status,
            miles=row.miles,
            preferences=dict(row.preferences or {}),
        )


def _is_flight(key: FlightKey) -> Any:
    return and_(
        Flight.carrier == key.carrier, Flight.number == key.number, Flight.service_date == key.date
    )


async def _flight_id(s: AsyncSession, key: FlightKey) -> int | None:
    found = await s.scalar(select(Flight.id).where(_is_flight(key)))
    return None if found is None else int(found)


async def _booking_id(s: AsyncSession, locator: str) -> int | None:
    found = await s.scalar(select(Booking.id).where(Booking.locator == locator))
    return None if found is None else int(found)


async def _segments(s: AsyncSession, booking_id: int) -> list[PnrSegment]:
    rows = (
        await s.execute(
            select(
                Flight.carrier, Flight.number, Flight.service_date, Segment.cabin, Segment.status
            )
            .join(Flight, Flight.id == Segment.flight_id)
            .where(Segment.booking_id == booking_id)
            .order_by(Segment.seq, Segment.id)
        )
    ).all()
    return [PnrSegment(FlightKey(c, n, d), cabin, status) for c, n, d, cabin, status in rows]


async def _release(s: AsyncSession, reference: str) -> bool:
    """Mark one hold released and give its seats back, if it was still held; True when this call did it."""
    hold = await s.scalar(select(PortHold).where(PortHold.reference == reference))
    if hold is None:
        return False
    moved = await s.execute(
        update(PortHold)
        .where(PortHold.reference == reference, PortHold.status == HELD)
        .values(status=RELEASED)
    )
    if cast("CursorResult[Any]", moved).rowcount != 1:
        return False
    if not await release_seats(s, flight_id=hold.flight_id, cabin=hold.cabin, seats=hold.seats):
        # Only a counter changed outside the guarded functions gets here; the hold is released all the same.
        log.warning(
            "hold %s released but inventory held was below its %d seats", reference, hold.seats
        )
    return True


async def _request(s: AsyncSession, key: str, kind: str) -> PortRequest | None:
    return await s.scalar(
        select(PortRequest).where(PortRequest.idempotency_key == key, PortRequest.kind == kind)
    )


def _judge(change: PnrChange, segments: Sequence[PnrSegment]) -> PnrOutcome:
    """What a PSS checks before it rewrites a PNR: the version planned on, and that every cancelled segment is held."""
    version = len(segments)
    if change.version is not None and change.version != version:
        return PnrOutcome(PnrState.REFUSED, version=version, reason="version_conflict")
    held = {(seg.flight, seg.cabin) for seg in segments if seg.status != SegmentStatus.HX}
    if any((seg.flight, seg.cabin) not in held for seg in change.cancel):
        return PnrOutcome(PnrState.REFUSED, version=version, reason="segment_not_held")
    # No version: the local PNR's moves when rebook's booking transaction writes the new legs, after this answer.
    return PnrOutcome(PnrState.CONFIRMED)


def _outcome(row: PortRequest) -> PnrOutcome:
    return PnrOutcome(PnrState(row.state), version=row.version, reason=row.reason)


async def passenger_in_pnr(db: Database, passenger_id: int) -> tuple[str, int] | None:
    """(locator, position from 1 in id order): how a remote PSS names one of rebook's passengers."""
    async with db.reading() as s:
        found = (
            await s.execute(
                select(Booking.locator, Passenger.booking_id)
                .select_from(Passenger)
                .join(Booking, Booking.id == Passenger.booking_id)
                .where(Passenger.id == passenger_id)
            )
        ).first()
        if found is None:
            return None
        locator, booking_id = found
        position = await s.scalar(
            select(func.count())
            .select_from(Passenger)
            .where(Passenger.booking_id == booking_id, Passenger.id <= passenger_id)
        )
    return str(locator), int(position or 0)
