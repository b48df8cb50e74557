"""What a passenger does on the page, each through the same engine path as a reply on any channel.

A choice is the `OptionChosen` a WhatsApp tap or an SMS "2" becomes: the conversation is locked,
decided and saved with its messages, so one choice holds across channels and a second one is
acknowledged ("already booked"), never booked twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consent import audit, ledger
from consent.keywords import Keyword
from conversations.engine import (
    Book,
    Change,
    Decision,
    Event,
    KeywordReceived,
    MakeOffer,
    MessageKind,
    OptionChosen,
    OptionsRequested,
    Send,
    Status,
)
from conversations.models import Conversation
from conversations.outbound_events import emit
from conversations.page.links import RENEW_EVERY, conversation_id_of, conversation_of
from conversations.page.models import PageLink
from conversations.service import ConversationService
from infra.event_log import EventType
from rebooking_core.models import ContactPoint, Offer, OfferOption

#: The channel name events from the page carry, and the consent ledger's source for what it sets.
PAGE = "page"
LEDGER_SOURCE = "web page"


class Outcome(StrEnum):
    """What the page tells the passenger after an action (shown on the page the POST redirects to)."""

    BOOKED = "booked"
    ALREADY_BOOKED = "already_booked"
    STALE = "stale"
    NOT_NOW = "not_now"
    AGENT = "agent"
    REFUND = "refund"
    SAVED = "saved"
    LANGUAGE = "language"
    RENEWED = "renewed"


async def _handle(service: ConversationService, s: AsyncSession, link: PageLink, event: Event) -> list[Decision] | None:
    conversation_id = await conversation_id_of(s, link)
    if conversation_id is None:
        return None
    return await service.handle(conversation_id, event, session=s)


async def choose(service: ConversationService, link: PageLink, option_id: int) -> Outcome | None:
    """Book `option_id` for the link's booking; None when the option is not one offered to it (404)."""
    async with service.db.transaction() as s:
        owner = (
            await s.execute(
                select(Offer.id, Offer.booking_id, Offer.disruption_id)
                .join(OfferOption, OfferOption.offer_id == Offer.id)
                .where(OfferOption.id == option_id)
            )
        ).first()
        if owner is None or owner.booking_id != link.booking_id or owner.disruption_id != link.disruption_id:
            return None
        decisions = await _handle(service, s, link, OptionChosen(owner.id, option_id, PAGE))
    service.wake()
    if decisions is None:
        return None
    commands = [c for d in decisions for c in d.commands]
    if any(isinstance(c, Change) for c in commands) and Send(MessageKind.BOOKED) in commands:
        return Outcome.BOOKED  # chosen again after booking: the booking moved
    if any(isinstance(c, Send) and c.kind is MessageKind.ALREADY_BOOKED for c in commands):
        return Outcome.ALREADY_BOOKED
    if any(isinstance(c, Book) for c in commands) and decisions[-1].status is Status.BOOKED:
        return Outcome.BOOKED
    if any(isinstance(c, MakeOffer) for c in commands):
        return Outcome.STALE
    return Outcome.NOT_NOW


async def ask_for_person(service: ConversationService, link: PageLink, *, refund: bool, now: dt.datetime) -> Outcome | None:
    """Hand the booking to an agent (the AGENT keyword's path); a refund request is the same hand-over, audited as such.

    Only where the engine hands over (or a person already has it): elsewhere (options still being
    prepared, opted out, closed) the page says it is not possible now.
    """
    async with service.db.transaction() as s:
        decisions = await _handle(service, s, link, KeywordReceived(Keyword.AGENT, PAGE))
        if decisions is None:
            return None
        if decisions[-1].status not in (Status.ESCALATED, Status.AGENT):
            return Outcome.NOT_NOW
        conv = await conversation_of(s, link)  # the engine's locked, current row
        if refund and conv is not None:
            audit.append(
                s,
                actor=PAGE,
                action="refund.requested",
                subject=f"conversation:{conv.id}",
                passenger_id=conv.passenger_id,
                details={"conversation_id": conv.id, "booking_id": conv.booking_id},
                at=now,
            )
            emit(s, conv, EventType.REFUND_REQUESTED, now, source=PAGE)
    service.wake()
    return Outcome.REFUND if refund else Outcome.AGENT


async def set_language(service: ConversationService, link: PageLink, locale: str) -> Outcome:
    """The page and every later message speak `locale` (presentation only: decide() never reads it)."""
    async with service.db.transaction() as s:
        await s.execute(
            update(Conversation)
            .where(Conversation.booking_id == link.booking_id, Conversation.disruption_id == link.disruption_id)
            .values(locale=locale)
            .execution_options(synchronize_session=False)
        )
    return Outcome.LANGUAGE


async def set_preferences(
    service: ConversationService,
    link: PageLink,
    *,
    granted: Collection[str],
    preferred: str | None,
    evidence: str,
    now: dt.datetime,
) -> Outcome | None:
    """Consent per channel into the ledger (source `web page`, the IP as evidence) and the preferred channel first."""
    async with service.db.transaction() as s:
        conv = await conversation_of(s, link)
        if conv is None or conv.passenger_id is None:
            return None
        contacts = list(
            await s.scalars(
                select(ContactPoint)
                .where(ContactPoint.passenger_id == conv.passenger_id)
                .order_by(ContactPoint.preference, ContactPoint.id)
            )
        )
        for channel in dict.fromkeys(c.channel for c in contacts):
            await ledger.record(
                s,
                passenger_id=conv.passenger_id,
                channel=channel,
                purpose=ledger.SERVICE,
                granted=channel in granted,
                source=LEDGER_SOURCE,
                evidence=evidence,
                at=now,
            )
        if preferred is not None and any(c.channel == preferred for c in contacts):
            ordered = sorted(contacts, key=lambda c: c.channel != preferred)
            for position, contact in enumerate(ordered):
                contact.preference = position
    return Outcome.SAVED


async def renew(service: ConversationService, link_id: int, *, now: dt.datetime) -> None:
    """Send the current offer again on the passenger's channel (with a fresh link), at most once a while per link."""
    async with service.db.transaction() as s:
        link = await s.get(PageLink, link_id)
        if link is None or (link.renewed_at is not None and now - link.renewed_at < RENEW_EVERY):
            return
        link.renewed_at = now
        # Only an open offer is sent again (the engine ignores the request in any other state).
        await _handle(service, s, link, OptionsRequested(PAGE))
    service.wake()
