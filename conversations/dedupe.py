"""Provider events seen once: a retried webhook finds its event id already claimed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.models import ProcessedEvent
from infra.db import insert_ignore


async def claim_event(s: AsyncSession, provider: str, event_id: str, *, at: dt.datetime) -> bool:
    """Record a provider event id; False if it was already processed (a retried webhook)."""
    return await insert_ignore(s, ProcessedEvent, {"provider": provider, "event_id": event_id, "received_at": at})
