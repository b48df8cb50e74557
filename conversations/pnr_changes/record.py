"""Phase one, inside the conversation's transaction: reserve the choice and record the change the pump will send."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.models import Conversation
from conversations.pnr_changes.models import PnrChangeRow
from conversations.pnr_changes.rules import IntentState, change_to_json, idempotency_key
from rebooking_core.booking import BookingResult
from rebooking_core.booking.two_phase import Reserved, reserve


async def record_intent(
    s: AsyncSession, conv: Conversation, option_id: int, now: dt.datetime, head: Any = None
) -> BookingResult | None:
    """None when the change is recorded (nothing told to the passenger yet); else why there is nothing to send.

    The row commits with the choice or not at all, and is due at once: the worker's pump sends it.
    """
    reserved = await reserve(s, option_id=option_id, now=now, head=head)
    if not isinstance(reserved, Reserved):
        return reserved
    s.add(
        PnrChangeRow(
            conversation_id=conv.id,
            booking_id=reserved.booking_id,
            offer_id=reserved.offer_id,
            option_id=reserved.option_id,
            locator=reserved.change.locator,
            change=change_to_json(reserved.change),
            idempotency_key=idempotency_key(reserved.offer_id, reserved.option_id),
            state=IntentState.SENDING.value,
            attempts=0,
            next_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    return None
