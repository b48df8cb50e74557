"""What the passenger's own choice does, inside the reply's transaction: the offer's holds go back, and a refund is recorded.

A refund (`rebooking_core.refunds.record`) cancels the disrupted journey's unflown segments (HX)
and gives their seats back in the same transaction as the offer's holds, so the seat counters
never show a seat both held and given up. The airline hears of it twice: the `refund.requested`
outbound event (`conversations.outbound_events`) and the worker's call of `Reservations.refund`.
Keeping a delayed flight only releases the holds; the booking and its claim stay as they are.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.impact_json import impact_from_json
from conversations.models import Conversation
from rebooking_core import refunds
from rebooking_core.booking.change import legs_of_option
from rebooking_core.offers import supersede_offer

REFUND = "refund"
KEEP = "keep"


async def record_choice(
    s: AsyncSession, conv: Conversation, choice: str, basis: str, now: dt.datetime
) -> tuple[str, dict[str, Any]] | None:
    """Release the open offer's holds, mark the conversation's choice and, for a refund, record it once.

    Returns the audit entry to write (action, details), None when a refund was already recorded.
    """
    if conv.offer_id is not None:
        await supersede_offer(s, offer_id=conv.offer_id)
    conv.choice = choice
    conv.chosen_at = conv.chosen_at or now
    if choice != REFUND:
        return "choice.kept", {}
    impacted = impact_from_json(conv.impact)
    segment_ids = impacted.replaced_segment_ids
    if conv.booked_option_id is not None:  # a protection refunded: its legs are cancelled too, and nothing stays booked
        segment_ids = (*segment_ids, *await legs_of_option(s, booking_id=conv.booking_id, option_id=conv.booked_option_id))
        conv.booked_option_id = None
    recorded = await refunds.record(
        s,
        booking_id=conv.booking_id,
        disruption_id=conv.disruption_id,
        conversation_id=conv.id,
        passengers=conv.passengers,
        segment_ids=segment_ids,
        basis=basis,
        now=now,
    )
    return (
        ("refund.requested", {"segments": list(recorded.cancelled_segments)})
        if recorded.new
        else None
    )
