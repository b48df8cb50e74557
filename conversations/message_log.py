"""The conversation log: every message in and out as the passenger saw it, with who sent it and where it went.

Nothing here is written on its own: outgoing text is kept on the delivery row each hand-over
already writes (`Delivery.text`, as the channel rendered it), incoming text and taps on the
inbound row each reply already writes. This module only reads them back together, for the ops API
and for `rebook sandbox outbox`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.delivery_history import Reached, history
from conversations.engine import MessageKind
from conversations.models import Conversation, Delivery, Escalation, InboundMessage, OutboxMessage
from infra.sql import padded

PASSENGER = "passenger"
BOT = "bot"
BROADCAST = "broadcast"
#: An agent's message is sent by `agent:<their Slack or API name>`; plain `agent` when the escalation is gone.
AGENT = "agent"
_AGENT_KINDS = frozenset({MessageKind.AGENT_TEXT.value, MessageKind.AGENT_REFUND.value, MessageKind.AGENT_VOUCHER.value})
#: The desk keys an agent's message by its escalation (`e<id>-…`, `conversations.desk.agents`).
_ESCALATION_KEY = re.compile(r"^e(\d+)-")


@dataclass(frozen=True)
class Handover:
    """One hand-over of an outgoing message to a provider, moved on by its receipts (the outbox's delivery row)."""

    channel: str
    provider: str
    provider_message_id: str | None
    status: str
    error_code: str | None
    reason_class: str | None
    at: dt.datetime
    updated_at: dt.datetime
    #: sent (the hand-over), delivered, read, failed: each state reached and when, in time order.
    history: tuple[Reached, ...] = ()


@dataclass(frozen=True)
class LoggedMessage:
    """One message of a conversation; `text` is what the passenger sent or was shown (None before it went, or once erased)."""

    direction: Literal["in", "out"]
    id: int
    at: dt.datetime
    channel: str | None
    sender: str
    kind: str
    text: str | None
    provider_message_id: str | None
    #: Outgoing: the outbox row's state (pending, sent, failed, dead, cancelled); incoming: None.
    status: str | None = None
    sent_at: dt.datetime | None = None
    #: Incoming: the button or list row tapped, as the channel carried it back.
    choice: str | None = None
    deliveries: tuple[Handover, ...] = ()


@dataclass(frozen=True)
class SentEntry:
    """One hand-over of one provider, with what it showed: a line of `rebook sandbox outbox`."""

    id: int
    at: dt.datetime
    conversation_id: int | None
    channel: str
    kind: str
    status: str
    provider_message_id: str | None
    text: str | None


async def conversation_log(s: AsyncSession, conv: Conversation) -> list[LoggedMessage]:
    """The conversation's messages, oldest first (a reply before what answers it), with the passenger's notices about its flight."""
    rows = list((await s.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == conv.id))).all())
    rows += await _notices(s, conv)
    went = await _handovers(s, [r.id for r in rows])
    agents = await _agents(s, rows)
    inbound = (await s.scalars(select(InboundMessage).where(InboundMessage.conversation_id == conv.id))).all()
    messages = [_outgoing(row, went.get(row.id, []), agents) for row in rows]
    messages += [_incoming(m) for m in inbound]
    return sorted(messages, key=lambda m: (m.at, m.direction == "out", m.id))


async def sent_by(
    s: AsyncSession, provider: str, *, after: int = 0, newest: int | None = None, conversation_id: int | None = None
) -> list[SentEntry]:
    """Hand-overs to `provider` past delivery id `after`, oldest first; `newest`: only the last that many."""
    query = (
        select(Delivery, OutboxMessage.key)
        .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id)
        .where(Delivery.provider == provider, Delivery.id > after, Delivery.status != "failed")
    )
    if conversation_id is not None:
        query = query.where(Delivery.conversation_id == conversation_id)
    if newest is not None:
        found = list((await s.execute(query.order_by(Delivery.id.desc()).limit(newest))).all())[::-1]
    else:
        found = list((await s.execute(query.order_by(Delivery.id))).all())
    return [
        SentEntry(d.id, d.created_at, d.conversation_id, d.channel, key, d.status, d.provider_message_id, d.text)
        for d, key in found
    ]


async def _notices(s: AsyncSession, conv: Conversation) -> list[OutboxMessage]:
    """Broadcast notices to the conversation's passenger about its flight, since it began (they belong to no conversation)."""
    if conv.passenger_id is None:
        return []
    found = await s.scalars(
        select(OutboxMessage).where(
            OutboxMessage.passenger_id == conv.passenger_id,
            OutboxMessage.broadcast_id.is_not(None),
            OutboxMessage.created_at >= conv.created_at,
        )
    )
    return [row for row in found if row.params.get("flight_id") == conv.flight_id]


async def _handovers(s: AsyncSession, outbox_ids: Sequence[int]) -> dict[int, list[Delivery]]:
    """Each row's delivery rows, in the order they were handed over (a fallback adds one per channel)."""
    if not outbox_ids:
        return {}
    found = await s.scalars(select(Delivery).where(Delivery.outbox_id.in_(padded(outbox_ids))).order_by(Delivery.id))
    by_row: dict[int, list[Delivery]] = {}
    for d in found:
        by_row.setdefault(d.outbox_id, []).append(d)
    return by_row


async def _agents(s: AsyncSession, rows: Sequence[OutboxMessage]) -> dict[int, str]:
    """The agent who owned each escalation an agent's message was keyed by."""
    ids = {int(m.group(1)) for row in rows if row.key in _AGENT_KINDS and (m := _ESCALATION_KEY.match(row.idempotency_key))}
    if not ids:
        return {}
    found = await s.execute(select(Escalation.id, Escalation.agent).where(Escalation.id.in_(padded(ids))))
    return {esc_id: agent for esc_id, agent in found.all() if agent}


def _outgoing(row: OutboxMessage, went: list[Delivery], agents: dict[int, str]) -> LoggedMessage:
    """What went is the text of the last hand-over that carried one (a fallback re-renders for its channel)."""
    shown = next((d for d in reversed(went) if d.text is not None), None)
    named = shown or (went[-1] if went else None)
    return LoggedMessage(
        direction="out",
        id=row.id,
        at=row.created_at,
        channel=row.channel or (named.channel if named else None),
        sender=_sender(row, agents),
        kind=row.key,
        text=shown.text if shown else None,
        provider_message_id=named.provider_message_id if named else None,
        status=row.status,
        sent_at=row.sent_at,
        deliveries=tuple(
            Handover(
                d.channel, d.provider, d.provider_message_id, d.status, d.error_code, d.reason_class, d.created_at, d.updated_at, history(d)
            )
            for d in went
        ),
    )


def _incoming(m: InboundMessage) -> LoggedMessage:
    return LoggedMessage(
        direction="in",
        id=m.id,
        at=m.received_at,
        channel=m.channel,
        sender=PASSENGER,
        kind=m.interpreted_as,
        text=m.text,
        provider_message_id=m.provider_message_id,
        choice=m.choice,
    )


def _sender(row: OutboxMessage, agents: dict[int, str]) -> str:
    if row.broadcast_id is not None:
        return BROADCAST
    if row.key not in _AGENT_KINDS:
        return BOT
    keyed = _ESCALATION_KEY.match(row.idempotency_key)
    agent = agents.get(int(keyed.group(1))) if keyed else None
    return f"{AGENT}:{agent}" if agent else AGENT
