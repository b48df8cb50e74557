"""A push nobody opened or acted on falls back to the passenger's next consented channel, as a failed delivery does.

APNs and FCM only say they took a message, never that a person saw it; the app's open or tap
marks the delivery read (`conversations.app.actions`). A delivery still `sent` after the
configured time is failed as `not_acted_on` and its message routed again by the outbox's own
fallback (`dispatcher.fall_back`): consent read again, the push channel tried already.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from conversations.clock import Clock
from conversations.models import PUSH_UNSEEN, Delivery
from conversations.outbox.dispatcher import fall_back
from conversations.ports import ReasonClass
from infra.db import Database

NOT_ACTED_ON = "not_acted_on"


async def fall_back_unseen(db: Database, *, clock: Clock, after: dt.timedelta, limit: int = 500) -> int:
    """Fail the pushes handed over more than `after` ago and still unseen, and route their messages on; how many."""
    now = clock()
    query = (
        select(Delivery)
        .where(text(f"deliveries.{PUSH_UNSEEN}"), Delivery.created_at <= now - after)
        .order_by(Delivery.created_at)
        .limit(limit)
    )
    async with db.transaction() as s:
        # Two workers sweeping at once take different rows (SQLite has one writer anyway).
        found = list(await s.scalars(query if db.is_sqlite else query.with_for_update(skip_locked=True)))
        for delivery in found:
            delivery.status, delivery.error_code = "failed", NOT_ACTED_ON
            delivery.reason_class, delivery.updated_at, delivery.failed_at = ReasonClass.PERMANENT.value, now, now
            if delivery.provider_message_id is not None:
                await fall_back(s, provider=delivery.provider, provider_message_id=delivery.provider_message_id, at=now)
    return len(found)
