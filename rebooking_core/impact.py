"""Which bookings a disruption hits: everything loaded in a handful of bulk queries.

`assess_impact` reads the disruption's flights, the hit bookings' active segments and their
passengers, and hands the rows to the pure `rebooking_core.impact_rules.assess`, which applies
the rules (also importable from here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.impact_rules import (
    ACTIVE_SEGMENT_STATUSES,
    DEFAULT_MCT,
    DEFAULT_REBOOK_DELAY_THRESHOLD,
    DisruptedFlight,
    ImpactedBooking,
    PassengerRow,
    SegmentRow,
    assess,
    journeys,
    segments_to_replace,
)
from rebooking_core.models import Booking, Disruption, DisruptionFlight, Flight, Passenger, Segment
from rebooking_core.preferences import normalised
from rebooking_core.types import DisruptionKind, FlightStatus

__all__ = [
    "ACTIVE_SEGMENT_STATUSES",
    "SEGMENT_COLUMNS",
    "DisruptedFlight",
    "ImpactedBooking",
    "PassengerRow",
    "SegmentRow",
    "assess",
    "assess_impact",
    "journeys",
    "load_active_segments",
    "segment_row",
    "segments_to_replace",
]


async def load_active_segments(
    session: AsyncSession, *, booking_ids: Iterable[int] | Select[Any]
) -> list[SegmentRow]:
    """Active segments with their flights, in seq order, for some bookings (ids or a subquery)."""
    ids: list[int] | Select[Any] = (
        booking_ids if isinstance(booking_ids, Select) else list(booking_ids)
    )
    stmt = (
        select(*SEGMENT_COLUMNS)
        .join(Flight, Flight.id == Segment.flight_id)
        .where(Segment.status.in_(ACTIVE_SEGMENT_STATUSES), Segment.booking_id.in_(ids))
        .order_by(Segment.booking_id, Segment.seq, Segment.id)
    )
    return [segment_row(r) for r in await session.execute(stmt)]


#: What `segment_row` reads: a segment joined with its flight (table columns: the select stays Core).
SEGMENT_COLUMNS = (
    Segment.__table__.c.id,
    Segment.__table__.c.booking_id,
    Segment.__table__.c.seq,
    Segment.__table__.c.flight_id,
    Segment.__table__.c.cabin,
    Flight.__table__.c.origin,
    Flight.__table__.c.destination,
    Flight.__table__.c.dep_utc,
    Flight.__table__.c.arr_utc,
    Flight.__table__.c.est_dep_utc,
    Flight.__table__.c.est_arr_utc,
)


async def load_passengers(session: AsyncSession, *, booking_ids: Any) -> list[PassengerRow]:
    """The passengers of these bookings (ids or a subquery) as the pure assessment reads them."""
    pax_rows = await session.execute(
        select(
            Passenger.id,
            Passenger.booking_id,
            Booking.locator,
            Booking.group_name,
            Passenger.tier,
            Passenger.language,
            Passenger.ssr,
            Passenger.is_contact,
            Passenger.miles,
            Passenger.preferences,
        )
        .join(Booking, Booking.id == Passenger.booking_id)
        .where(Passenger.booking_id.in_(booking_ids))
    )
    return [
        PassengerRow(
            passenger_id=r.id,
            booking_id=r.booking_id,
            locator=r.locator,
            group_name=r.group_name,
            tier=r.tier,
            language=r.language,
            ssr=r.ssr,
            is_contact=bool(r.is_contact),
            miles=r.miles,
            preferences=normalised(r.preferences),
        )
        for r in pax_rows
    ]


def segment_row(r: Any) -> SegmentRow:
    """A row selected with `SEGMENT_COLUMNS` (and maybe more) as a SegmentRow."""
    return SegmentRow(
        segment_id=r.id,
        booking_id=r.booking_id,
        seq=r.seq,
        flight_id=r.flight_id,
        cabin=r.cabin,
        origin=r.origin,
        destination=r.destination,
        dep_utc=r.dep_utc,
        arr_utc=r.arr_utc,
        est_dep_utc=r.est_dep_utc,
        est_arr_utc=r.est_arr_utc,
    )


async def assess_impact(
    session: AsyncSession,
    *,
    disruption_id: int,
    now: dt.datetime | None = None,
    mct: dt.timedelta = DEFAULT_MCT,
    rebook_delay_threshold: dt.timedelta = DEFAULT_REBOOK_DELAY_THRESHOLD,
) -> list[ImpactedBooking]:
    """Every booking the disruption hits, loaded in bulk (no query per booking)."""
    now = now or dt.datetime.now(dt.UTC)
    disruption = await session.get(Disruption, disruption_id)
    if disruption is None:
        raise LookupError(f"disruption {disruption_id} not found")
    flights_q = select(DisruptionFlight.flight_id).where(
        DisruptionFlight.disruption_id == disruption_id
    )
    rows = await session.execute(
        select(
            Flight.id,
            Flight.status,
            Flight.dep_utc,
            Flight.arr_utc,
            Flight.est_dep_utc,
            Flight.est_arr_utc,
        ).where(Flight.id.in_(flights_q))
    )
    disrupted = {
        r.id: _disrupted_flight(
            r.id, r.status, r.dep_utc, r.arr_utc, r.est_dep_utc, r.est_arr_utc, disruption
        )
        for r in rows
    }
    if not disrupted:
        return []
    hit_bookings = (
        select(Segment.booking_id)
        .where(
            Segment.flight_id.in_(flights_q),
            Segment.status.in_(ACTIVE_SEGMENT_STATUSES),
        )
        .distinct()
    )
    segments = await load_active_segments(session, booking_ids=hit_bookings)
    passengers = await load_passengers(session, booking_ids=hit_bookings)
    return assess(
        disrupted=disrupted,
        segments=segments,
        passengers=passengers,
        now=now,
        disruption_id=disruption_id,
        reason=disruption.reason,
        mct=mct,
        rebook_delay_threshold=rebook_delay_threshold,
    )


def _disrupted_flight(
    flight_id: int,
    status: str,
    dep: dt.datetime,
    arr: dt.datetime,
    est_dep: dt.datetime | None,
    est_arr: dt.datetime | None,
    disruption: Disruption,
) -> DisruptedFlight:
    if status == FlightStatus.CANCELLED.value or disruption.kind == DisruptionKind.CANCELLED.value:
        return DisruptedFlight(flight_id, cancelled=True)
    if est_arr is None:
        new_dep = est_dep or disruption.new_dep_utc
        est_arr = arr + (new_dep - dep) if new_dep is not None else None
    return DisruptedFlight(flight_id, cancelled=False, est_arr_utc=est_arr)
