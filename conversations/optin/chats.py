"""Bind a chat to the passenger its deep link names, record their consent, and carry on the conversation there."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from consent import ledger
from consent.keywords import Keyword
from conversations.clock import Clock
from conversations.dedupe import claim_event
from conversations.engine import Event, KeywordReceived, OptionsRequested, Status
from conversations.models import Conversation
from conversations.optin import deep_links
from conversations.optin.ports import ChatLinked, LinkOutcome
from conversations.service import ConversationService
from infra import crypto
from infra.db import Database
from rebooking_core.models import ContactPoint, Passenger

log = logging.getLogger(__name__)

#: A conversation that still has something to say on the newly linked chat.
_OPEN = (Status.OFFERED, Status.OPTED_OUT)


class ChatOptIn:
    """The ChatLinkSink behind the Telegram webhook: idempotent on (provider, event id)."""

    def __init__(self, db: Database, service: ConversationService, *, clock: Clock) -> None:
        self.db = db
        self.service = service
        self.clock = clock

    async def link(self, event: ChatLinked) -> LinkOutcome:
        """Contact point (encrypted, blind-indexed) and consent with its provenance, in one transaction."""
        now = self.clock()
        async with self.db.transaction() as s:
            if not await claim_event(s, event.provider, event.event_id, at=now):
                return LinkOutcome.DUPLICATE
            passenger_id = deep_links.read(event.token, now=now)
            passenger = await s.get(Passenger, passenger_id) if passenger_id is not None else None
            if passenger is None or passenger.erased_at is not None:
                log.info("deep link refused", extra={"channel": event.channel, "provider": event.provider})
                return LinkOutcome.REFUSED
            digest = crypto.keyring().blind_index(event.sender)
            contacts = list(await s.scalars(select(ContactPoint).where(ContactPoint.passenger_id == passenger.id)))
            if not any(c.channel == event.channel and c.address_hash == digest for c in contacts):
                s.add(
                    ContactPoint(
                        passenger_id=passenger.id,
                        channel=event.channel,
                        address=event.sender,
                        address_hash=digest,
                        preference=max((c.preference for c in contacts), default=0) + 1,
                    )
                )
            await ledger.record(
                s,
                passenger_id=passenger.id,
                channel=event.channel,
                purpose=ledger.SERVICE,
                granted=True,
                source=event.channel,  # "telegram": the ledger names where consent was given
                evidence=f"update:{event.event_id}",
                legal_basis="consent",
                at=now,
            )
            conv = await self._open_conversation(s, passenger.id)
            if conv is not None:
                # The passenger came here to answer: the conversation continues on this channel.
                conv.channel = event.channel
                follow: Event = (
                    OptionsRequested(event.channel)
                    if conv.status == Status.OFFERED
                    else KeywordReceived(Keyword.START, event.channel)
                )
                await self.service.run(s, conv, follow)
        self.service.wake()
        return LinkOutcome.LINKED

    async def _open_conversation(self, s: AsyncSession, passenger_id: int) -> Conversation | None:
        """The passenger's newest conversation waiting on them (offered, or opted out of another channel), locked."""
        newest = (
            select(func.max(Conversation.id))
            .where(Conversation.passenger_id == passenger_id, Conversation.status.in_([st.value for st in _OPEN]))
            .scalar_subquery()
        )
        query = select(Conversation).where(Conversation.id == newest)
        if not self.db.is_sqlite:
            query = query.with_for_update()
        return (await s.scalars(query)).first()
