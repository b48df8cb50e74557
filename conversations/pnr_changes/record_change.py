"""A change after booking against a remote PSS: reserve the fresh option and record the PNR change the pump sends.

The booking stays where it is (rebook's tables and the PSS agree) until the PSS confirmed; the
pump then moves it (`change.complete_change`) and feeds `ChangeConfirmed`, so "booked" goes out once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.engine import Change, ChangeFailed, Event
from conversations.models import Conversation
from conversations.pnr_changes.record import add_intent, in_flight
from rebooking_core.booking.change import ChangeStatus, ReservedChange, reserve_change

__all__ = ["record_change"]


async def record_change(
    s: AsyncSession, conv: Conversation, command: Change, now: dt.datetime
) -> Event | None:
    """None when the change is recorded (the passenger hears when the PSS answered); else ChangeFailed with why."""
    if conv.booked_option_id is None:
        return ChangeFailed(ChangeStatus.UNKNOWN.value)
    if await in_flight(s, conv.id):
        # One change with the PSS at a time: both would cancel the same legs.
        return ChangeFailed(ChangeStatus.EXPIRED.value)
    reserved = await reserve_change(
        s,
        booked_option_id=conv.booked_option_id,
        option_id=command.option_id,
        now=now,
        not_before=command.not_before,
    )
    if not isinstance(reserved, ReservedChange):
        return ChangeFailed(reserved.status.value)
    await add_intent(s, conv, reserved, now)
    return None
