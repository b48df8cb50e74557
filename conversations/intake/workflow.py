"""The durable steps of a disruption: record it once, assess who is hit, fan out in priority batches."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.clock import Clock
from conversations.engine import Status
from conversations.intake import disruption_events
from conversations.intake.ports import DisruptionRequest, FlightKey, Recorded, UnknownFlight
from conversations.intake.story import (
    Applied,
    InvalidUpdate,
    apply_in,
    follow,
    impacted_now,
    live_disruption,
    lock_flight,
    new_rows,
    validate,
)
from conversations.models import CONVERSATIONS, Conversation
from conversations.service import ConversationService
from infra.db import Database
from infra.idempotency import insert_or_get
from rebooking_core import claims
from rebooking_core.allocation import order_for_allocation
from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind
from rebooking_core.impact_rules import DEFAULT_REBOOK_DELAY_THRESHOLD
from rebooking_core.loyalty_profiles import ProfileSource
from rebooking_core.models import Disruption, DisruptionFlight, Flight
from rebooking_core.rights.carriers import Carriers
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


async def record_disruption(
    db: Database, request: DisruptionRequest, *, clock: Clock, service: ConversationService | None = None
) -> Recorded:
    """Idempotent on `idempotency_key`: the same key twice, even at the same moment, names one disruption.

    With `service`, a flight that already has a live disruption updates it (its story) instead
    of opening a second one; a delay not after the schedule raises InvalidUpdate.
    """
    if request.update is not None and service is None:
        raise InvalidUpdate(f"a {request.update.value} is applied to the flight's story: it needs the conversation service")
    now = clock()
    async with db.transaction() as s:
        found = await _story(s, service, request, now) if service is not None else None
        recorded = found[0] if found is not None else await _record_new(s, request, now)
    if found is not None and service is not None:
        service.wake()  # the update's messages are committed: send them
        # One re-plan per disruption covers all of its flights' updates.
        following = {applied.disruption_id: applied for applied in found[1] if applied.following}
        followed = [await follow(service, applied) for applied in following.values()]
        if any(a.needs_fanout for a in followed):
            recorded = replace(recorded, fanout=True)
    return recorded


async def _record_new(s: AsyncSession, request: DisruptionRequest, now: dt.datetime) -> Recorded:
    """A new disruption of the request's flights (none of which has a live one)."""
    values = {
        "kind": request.kind.value,
        "reason": request.reason,
        "idempotency_key": request.idempotency_key,
        "new_dep_utc": request.new_departure,
        "created_at": now,
    }
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
    disruption_events.created(
        s,
        disruption_id,
        kind=request.kind.value,
        reason=request.reason,
        new_departure=request.new_departure,
        flights=flights,
        now=now,
    )
    return Recorded(disruption_id, True)


async def _story(
    s: AsyncSession, service: ConversationService, request: DisruptionRequest, now: dt.datetime
) -> tuple[Recorded, list[Applied]] | None:
    """Validate every flight; when one has a live disruption, or the kind is one only the story knows (diverted,
    equipment, time change, reinstated), apply the request as updates (each to `follow` once committed). None: record a new one."""
    flights = [await _find_flight(s, key) for key in request.flights]
    for flight in sorted(flights, key=lambda f: f.id):
        await lock_flight(s, flight.id)
    if request.idempotency_key:
        known = await s.scalar(select(Disruption.id).where(Disruption.idempotency_key == request.idempotency_key))
        if known is not None:
            return Recorded(int(known), False), []
    kind = request.update or (UpdateKind.CANCELLATION if request.kind is DisruptionKind.CANCELLED else UpdateKind.DELAY)
    updates = [
        FlightUpdate(
            source="ops",
            message_id=f"{request.idempotency_key or uuid.uuid4().hex}/{f.carrier}{f.number}/{f.service_date.isoformat()}",
            flight=FlightRef(f.carrier, f.number, f.service_date, local=True),
            kind=kind,
            issued_at=now,
            new_departure=request.new_departure,
            new_arrival=request.new_arrival,
            diverted_to=request.diverted_to,
            capacity=request.capacity,
            reason=request.reason,
        )
        for f in flights
    ]
    for flight, update in zip(flights, updates, strict=True):
        validate(update, flight.dep_utc)
    if request.update is None and not any([await live_disruption(s, f.id) for f in flights]):
        return None  # cancelled or delayed, nothing live: a new disruption of all the flights
    results = [await apply_in(s, service, update) for update in updates]
    first = next((r for r in results if r.disruption_id is not None), None)
    if first is None or first.disruption_id is None:
        raise InvalidUpdate("the request changes nothing and names no disruption")
    return Recorded(first.disruption_id, any(r.created for r in results), any(r.needs_fanout for r in results)), results


async def assess(
    db: Database,
    disruption_id: int,
    *,
    clock: Clock,
    batch_size: int = 100,
    delay_threshold: dt.timedelta = DEFAULT_REBOOK_DELAY_THRESHOLD,
    carriers: Carriers | None = None,
    profiles: ProfileSource | None = None,
) -> list[list[int]]:
    """Create one pending conversation per impacted booking; returns the batches still to offer.

    `profiles`: a remote loyalty system, asked for the contacts' miles and preferences before the
    priority order is set (bounded by its timeout); the built-in store's columns are read already.
    """
    async with db.transaction() as s:
        disruption = await s.get(Disruption, disruption_id)
        if disruption is None:
            return []
        if disruption.status == "received":
            now = clock()
            found, spilled = await impacted_now(s, disruption, now=now, delay_threshold=delay_threshold)
            if profiles is not None:
                found = await profiles.enrich(found)
            impacted = order_for_allocation(found)
            rows = new_rows(disruption, impacted, now, spilled)
            if rows:
                await s.execute(insert(CONVERSATIONS), rows)
            await claims.record(s, disruption, impacted, now=now, carriers=carriers or Carriers())
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

