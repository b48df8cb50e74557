"""Turn provider events into engine events: find the conversation, interpret the reply, apply it once."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consent import ledger
from consent.keywords import Keyword, classify, near_keyword
from conversations.choices import read_reply
from conversations.clock import Clock
from conversations.dedupe import claim_event
from conversations.delivery_history import apply_receipt
from conversations.desk.agents import relay_to_agent
from conversations.engine import (
    Event,
    KeywordReceived,
    OptionChosen,
    OptionsRequested,
    RepliedAfterChoice,
    RepliedAfterLift,
    Status,
    TextReceived,
)
from conversations.models import INBOUND_MESSAGES, Conversation, InboundMessage
from conversations.outbox.dispatcher import fall_back
from conversations.ports import DeliveryReceipt, DeliveryState, IdentityChanged, InboundText
from conversations.provider_values import error_code, event_id, provider_id, storable_text
from conversations.service import ConversationService
from infra import crypto
from infra.commit_rows import insert_at_commit
from infra.db import Database
from rebooking_core.models import ContactPoint

log = logging.getLogger(__name__)

SESSION_WINDOW = dt.timedelta(hours=24)
_CHOICE = re.compile(r"^opt:(\d+):(\d+)$")
_MORE = re.compile(r"^more:(\d+)$")
_NUMBER = re.compile(r"^\s*#?(\d{1,2})[.)]?\s*$")
_FINISHED = (Status.CLOSED,)
#: A sender is only ever hashed (blind index), never stored: this bound only keeps the hash cheap.
_MAX_SENDER_BYTES = 256
#: ContactPoint.sender's size.
_MAX_RECIPIENT = 64

# Built once: every passenger reply runs them. The newest open conversation is found as max(id)
# over the sender's passengers, not ORDER BY id DESC LIMIT 1: with that, PostgreSQL may walk the
# primary key backwards through every conversation (23k rows, 25-37 ms a reply, measured) instead
# of starting from the address's contact points.
_theirs = Conversation.__table__.alias("theirs")
_contact = ContactPoint.__table__
#: An address is its blind index; a WhatsApp user may also (or only) be known by their BSUID's.
_BY_ADDRESS = _contact.c.address_hash == bindparam("digest")
_BY_ADDRESS_OR_BSUID = or_(_contact.c.address_hash == bindparam("digest"), _contact.c.bsuid_hash == bindparam("bsuid_digest"))


def _newest_open(found_by: ColumnElement[bool]) -> Any:
    return (
        select(func.max(_theirs.c.id))
        .select_from(_theirs.join(_contact, _contact.c.passenger_id == _theirs.c.passenger_id))
        .where(_contact.c.channel == bindparam("channel"), found_by, _theirs.c.status.not_in(_FINISHED))
        .scalar_subquery()
    )


_OPEN_CONVERSATION = select(Conversation).where(Conversation.id == _newest_open(_BY_ADDRESS))
_OPEN_CONVERSATION_LOCKED = _OPEN_CONVERSATION.with_for_update(of=Conversation)
_OPEN_BY_BSUID = select(Conversation).where(Conversation.id == _newest_open(_BY_ADDRESS_OR_BSUID))
_OPEN_BY_BSUID_LOCKED = _OPEN_BY_BSUID.with_for_update(of=Conversation)


#: The sender a passenger last wrote to answers them (a sender pool's stickiness); unchanged, nothing is written.
_WROTE_TO = (
    update(ContactPoint)
    .where(
        ContactPoint.channel == bindparam("on_channel"),
        or_(ContactPoint.address_hash == bindparam("digest"), ContactPoint.bsuid_hash == bindparam("bsuid_digest")),
        or_(ContactPoint.sender.is_(None), ContactPoint.sender != bindparam("wrote_to")),
    )
    .values(sender=bindparam("wrote_to"))
    .execution_options(synchronize_session=False)
)


def _hash(value: str) -> str | None:
    """The blind index of an identifier, None for none (NULL matches no row)."""
    return crypto.keyring().blind_index(value) if value else None


class InboundRouter:
    """The InboundSink behind every webhook: idempotent on (provider, event id)."""

    def __init__(self, db: Database, service: ConversationService, *, clock: Clock) -> None:
        self.db = db
        self.service = service
        self.clock = clock

    async def accept(self, events: Sequence[InboundText | DeliveryReceipt | IdentityChanged]) -> None:
        for event in events:
            if isinstance(event, InboundText):
                await self._text(storable_message(event))
            elif isinstance(event, IdentityChanged):
                await self._moved(replace(event, event_id=event_id(event.event_id)))
            else:
                await self._receipt(storable_receipt(event))
        self.service.wake()

    async def _text(self, e: InboundText) -> None:
        # One flush at commit instead of one before every query: a booking reply runs ~20 statements.
        async with self.db.transaction() as s:
            with s.no_autoflush:
                if not await claim_event(s, e.provider, e.event_id, at=self.clock()):
                    return
                digest, bsuid = _hash(e.sender), _hash(e.sender_bsuid)
                if bsuid is not None:
                    await self._learn(s, e, digest, bsuid)
                if e.recipient:
                    await s.execute(
                        _WROTE_TO, {"on_channel": e.channel, "digest": digest, "bsuid_digest": bsuid, "wrote_to": e.recipient}
                    )
                conv = await self._conversation(s, e.channel, digest, bsuid)
                keyword = None if e.choice_token else classify(e.text)
                offer = await self.service.offer_state(s, conv.offer_id) if conv is not None and conv.offer_id else None
                event = _interpret(conv, offer, e, keyword) if conv is not None else None
                if conv is not None and event is not None:
                    event = await read_reply(s, conv, len(offer or ()), e, event, self.service.config.choices, now=self.clock())
                message = {
                    "conversation_id": conv.id if conv else None,
                    "channel": e.channel,
                    "text": e.text,
                    "interpreted_as": _label(event, keyword),
                    "received_at": e.received_at,
                    "provider": e.provider,
                    "provider_message_id": e.event_id,
                    "choice": provider_id(e.choice_token) if e.choice_token else None,
                }
                with_agent = conv is not None and conv.status == Status.AGENT.value
                if not with_agent:
                    insert_at_commit(s, INBOUND_MESSAGES, message)
                if conv is None:
                    passengers = await self._passengers(s, e.channel, digest, bsuid)
                    if not passengers:
                        self._unknown(e)
                    await self._consent_without_conversation(s, passengers, e, keyword)
                    return
                windows = dict(conv.window_open_until)
                windows[e.channel] = (e.received_at + SESSION_WINDOW).isoformat()
                conv.window_open_until = windows
                conv.channel = e.channel
                if event is not None:
                    await self.service.run(s, conv, event, offer=offer)
                if with_agent:  # the agent's relay names the message: written now, for its id
                    kept = InboundMessage(**message)
                    s.add(kept)
                    await relay_to_agent(s, conv, kept, at=self.clock())

    async def _after_lift(self, s: AsyncSession, passengers: list[int], e: InboundText) -> None:
        """A reply whose newest conversation closed because its flight operates again is answered: the flight is kept."""
        if not passengers:
            return
        query = select(Conversation).where(Conversation.passenger_id.in_(passengers)).order_by(Conversation.id.desc()).limit(1)
        if not self.db.is_sqlite:
            query = query.with_for_update()
        newest = (await s.scalars(query)).first()
        if newest is not None and newest.status == Status.CLOSED.value and newest.impact.get("lifted"):
            await self.service.run(s, newest, RepliedAfterLift(e.channel))
        elif newest is not None and newest.status == Status.CLOSED.value and newest.choice:
            # A refund or keep closed it: the answer says so again, and nothing is recorded twice.
            await self.service.run(s, newest, RepliedAfterChoice(e.channel, newest.choice))

    async def _passengers(self, s: AsyncSession, channel: str, digest: str | None, bsuid: str | None = None) -> list[int]:
        # `== None` would be IS NULL: a sender without a BSUID would match every contact point without one.
        found_by = ContactPoint.address_hash == digest if bsuid is None else or_(ContactPoint.address_hash == digest, ContactPoint.bsuid_hash == bsuid)
        rows = await s.scalars(select(ContactPoint.passenger_id).where(ContactPoint.channel == channel, found_by))
        return list(rows.all())

    async def _conversation(
        self, s: AsyncSession, channel: str, digest: str | None, bsuid: str | None = None
    ) -> Conversation | None:
        """The newest open conversation of anyone reachable at this address or BSUID (a shared family phone), locked."""
        if bsuid is None:
            query = _OPEN_CONVERSATION if self.db.is_sqlite else _OPEN_CONVERSATION_LOCKED
        else:
            query = _OPEN_BY_BSUID if self.db.is_sqlite else _OPEN_BY_BSUID_LOCKED
        return (await s.scalars(query, {"channel": channel, "digest": digest, "bsuid_digest": bsuid})).first()

    async def _learn(self, s: AsyncSession, e: InboundText, digest: str | None, bsuid: str) -> None:
        """A message naming both the number and the BSUID fills whichever one a contact point lacks.

        A later message carrying only the BSUID then reaches the same passenger; the parent BSUID and the
        username follow the newest message. Only rows whose values change are written (at commit).
        """
        contacts = await s.scalars(
            select(ContactPoint).where(
                ContactPoint.channel == e.channel,
                or_(ContactPoint.address_hash == digest, ContactPoint.bsuid_hash == bsuid),
            )
        )
        for contact in contacts.all():
            if contact.bsuid_hash != bsuid:
                contact.bsuid, contact.bsuid_hash = e.sender_bsuid, bsuid
            if e.sender and contact.address_hash != digest and contact.address is None:
                contact.address, contact.address_hash = e.sender, digest
            if e.parent_bsuid and contact.parent_bsuid != e.parent_bsuid:
                contact.parent_bsuid = e.parent_bsuid
            if e.username and contact.username != e.username:
                contact.username = e.username

    def _unknown(self, e: InboundText) -> None:
        """Acknowledged and counted, never an error: the identifier itself stays out of the log."""
        by = "phone" if e.sender else "bsuid"
        log.info("inbound message from no known passenger", extra={"channel": e.channel, "provider": e.provider, "by": by})
        self.service.telemetry.unknown_sender(channel=e.channel, provider=e.provider, by=by)

    async def _moved(self, e: IdentityChanged) -> None:
        """The user's number (and with it their BSUID) changed: their contact points, and so their conversation, follow."""
        async with self.db.transaction() as s:
            if not await claim_event(s, e.provider, e.event_id, at=self.clock()):
                return
            old_digest, old_bsuid = _hash(e.old_sender), _hash(e.old_bsuid)
            contacts = (
                await s.scalars(
                    select(ContactPoint).where(
                        ContactPoint.channel == e.channel,
                        or_(ContactPoint.address_hash == old_digest, ContactPoint.bsuid_hash == old_bsuid),
                    )
                )
            ).all()
            if not contacts:
                log.info("identity change for no known passenger", extra={"channel": e.channel, "provider": e.provider})
                self.service.telemetry.unknown_sender(channel=e.channel, provider=e.provider, by="identity_change")
                return
            for contact in contacts:
                if e.new_sender:
                    contact.address, contact.address_hash = e.new_sender, _hash(e.new_sender)
                    # A new number comes with a new BSUID: the old one no longer reaches them.
                    contact.bsuid, contact.bsuid_hash, contact.parent_bsuid = None, None, None
                if e.new_bsuid:
                    contact.bsuid, contact.bsuid_hash = e.new_bsuid, _hash(e.new_bsuid)
                if e.new_parent_bsuid:
                    contact.parent_bsuid = e.new_parent_bsuid

    async def _consent_without_conversation(
        self, s: AsyncSession, passengers: list[int], e: InboundText, keyword: Keyword | None
    ) -> None:
        """STOP and START are honoured even when no disruption is open for the sender; other replies may follow a lift."""
        if keyword is None:
            await self._after_lift(s, passengers, e)
        if keyword not in (Keyword.STOP, Keyword.START):
            return
        for pid in passengers:
            await ledger.record(
                s,
                passenger_id=pid,
                channel=e.channel,
                purpose=ledger.SERVICE,
                granted=keyword is Keyword.START,
                source="keyword",
                evidence=e.event_id,
                at=e.received_at,
            )

    async def _receipt(self, r: DeliveryReceipt) -> None:
        async with self.db.transaction() as s:
            if not await claim_event(s, r.provider, r.event_id, at=self.clock()):
                return
            moved = await s.execute(apply_receipt(r))
            channels: set[str] = set()
            for channel, handed_over, status in moved.all():
                channels.add(channel)
                if status != r.state.value:  # a late receipt: its time recorded, the status already past it
                    continue
                seconds = max((r.at - handed_over).total_seconds(), 0.0)
                self.service.telemetry.receipt(channel=channel, provider=r.provider, state=r.state.value, seconds=seconds)
            if r.recipient and r.recipient_bsuid:
                # A status naming both tells us the BSUID before the passenger writes without their number.
                bsuid = _hash(r.recipient_bsuid)
                await s.execute(
                    update(ContactPoint)
                    .where(
                        ContactPoint.channel.in_(sorted(channels)),
                        ContactPoint.address_hash == _hash(r.recipient),
                        or_(ContactPoint.bsuid_hash.is_(None), ContactPoint.bsuid_hash != bsuid),
                    )
                    .values(bsuid=r.recipient_bsuid, bsuid_hash=bsuid)
                    .execution_options(synchronize_session=False)
                )
            if r.state is DeliveryState.FAILED:
                await fall_back(s, provider=r.provider, provider_message_id=r.provider_message_id, at=self.clock())


