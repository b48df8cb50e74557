"""Phase one, inside the conversation's transaction: reserve the choice and record the change the pump will send."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.models import Conversation
from conversations.pnr_changes.models import PnrChangeRow
from conversations.pnr_changes.rules import LIVE, IntentState, change_to_json, idempotency_key
from rebooking_core.booking import BookingResult, BookingStatus
from rebooking_core.booking.change import ReservedChange
from rebooking_core.booking.two_phase import Reserved, reserve

__all__ = ["add_intent", "in_flight", "record_intent", "restart_intent"]


async def record_intent(
    s: AsyncSession, conv: Conversation, option_id: int, now: dt.datetime, head: Any = None
) -> BookingResult | None:
    """None when the change is recorded (nothing told to the passenger yet); else why there is nothing to send.

    The row commits with the choice or not at all, and is due at once: the worker's pump sends it.
    """
    reserved = await reserve(s, option_id=option_id, now=now, head=head)
    if not isinstance(reserved, Reserved):
        if reserved.status is BookingStatus.ALREADY_BOOKED and await in_flight(s, conv.id):
            return (
                None  # accepted for a change the PSS has not answered yet: not booked until it does
            )
        return reserved
    await add_intent(s, conv, reserved, now)
    return None


async def add_intent(s: AsyncSession, conv: Conversation, reserved: Reserved | ReservedChange, now: dt.datetime) -> None:
    """The change due at once; the same offer and option chosen again restarts its row (one key, one PSS change)."""
    key = idempotency_key(reserved.offer_id, reserved.option_id)
    again = await s.scalar(select(PnrChangeRow.id).where(PnrChangeRow.idempotency_key == key))
    if again is not None:
        await restart_intent(s, again, now)
        return
    s.add(
        PnrChangeRow(
            conversation_id=conv.id,
            booking_id=reserved.booking_id,
            offer_id=reserved.offer_id,
            option_id=reserved.option_id,
            locator=reserved.change.locator,
            change=change_to_json(reserved.change),
            idempotency_key=key,
            state=IntentState.SENDING.value,
            attempts=0,
            next_at=now,
            created_at=now,
            updated_at=now,
        )
    )


async def in_flight(s: AsyncSession, conversation_id: int) -> bool:
    """A change of this conversation's is still with the PSS (or due to be sent)."""
    live = [state.value for state in LIVE]
    found = await s.scalar(
        select(PnrChangeRow.id)
        .where(PnrChangeRow.conversation_id == conversation_id, PnrChangeRow.state.in_(live))
        .limit(1)
    )
    return found is not None


async def restart_intent(s: AsyncSession, intent_id: int, now: dt.datetime) -> None:
    """The same option chosen again after the desk took over (its offer reopened): the same change, under the same key.

    Its attempts start again at 1, not 0: the PSS has seen this key, so the pump asks it first (it
    may have booked it late) rather than sending; the cap counts again from now.
    """
    await s.execute(
        update(PnrChangeRow)
        .where(PnrChangeRow.id == intent_id)
        .values(
            state=IntentState.SENDING.value,
            attempts=1,
            next_at=now,
            lease_until=None,
            claim=None,
            reason=None,
            created_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
