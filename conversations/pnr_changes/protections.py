"""Protect first against a remote PSS: the batch's protections reserved and recorded as PNR changes, none booked yet.

In the fan-out's transaction: each offer accepted on its best option with its seats left held
(`protect.reserve_protections`), and one `pnr_changes` row per protection written in one
statement; each conversation hears `ProtectionSent` and waits in CONFIRMING, told nothing. The
pump sends the changes; a confirmation books the held seats and says PROTECTED, a refusal makes
the offer as on the offer-first path (`pump._protection_event`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.engine import Event, ProtectionSent
from conversations.models import Conversation
from conversations.pnr_changes.models import PnrChangeRow
from conversations.pnr_changes.rules import IntentState, change_to_json, idempotency_key
from rebooking_core.booking.protect import reserve_protections
from rebooking_core.offers import CreatedOffer

__all__ = ["send_protections"]


async def send_protections(
    s: AsyncSession,
    wanted: Sequence[tuple[Conversation, CreatedOffer]],
    *,
    disruption_id: int,
    now: dt.datetime,
) -> dict[int, Event]:
    """Reserve and record every protection of the batch; the `ProtectionSent` event per conversation reserved."""
    reserved = {
        r.protection.booking_id: r
        for r in await reserve_protections(
            s, [(offer, conv.passengers) for conv, offer in wanted], disruption_id=disruption_id
        )
    }
    rows = []
    events: dict[int, Event] = {}
    for conv, _ in wanted:
        if (r := reserved.get(conv.booking_id)) is None:
            continue
        p = r.protection
        conv.offer_id = p.offer_id
        events[conv.id] = ProtectionSent(p.offer_id, p.option_id)
        rows.append(
            {
                "conversation_id": conv.id,
                "booking_id": p.booking_id,
                "offer_id": p.offer_id,
                "option_id": p.option_id,
                "locator": r.change.locator,
                "change": change_to_json(r.change),
                "idempotency_key": idempotency_key(p.offer_id, p.option_id),
                "state": IntentState.SENDING.value,
                "attempts": 0,
                "next_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        await s.execute(insert(PnrChangeRow), rows)
    return events