def storable_message(e: InboundText) -> InboundText:
    """Provider values as they can be stored and matched (`conversations.provider_values`): no text fails a write."""
    return replace(
        e,
        event_id=event_id(e.event_id),
        sender=storable_text(e.sender, _MAX_SENDER_BYTES),
        sender_bsuid=storable_text(e.sender_bsuid, _MAX_SENDER_BYTES),
        parent_bsuid=storable_text(e.parent_bsuid, _MAX_SENDER_BYTES),
        username=storable_text(e.username, _MAX_SENDER_BYTES),
        text=storable_text(e.text) if e.text is not None else None,
        # One of our own numbers, kept in ContactPoint.sender: anything that cannot be one is "unknown".
        recipient=e.recipient if provider_id(e.recipient, _MAX_RECIPIENT) == e.recipient else "",
    )


def storable_receipt(r: DeliveryReceipt) -> DeliveryReceipt:
    """The same for a receipt: its ids keyed as the send recorded them (`SendResult`), its code cut."""
    return replace(
        r,
        event_id=event_id(r.event_id),
        provider_message_id=provider_id(r.provider_message_id),
        error_code=error_code(r.error_code),
    )


def _interpret(conv: Conversation, offer: Sequence[Any] | None, e: InboundText, keyword: Keyword | None) -> Event:
    """A tap carries its option; a number is read against the offer's ranks, as the menu showed them."""
    token = e.choice_token or ""
    if m := _CHOICE.match(token):
        return OptionChosen(int(m.group(1)), int(m.group(2)), e.channel)
    if _MORE.match(token):
        return OptionsRequested(e.channel)
    if keyword is not None:
        return KeywordReceived(keyword, e.channel)
    if (m := _NUMBER.match(e.text or "")) and conv.offer_id is not None:
        number = int(m.group(1))
        option_id = next((row.id for row in offer or () if row.rank == number), None)
        if option_id is not None:
            return OptionChosen(conv.offer_id, option_id, e.channel)
    return TextReceived(e.channel, near_keyword(e.text or ""))


def _label(event: Event | None, keyword: Keyword | None) -> str:
    if keyword is not None:
        return f"keyword:{keyword.value}"
    return type(event).__name__ if event is not None else "unmatched"
