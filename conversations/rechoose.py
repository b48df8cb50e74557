"""A booked passenger chooses again: the `Change` command run on the conversation, its outcome as an engine event."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.engine import Change, ChangeConfirmed, ChangeFailed, Event
from conversations.models import Conversation
from rebooking_core.booking.change import ChangeStatus, change_option
from rebooking_core.impact import ImpactedBooking
from rebooking_core.models import OfferOption

__all__ = ["run_change", "without_booked"]


async def run_change(
    s: AsyncSession, conv: Conversation, command: Change, now: dt.datetime
) -> Event:
    """Move the booking onto the chosen option in this transaction; ChangeConfirmed, or ChangeFailed with why.

    The caller audits a confirmed change (`commands.audit_conversation`: this module is below it).
    """
    if conv.booked_option_id is None:
        return ChangeFailed(ChangeStatus.UNKNOWN.value)
    result = await change_option(
        s,
        booked_option_id=conv.booked_option_id,
        option_id=command.option_id,
        now=now,
        not_before=command.not_before,
    )
    if result.status is not ChangeStatus.CHANGED or result.option_id is None:
        return ChangeFailed(result.status.value)
    conv.booked_option_id = result.option_id
    conv.offer_id = result.offer_id
    conv.chosen_at = now
    return ChangeConfirmed(result.option_id)


async def without_booked(
    s: AsyncSession, booked_option_id: int, impacted: ImpactedBooking
) -> ImpactedBooking:
    """The booking as a search for fresh options after booking sees it: the booked flights are not a fresh option."""
    flight_ids = (
        await s.execute(select(OfferOption.flight_ids).where(OfferOption.id == booked_option_id))
    ).scalar_one_or_none()
    if not flight_ids:
        return impacted
    return dataclasses.replace(
        impacted, replaced_flight_ids=(*impacted.replaced_flight_ids, *(int(f) for f in flight_ids))
    )
