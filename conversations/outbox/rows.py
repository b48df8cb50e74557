"""Outbox rows as every writer builds them: stable idempotency keys, answers before first-wave notices.

Conversation messages (the engine's `Send`, an agent's words) and ops broadcasts share one core,
`_row`, so status, attempts, priority and timestamps are set in one place. Each kind of row
keeps its own column set and order: rows queued for one INSERT must all name the same columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from conversations.engine import MessageKind
from conversations.lifecycles import OutboxStatus
from conversations.models import Conversation, Priority

#: What the passenger did not ask for just now: a fan-out's first contacts and what timers send.
_FIRST_WAVE = frozenset(
    {
        MessageKind.OFFER,
        MessageKind.PROTECTED,
        MessageKind.ESCALATED_NO_OPTIONS,
        MessageKind.REMINDER,
        MessageKind.ESCALATED_DEADLINE,
    }
)
#: The `key` of a broadcast row (the notice is rendered from the broadcast, not from the catalog).
NOTICE_KEY = "broadcast"
#: The column's width: a longer caller-made key (an agent's Slack message id) is cut to fit.
_KEY_WIDTH = 96


def priority_of(kind: MessageKind) -> Priority:
    """Answers to what a passenger or an agent just did go before first-wave notices in every lane."""
    return Priority.FIRST_WAVE if kind in _FIRST_WAVE else Priority.ANSWER


def outbox_row(
    conv: Conversation,
    kind: MessageKind,
    seq: int,
    at: dt.datetime,
    *,
    params: Mapping[str, Any] | None = None,
    once: str | None = None,
) -> dict[str, Any]:
    """One message of a conversation; its key is `once` (an agent's act) or (conversation, version, sequence), stable across re-runs."""
    key = once[:_KEY_WIDTH] if once is not None else f"c{conv.id}-v{conv.version}-{seq}"
    return _row(
        {"conversation_id": conv.id},
        key,
        kind.value,
        dict(params or {}),
        conv.offer_id,
        priority_of(kind),
        at,
    )


def broadcast_row(broadcast_id: int, passenger_id: int, flight_id: int, at: dt.datetime) -> dict[str, Any]:
    """One passenger's notice of a broadcast, outside any conversation; its key makes a second row for them impossible."""
    return _row(
        {"conversation_id": None, "passenger_id": passenger_id, "broadcast_id": broadcast_id},
        f"b{broadcast_id}-p{passenger_id}",
        NOTICE_KEY,
        {"flight_id": flight_id},
        None,
        Priority.BROADCAST,
        at,
    )


def passenger_row(
    passenger_id: int, kind: MessageKind, at: dt.datetime, *, params: Mapping[str, Any], once: str
) -> dict[str, Any]:
    """A catalog message to one passenger outside any conversation (care below the delay threshold); `once` is its key."""
    return _row(
        {"conversation_id": None, "passenger_id": passenger_id},
        once[:_KEY_WIDTH],
        kind.value,
        dict(params),
        None,
        priority_of(kind),
        at,
    )


def _row(
    owner: dict[str, Any],
    idempotency_key: str,
    key: str,
    params: dict[str, Any],
    offer_id: int | None,
    priority: Priority,
    at: dt.datetime,
) -> dict[str, Any]:
    """A row still to send: pending, never tried, due now."""
    return {
        **owner,
        "idempotency_key": idempotency_key,
        "key": key,
        "params": params,
        "offer_id": offer_id,
        "priority": priority.value,
        "status": OutboxStatus.PENDING.value,
        "tried_channels": [],
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }
