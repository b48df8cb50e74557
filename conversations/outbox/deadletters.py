"""Dead-lettered outbox rows: what ops see with `rebook dlq list` and send again with `retry`.

A row is dead when every channel it could use failed only temporarily (or its delivery kept
crashing) until the attempt limit: a later retry may succeed, unlike a `failed` row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.lifecycles import OutboxStatus, move
from conversations.models import Delivery, OutboxMessage

DEAD = OutboxStatus.DEAD


@dataclass(frozen=True)
class DeadLetter:
    """One dead row, without recipient, name or text: safe to print and to log."""

    id: int
    conversation_id: int | None
    key: str
    channels: tuple[str, ...]
    attempts: int
    last_error: str | None
    last_code: str | None
    age: dt.timedelta


def _channels(row: OutboxMessage) -> tuple[str, ...]:
    tried = list(row.tried_channels)
    if row.channel and row.channel not in tried:
        tried.append(row.channel)
    return tuple(tried)


async def list_dead(s: AsyncSession, *, now: dt.datetime, limit: int = 50) -> list[DeadLetter]:
    """Oldest first, so the message that waited longest is the first one looked at."""
    rows = list(
        (
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == DEAD)
                .order_by(OutboxMessage.created_at, OutboxMessage.id)
                .limit(limit)
            )
        ).all()
    )
    codes: dict[int, str] = {}
    if rows:
        failures = await s.execute(
            select(Delivery.outbox_id, Delivery.channel, Delivery.error_code)
            .where(Delivery.outbox_id.in_([r.id for r in rows]), Delivery.status == "failed")
            .order_by(Delivery.id)
        )
        for outbox_id, channel, code in failures:
            codes[int(outbox_id)] = f"{channel}:{code}" if code else str(channel)
    return [
        DeadLetter(
            id=r.id,
            conversation_id=r.conversation_id,
            key=r.key,
            channels=_channels(r),
            attempts=r.attempts,
            last_error=r.last_error,
            last_code=codes.get(r.id),
            age=now - r.created_at,
        )
        for r in rows
    ]


async def count_dead(s: AsyncSession) -> int:
    return int(await s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == DEAD)) or 0)


async def retry_dead(s: AsyncSession, *, now: dt.datetime, ids: Sequence[int] | None = None) -> list[int]:
    """Back to pending with attempts and tried channels reset; the idempotency key stays, so a
    provider that did take an earlier attempt still drops the duplicate. `ids=None` means all."""
    statement = move(update(OutboxMessage), OutboxMessage.status, OutboxStatus.PENDING, from_=[DEAD])
    if ids is not None:
        if not ids:
            return []
        statement = statement.where(OutboxMessage.id.in_(list(ids)))
    result = await s.execute(
        statement.values(attempts=0, tried_channels=[], next_attempt_at=now, claimed_until=None)
        .returning(OutboxMessage.id)
    )
    return sorted(int(i) for i in result.scalars().all())
