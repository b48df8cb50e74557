"""Compensation claims: one per passenger and disruption, made at assessment and settled when the booking is known.

`record` runs where a disruption's impacted bookings are first written (intake's assessment and
a story's re-assessment): each passenger gets a claim decided by `rebooking_core.rights` for the
journey as it stands (a cancellation not yet rerouted, a delayed flight's estimated arrival).
`settle` decides again, with the new arrival, the claims of bookings confirmed on a new itinerary
(a rerouting can halve or lift them); the worker's sweep calls it in batches, so a booking reply
pays nothing for it. Paid and disputed claims are never changed.
Functions here never commit; the caller owns the transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.impact_rules import ImpactedBooking
from rebooking_core.models import CLAIMS, Claim, Disruption, Flight, Passenger
from rebooking_core.rights.carriers import Carriers
from rebooking_core.rights.engine import NONE, assess
from rebooking_core.rights.facts import CarrierSize, Incident, Journey, Licence, Reroute
from rebooking_core.rights.outcome import Outcome
from rebooking_core.types import DisruptionKind

__all__ = ["Booked", "ClaimStatus", "OPEN", "Total", "record", "settle", "totals"]


class ClaimStatus(StrEnum):
    OWED = "owed"
    NOT_OWED = "not_owed"
    PAID = "paid"
    DISPUTED = "disputed"


#: Claims a new itinerary may still change.
OPEN = (ClaimStatus.OWED.value, ClaimStatus.NOT_OWED.value)


def decide(
    impacted: ImpactedBooking, disruption: Disruption, licence: Licence, size: CarrierSize, reroute: Reroute | None
) -> Outcome:
    """The rights engine's outcome for one booking's passengers (all of a booking share a journey)."""
    departure = impacted.original_departure
    notice = max(dt.timedelta(0), departure - disruption.created_at) if departure is not None else dt.timedelta(0)
    journey = Journey(impacted.journey_origin or impacted.rebook_from, impacted.destination, licence, carrier_size=size)
    incident = Incident(
        kind=DisruptionKind(disruption.kind),
        reason_code=disruption.reason,
        scheduled_arrival=impacted.original_arrival,
        notice=notice,
        scheduled_departure=departure,
        station=impacted.rebook_from,
    )
    try:
        return assess(journey, incident, reroute)
    except KeyError:
        return _unknown_airport()


def _unknown_airport() -> Outcome:
    return dataclasses.replace(NONE, reason="unknown_airport", basis="an airport of the journey is not in the airport table")


def _values(outcome: Outcome, now: dt.datetime) -> dict[str, Any]:
    return {
        "status": (ClaimStatus.OWED if outcome.eligible else ClaimStatus.NOT_OWED).value,
        "regime": outcome.regime,
        "amount": outcome.amount,
        "currency": outcome.currency,
        "reason": outcome.reason,
        "basis": outcome.basis,
        "updated_at": now,
    }


async def record(
    s: AsyncSession, disruption: Disruption, impacted: Sequence[ImpactedBooking], *, now: dt.datetime, carriers: Carriers
) -> int:
    """A claim for every passenger (not erased) of these bookings that has none for the disruption; how many were made."""
    if not impacted:
        return 0
    booking_ids = sorted({i.booking_id for i in impacted})
    passengers: dict[int, list[int]] = defaultdict(list)
    for pid, bid in await s.execute(
        select(Passenger.id, Passenger.booking_id).where(Passenger.booking_id.in_(booking_ids), Passenger.erased_at.is_(None))
    ):
        passengers[bid].append(pid)
    flights = {
        f.id: f
        for f in (await s.execute(select(Flight).where(Flight.id.in_({i.disrupted_flight_id for i in impacted})))).scalars()
    }
    rows: list[dict[str, Any]] = []
    for i in impacted:
        flight = flights.get(i.disrupted_flight_id)
        licence = carriers.licence_of(flight.carrier) if flight is not None else carriers.licence
        outcome = decide(i, disruption, licence, carriers.size, _as_it_stands(i, disruption, flight))
        for pid in passengers[i.booking_id]:
            rows.append(
                {
                    "disruption_id": disruption.id,
                    "passenger_id": pid,
                    "booking_id": i.booking_id,
                    "licence": licence.value,
                    "carrier_size": carriers.size.value,
                    "created_at": now,
                    **_values(outcome, now),
                }
            )
    if not rows:
        return 0
    dialect = s.bind.dialect.name if s.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await s.execute(insert(CLAIMS).on_conflict_do_nothing(), rows)
    return max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]


def _as_it_stands(impacted: ImpactedBooking, disruption: Disruption, flight: Flight | None) -> Reroute | None:
    """A delayed flight that ends the journey arrives at its estimate; anything else is not rerouted yet."""
    if (
        disruption.kind != DisruptionKind.DELAYED.value
        or flight is None
        or impacted.missed_connection
        or flight.destination != impacted.destination
        or flight.est_arr_utc is None
    ):
        return None
    return Reroute(arrival=flight.est_arr_utc, departure=flight.est_dep_utc)


@dataclasses.dataclass(frozen=True)
class Booked:
    """A booking now on option `option_id` whose open claims were decided for another itinerary (or none)."""

    impacted: ImpactedBooking
    disruption: Disruption
    option_id: int
    reroute: Reroute
    licence: Licence
    size: CarrierSize


async def settle(s: AsyncSession, booked: Sequence[Booked], *, now: dt.datetime) -> int:
    """Decide these bookings' open claims again with their new itinerary, in one statement; how many bookings.

    The worker's sweep (`conversations.claims_sweep`) finds them, off the booking reply's path.
    """
    if not booked:
        return 0
    rows = [
        {
            "_disruption": b.impacted.disruption_id,
            "_booking": b.impacted.booking_id,
            "decided_option_id": b.option_id,
            **_values(decide(b.impacted, b.disruption, b.licence, b.size, b.reroute), now),
        }
        for b in booked
    ]
    await s.execute(
        update(CLAIMS).where(
            CLAIMS.c.disruption_id == bindparam("_disruption"),
            CLAIMS.c.booking_id == bindparam("_booking"),
            or_(*(CLAIMS.c.status == status for status in OPEN)),  # an IN list cannot be sent with executemany
        ),
        rows,
    )
    return len(rows)


@dataclasses.dataclass(frozen=True)
class Total:
    """Claims of one disruption under one regime and status: how many, and their sum in `currency`."""

    disruption_id: int
    regime: str
    currency: str
    status: str
    claims: int
    amount: int


async def totals(s: AsyncSession, *, disruption_ids: Sequence[int] | None = None, since: dt.datetime | None = None) -> list[Total]:
    """Totals per disruption, regime, currency and status (anonymised claims count too)."""
    query = select(
        Claim.disruption_id, Claim.regime, Claim.currency, Claim.status, func.count(), func.coalesce(func.sum(Claim.amount), 0)
    ).group_by(Claim.disruption_id, Claim.regime, Claim.currency, Claim.status)
    if disruption_ids is not None:
        query = query.where(Claim.disruption_id.in_(list(disruption_ids)))
    if since is not None:
        query = query.join(Disruption, Disruption.id == Claim.disruption_id).where(Disruption.created_at >= since)
    rows = await s.execute(query.order_by(Claim.disruption_id, Claim.regime, Claim.currency, Claim.status))
    return [Total(int(d), r, c, st, int(n), int(a)) for d, r, c, st, n, a in rows]
