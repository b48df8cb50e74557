"""Outbox rows as every writer builds them: stable idempotency keys, answers before first-wave notices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from conversations.engine import MessageKind
from conversations.models import Conversation, Priority

#: What the passenger did not ask for just now: a fan-out's first contacts and what timers send.
_FIRST_WAVE = frozenset(
    {MessageKind.OFFER, MessageKind.ESCALATED_NO_OPTIONS, MessageKind.REMINDER, MessageKind.ESCALATED_DEADLINE}
)


def priority_of(kind: MessageKind) -> Priority:
    """Answers to what a passenger or an agent just did go before first-wave notices in every lane."""
    return Priority.FIRST_WAVE if kind in _FIRST_WAVE else Priority.ANSWER


def outbox_row(conv: Conversation, kind: MessageKind, seq: int, at: dt.datetime) -> dict[str, Any]:
    """One outbox message; its key (conversation, version, sequence) is stable across re-runs."""
    return {
        "conversation_id": conv.id,
        "idempotency_key": f"c{conv.id}-v{conv.version}-{seq}",
        "key": kind.value,
        "params": {},
        "offer_id": conv.offer_id,
        "priority": priority_of(kind).value,
        "status": "pending",
        "tried_channels": [],
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }
