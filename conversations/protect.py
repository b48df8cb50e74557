"""Protect first, as policy: a fan-out batch books each booking's best option before its first message.

Under `Policy.first_contact == "protect"` the batch's offers are accepted on their first option in
the batch's transaction (`rebooking_core.booking.protect`), and each conversation hears `Protected`
instead of `OffersReady`: the engine goes straight to BOOKED and sends PROTECTED ("we have moved
you to X; keep it, pick another, or get a refund"). No timer is started, so silence can never
escalate: the protection stands. The other options stay a choice until the change cut-off
(`rechoose`), and a booking the engine could not protect (nothing left to replace, or an
equipment change's overflow, whose capacity follows each booking) is offered as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.commands import audit_conversation
from conversations.engine import Event, Policy, Protected
from conversations.models import Conversation
from conversations.outbox.ports import Telemetry
from conversations.pnr_changes.protections import send_protections
from rebooking_core.booking.protect import protect_offers
from rebooking_core.offers import CreatedOffer

__all__ = ["PROTECT", "protect_batch"]

#: `Policy.first_contact`'s value that books before the first message.
PROTECT = "protect"


async def protect_batch(
    s: AsyncSession,
    policy: Policy,
    convs: Sequence[Conversation],
    made: Sequence[CreatedOffer | None],
    *,
    disruption_id: int,
    now: dt.datetime,
    telemetry: Telemetry,
    remote: bool = False,
) -> dict[int, Event]:
    """Book the batch's offers on their best option (if the policy says so); the `Protected` event per conversation protected.

    `remote` (a remote PSS): nothing is booked yet; the event is `ProtectionSent` (`send_protections`).
    """
    if policy.first_contact != PROTECT:
        return {}
    wanted = [
        (conv, offer)
        for conv, offer in zip(convs, made, strict=True)
        if offer is not None and offer.options and not conv.impact.get("capacity_target")
    ]
    if remote:
        return await send_protections(s, wanted, disruption_id=disruption_id, now=now)
    done = {
        p.booking_id: p
        for p in await protect_offers(
            s, [(offer, conv.passengers) for conv, offer in wanted], disruption_id=disruption_id
        )
    }
    events: dict[int, Event] = {}
    for conv, _ in wanted:
        if (p := done.get(conv.booking_id)) is not None:
            conv.offer_id, conv.first_offer_at = p.offer_id, conv.first_offer_at or now
            conv.booked_option_id, conv.booked_at = p.option_id, conv.booked_at or now
            events[conv.id] = Protected(p.offer_id, p.option_id)
            audit_conversation(s, conv, "booking.protected", now, option_id=p.option_id)
            telemetry.booking(outcome="protected", seconds=None)
    return events
