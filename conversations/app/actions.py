"""What the app posts back: a tapped option becomes the same `OptionChosen` as any channel's; an open marks the message read.

APNs and FCM send no receipts, so the app's own word is all there is: an open or an action is
a `read` receipt for the push's delivery (through the inbound router, once per token), which
also stops the push falling back to the next channel. The action token is the only credential:
signed, bound to one passenger's conversation and message, expiring with the offer's hold, and
spent once (its nonce claimed like a provider's event id, in the transaction that applies it).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.app import tokens
from conversations.app.tokens import ActionClaim
from conversations.choices import event_for as choice_event
from conversations.choices import load_extras, read_token
from conversations.dedupe import claim_event
from conversations.engine import OptionChosen
from conversations.inbound import InboundRouter
from conversations.models import INBOUND_MESSAGES, Conversation, Delivery
from conversations.ports import DeliveryReceipt, DeliveryState
from conversations.service import ConversationService
from infra.commit_rows import insert_at_commit
from rebooking_core.models import Offer, OfferOption
from rebooking_core.types import ChannelName

PUSH = ChannelName.PUSH.value
#: The dedupe namespace of the app's events (`processed_events.provider`).
APP = "app"
_OPTION = re.compile(r"opt:(\d{1,19}):(\d{1,19})")


class Refused(StrEnum):
    """Why a token or an option is not taken (each its own HTTP status)."""

    INVALID = "invalid"  # not a token we signed: 401
    EXPIRED = "expired"  # past the hold it was minted for: 410
    USED = "used"  # spent by an earlier action: 409
    NOT_YOURS = "not_yours"  # the option, or the conversation, is not the token's passenger's: 403


@dataclass(frozen=True)
class Applied:
    """The conversation's state once the choice is applied (`booked`, or `offered` again when the offer went stale)."""

    conversation_id: int
    status: str


def verified(token: str, now: dt.datetime) -> ActionClaim | Refused:
    claim = tokens.read(token)
    if claim is None:
        return Refused.INVALID
    if claim.expires_at <= now:
        return Refused.EXPIRED
    return claim


class AppEvents:
    """Takes the app's taps and opens; every one idempotent per token."""

    def __init__(self, service: ConversationService, inbound: InboundRouter) -> None:
        self.service = service
        self.inbound = inbound

    async def opened(self, token: str, *, now: dt.datetime) -> Refused | None:
        """The push behind `token` was opened: its delivery is read (an open after expiry still counts)."""
        claim = tokens.read(token)
        if claim is None:
            return Refused.INVALID
        await self._read(claim)
        return None

    async def act(self, token: str, option: str, *, now: dt.datetime) -> Applied | Refused:
        """The option tapped on the push behind `token`, applied once through the engine."""
        claim = verified(token, now)
        if isinstance(claim, Refused):
            return claim
        m = _OPTION.fullmatch(option)
        if m is None:
            return await self._own_choice(claim, option, now=now)
        offer_id, option_id = int(m.group(1)), int(m.group(2))
        async with self.service.db.transaction() as s:
            conv = await s.get(Conversation, claim.conversation_id)
            if conv is None or conv.passenger_id != claim.passenger_id or not await _offered_to(s, conv, offer_id, option_id):
                return Refused.NOT_YOURS
            if not await claim_event(s, APP, f"action:{claim.nonce}", at=now):
                return Refused.USED
            insert_at_commit(
                s,
                INBOUND_MESSAGES,
                {"conversation_id": conv.id, "channel": PUSH, "text": None, "interpreted_as": "OptionChosen", "received_at": now},
            )
            decisions = await self.service.handle(conv.id, OptionChosen(offer_id, option_id, PUSH), session=s)
        self.service.wake()
        await self._read(claim)
        status = decisions[-1].status.value if decisions else conv.status
        return Applied(conversation_id=claim.conversation_id, status=str(status))

    async def _own_choice(self, claim: ActionClaim, option: str, *, now: dt.datetime) -> Applied | Refused:
        """A tapped refund, keep or later-date action (conversations/choices.py), on the token's own open offer only."""
        extra = read_token(option)
        if extra is None or not self.service.config.choices.enabled:
            return Refused.NOT_YOURS
        async with self.service.db.transaction() as s:
            conv = await s.get(Conversation, claim.conversation_id)
            if conv is None or conv.passenger_id != claim.passenger_id or option.rpartition(":")[2] != str(conv.offer_id):
                return Refused.NOT_YOURS
            if not await claim_event(s, APP, f"action:{claim.nonce}", at=now):
                return Refused.USED
            extras = await load_extras(s, conv.impact, conv.disruption_id, conv.flight_id, self.service.config.choices, today=now.date())
            event = choice_event(extra, extras, PUSH)
            insert_at_commit(
                s,
                INBOUND_MESSAGES,
                {"conversation_id": conv.id, "channel": PUSH, "text": None, "interpreted_as": type(event).__name__, "received_at": now},
            )
            decisions = await self.service.handle(conv.id, event, session=s)
        self.service.wake()
        await self._read(claim)
        return Applied(conversation_id=claim.conversation_id, status=str(decisions[-1].status.value if decisions else conv.status))

    async def _read(self, claim: ActionClaim) -> None:
        """A `read` receipt for the push's delivery, through the same path as any provider's receipt (once per token)."""
        async with self.service.db.reading() as s:
            found = (
                await s.execute(
                    select(Delivery.provider, Delivery.provider_message_id)
                    .where(Delivery.outbox_id == claim.outbox_id, Delivery.channel == PUSH, Delivery.provider_message_id.is_not(None))
                    .order_by(Delivery.id.desc())
                    .limit(1)
                )
            ).first()
        if found is None:
            return
        provider, message_id = found
        await self.inbound.accept(
            [DeliveryReceipt(provider=provider, event_id=f"opened:{claim.nonce}", provider_message_id=str(message_id), state=DeliveryState.READ)]
        )


async def _offered_to(s: AsyncSession, conv: Conversation, offer_id: int, option_id: int) -> bool:
    """Whether the option is one offered to this conversation's booking for its disruption."""
    owner = (
        await s.execute(
            select(Offer.booking_id, Offer.disruption_id)
            .join(OfferOption, OfferOption.offer_id == Offer.id)
            .where(Offer.id == offer_id, OfferOption.id == option_id)
        )
    ).first()
    return owner is not None and (owner.booking_id, owner.disruption_id) == (conv.booking_id, conv.disruption_id)
