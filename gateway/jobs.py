"""The job engine: taskiq over Redis Streams in production, in-process for the embedded default."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker
from taskiq_redis import RedisStreamBroker

log = logging.getLogger(__name__)

#: A dead worker's job is redelivered after this long (taskiq's default is 10 minutes).
IDLE_TIMEOUT_MS = 45_000


def make_broker(redis_url: str | None) -> AsyncBroker:
    if redis_url:
        return RedisStreamBroker(
            url=redis_url,
            queue_name="rebook:jobs",
            consumer_group_name="rebook-workers",
            idle_timeout=IDLE_TIMEOUT_MS,
            unacknowledged_lock_timeout=IDLE_TIMEOUT_MS // 1000,
        )
    return InMemoryBroker()


class Jobs:
    """Registers rebook's tasks on a broker; the same task code runs on either broker."""

    def __init__(
        self,
        broker: AsyncBroker,
        *,
        assess: Callable[[int], Awaitable[list[list[int]]]],
        offer_batch: Callable[[int, list[int]], Awaitable[int]],
    ) -> None:
        self.broker = broker
        self._assess = assess
        self._offer_batch = offer_batch

        async def run_assess(disruption_id: int) -> int:
            batches = await self._assess(disruption_id)
            for batch in batches:
                await self.offer_task.kiq(disruption_id, batch)
            return len(batches)

        async def run_offer_batch(disruption_id: int, conversation_ids: list[int]) -> int:
            return await self._offer_batch(disruption_id, conversation_ids)

        self.assess_task: Any = broker.register_task(run_assess, task_name="rebook.assess")
        self.offer_task: Any = broker.register_task(run_offer_batch, task_name="rebook.offer_batch")

    async def disruption_recorded(self, disruption_id: int) -> None:
        await self.assess_task.kiq(disruption_id)

    async def wait_idle(self) -> None:
        """In-process broker only: wait until every kicked job has run (for the demo and tests)."""
        if isinstance(self.broker, InMemoryBroker):
            while self.broker._running_tasks:
                await self.broker.wait_all()
