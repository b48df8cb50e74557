"""The durable steps of a disruption: record it once, assess who is hit, fan out in priority batches."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from conversations.clock import Clock
from conversations.engine import Status
from conversations.impact_json import impact_to_json
from conversations.intake.ports import DisruptionRequest, FlightKey, Recorded, UnknownFlight
from conversations.models import CONVERSATIONS, Conversation
from infra.db import Database
from infra.idempotency import insert_or_get
from rebooking_core.allocation import order_for_allocation
from rebooking_core.impact import assess_impact
from rebooking_core.models import Disruption, DisruptionFlight, Flight
from rebooking_core.types import DisruptionKind, FlightStatus


async def _find_flight(s: AsyncSession, key: FlightKey) -> Flight:
    flight = (
        await s.scalars(
            select(Flight).where(Flight.carrier == key.carrier, Flight.number == key.number, Flight.service_date == key.date)
        )
    ).first()
    if flight is None:
        raise UnknownFlight(f"no flight {key.carrier}{key.number} on {key.date.isoformat()}")
    return flight


async def record_disruption(db: Database, request: DisruptionRequest, *, clock: Clock) -> Recorded:
    """Idempotent on `idempotency_key`: the same key twice, even at the same moment, names one disruption."""
    now = clock()
    values = {
        "kind": request.kind.value,
        "reason": request.reason,
        "idempotency_key": request.idempotency_key,
        "new_dep_utc": request.new_departure,
        "created_at": now,
    }
    async with db.transaction() as s:
        if request.idempotency_key:
            claimed = await insert_or_get(s, Disruption, values, key="idempotency_key")
            if not claimed.created:
                return Recorded(claimed.id, False)
            disruption_id = claimed.id
        else:
            disruption = Disruption(**values)
            s.add(disruption)
            await s.flush()
            disruption_id = disruption.id
        # An unknown flight raises here and rolls the claim back with everything else.
        flights = [await _find_flight(s, key) for key in request.flights]
        for flight in flights:
            s.add(DisruptionFlight(disruption_id=disruption_id, flight_id=flight.id))
            if request.kind is DisruptionKind.CANCELLED:
                flight.status = FlightStatus.CANCELLED.value
            else:
                flight.status = FlightStatus.DELAYED.value
                if request.new_departure is not None:
                    shift = request.new_departure - flight.dep_utc
                    flight.est_dep_utc = request.new_departure
                    flight.est_arr_utc = flight.arr_utc + shift
        return Recorded(disruption_id, True)


async def assess(db: Database, disruption_id: int, *, clock: Clock, batch_size: int = 100) -> list[list[int]]:
    """Create one pending conversation per impacted booking; returns the batches still to offer."""
    async with db.transaction() as s:
        disruption = await s.get(Disruption, disruption_id)
        if disruption is None:
            return []
        if disruption.status == "received":
            impacted = order_for_allocation(await assess_impact(s, disruption_id=disruption_id))
            now = clock()
            rows = [
                {
                    "disruption_id": disruption_id,
                    "booking_id": i.booking_id,
                    "flight_id": i.disrupted_flight_id,
                    "origin": i.rebook_from,
                    "passenger_id": i.contact_passenger_id,
                    "passengers": i.passengers,
                    "tier": i.tier,
                    "priority": len(impacted) - rank,
                    "status": Status.PENDING.value,
                    "version": 0,
                    "locale": locales.negotiate(i.language),
                    "impact": impact_to_json(i),
                    "window_open_until": {},
                    "reminders_sent": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for rank, i in enumerate(impacted)
            ]
            if rows:
                await s.execute(insert(CONVERSATIONS), rows)
            disruption.impacted_passengers = sum(i.passengers for i in impacted)
            disruption.status = "offering"
            disruption.assessed_at = now
            disruption.batches_total = -(-len(rows) // batch_size)
        ids = list(
            (
                await s.scalars(
                    select(Conversation.id)
                    .where(Conversation.disruption_id == disruption_id, Conversation.status == Status.PENDING.value)
                    .order_by(Conversation.priority.desc(), Conversation.id)
                )
            ).all()
        )
    return [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]

