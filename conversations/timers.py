"""Timers live on the conversation row; any worker may fire a due one, and only once."""

from __future__ import annotations

from sqlalchemy import select

from conversations.clock import Clock
from conversations.engine import TimerFired, TimerKind
from conversations.models import Conversation
from conversations.service import ConversationService
from infra.db import Database


async def fire_due_timers(db: Database, service: ConversationService, *, clock: Clock, limit: int = 200) -> int:
    """Claim due timers (SKIP LOCKED on PostgreSQL) and fire each under its row lock, re-checked."""
    now = clock()
    async with db.reading() as s:
        query = (
            select(Conversation.id)
            .where(Conversation.timer_at.is_not(None), Conversation.timer_at <= now)
            .order_by(Conversation.timer_at)
            .limit(limit)
        )
        ids = list((await s.scalars(query)).all())
    fired = 0
    for conversation_id in ids:
        async with db.transaction() as s:
            locking = select(Conversation).where(Conversation.id == conversation_id)
            if not db.is_sqlite:
                locking = locking.with_for_update(skip_locked=True)
            conv = (await s.scalars(locking)).first()
            if conv is None or conv.timer_at is None or conv.timer_at > clock() or conv.timer_kind is None:
                continue
            await service.run(s, conv, TimerFired(TimerKind(conv.timer_kind)))
            fired += 1
    if fired:
        service.wake()
    return fired
