"""Shared steps of the choice journeys: a delay instead of the rig's cancellation, the offer as a channel shows it, a tap."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from channels.sandbox import SandboxMessage
from conversations.intake.ports import DisruptionRequest, FlightKey
from conversations.intake.workflow import assess, record_disruption
from infra.event_log import OutboundEvent
from rebooking_core.models import Flight, Inventory, RefundRequestRow
from rebooking_core.types import DisruptionKind
from tests.conversations.conftest import Pax, Rig


async def delayed(rig: Rig, *people: Pax, hours: float) -> None:
    """Delay the rig's flight by `hours`, assess, offer and send (instead of `Rig.offered`'s cancellation)."""
    f = rig.disrupted
    recorded = await record_disruption(
        rig.c.db,
        DisruptionRequest(
            flights=(FlightKey(f.carrier, f.number, f.service_date),),
            kind=DisruptionKind.DELAYED,
            new_departure=f.dep_utc + dt.timedelta(hours=hours),
        ),
        clock=rig.clock,
    )
    batches = await assess(rig.c.db, recorded.disruption_id, clock=rig.clock)
    ids = [i for batch in batches for i in batch]
    assert len(ids) == len(people)
    await rig.c.service.offer_batch(ids)
    await rig.c.dispatcher.drain()


async def shown(rig: Rig, who: Pax, channel: str) -> SandboxMessage:
    """The offer as the passenger sees it; on WhatsApp, outside the 24 h window, after tapping the template's button."""
    offer = rig.last(channel, who)
    if channel == "whatsapp" and offer.tokens and offer.tokens[0].startswith("more:"):
        await rig.reply(channel, who, token=offer.tokens[0])
        await rig.c.dispatcher.drain()
        offer = rig.last(channel, who)
    return offer


def tap(offer: SandboxMessage, prefix: str) -> str:
    """The token of the entry starting with `prefix` ("refund:", "keep:", "later:", "opt:")."""
    return next(t for t in offer.tokens if t.startswith(prefix))


async def answer(
    rig: Rig, who: Pax, channel: str, offer: SandboxMessage, prefix: str, number: int
) -> None:
    """Choose an entry as the channel lets a passenger: a typed number on SMS, a tapped token elsewhere."""
    if channel == "sms":
        await rig.reply(channel, who, str(number))
    else:
        await rig.reply(channel, who, token=tap(offer, prefix))
    await rig.c.dispatcher.drain()


async def refunds(rig: Rig) -> list[RefundRequestRow]:
    async with rig.c.db.reading() as s:
        return list((await s.scalars(select(RefundRequestRow).order_by(RefundRequestRow.id))).all())


async def events(rig: Rig, kind: str) -> list[dict[str, Any]]:
    async with rig.c.db.reading() as s:
        rows = await s.scalars(
            select(OutboundEvent).where(OutboundEvent.type == kind).order_by(OutboundEvent.id)
        )
        return [dict(r.data) for r in rows]


async def add_flight(rig: Rig, number: str, dep: dt.datetime, *, capacity: int = 100) -> Flight:
    """Another FRA-MAD flight with seats (e.g. on a later date)."""
    async with rig.c.db.transaction() as s:
        flight = Flight(
            carrier="LH",
            number=number,
            service_date=dep.date(),
            origin="FRA",
            destination="MAD",
            dep_utc=dep,
            arr_utc=dep + dt.timedelta(minutes=150),
        )
        s.add(flight)
        await s.flush()
        s.add(Inventory(flight_id=flight.id, cabin="Y", capacity=capacity, sold=0, held=0))
    return flight
