"""The job engine: taskiq over Redis Streams in production, in-process for the embedded default."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from taskiq import AsyncBroker, Context, InMemoryBroker, TaskiqDepends
from taskiq_redis import RedisStreamBroker

from conversations.intake.ports import Step
from infra.db import CONNECT_TIMEOUT_S

log = logging.getLogger(__name__)

#: The running job's taskiq context (its labels carry the trace), injected by taskiq.
CONTEXT: Any = TaskiqDepends()

#: Job label counting a fan-out chain's consecutive failed links, and how many it may have.
FAILURES = "rebook_failures"
MAX_LINK_FAILURES = 3

#: A dead worker's job is redelivered after this long (taskiq's default is 10 minutes).
IDLE_TIMEOUT_MS = 45_000


def make_broker(redis_url: str | None, *, idle_timeout_ms: int = IDLE_TIMEOUT_MS, queue_name: str = "rebook:jobs") -> AsyncBroker:
    if redis_url:
        return RedisStreamBroker(
            url=redis_url,
            queue_name=queue_name,
            consumer_group_name="rebook-workers",
            idle_timeout=idle_timeout_ms,
            unacknowledged_lock_timeout=max(idle_timeout_ms // 1000, 1),
            # One message per read: a worker takes a job only when it has a free slot, so the few
            # chain links of the fan-out spread over all workers instead of queueing behind one.
            xread_count=1,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
        )
    return InMemoryBroker()


class JobObserver(Protocol):
    """Times and traces jobs; job labels carry the kicking span's trace context to the worker."""

    def job(self, task: str, labels: Mapping[str, Any], **attributes: str | int) -> AbstractContextManager[None]: ...

    def job_labels(self) -> dict[str, str]: ...

    async def options_held(self, disruption_id: int, count: int) -> None: ...


class _Unobserved:
    def job(self, task: str, labels: Mapping[str, Any], **attributes: str | int) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def job_labels(self) -> dict[str, str]:
        return {}

    async def options_held(self, disruption_id: int, count: int) -> None:
        return None


class Jobs:
    """Registers rebook's tasks on a broker; the same task code runs on either broker."""

    def __init__(
        self,
        broker: AsyncBroker,
        *,
        assess: Callable[[int], Awaitable[list[list[int]]]],
        offer_next: Callable[[int], Awaitable[Step]],
        observer: JobObserver | None = None,
    ) -> None:
        self.broker = broker
        self._assess = assess
        self._offer_next = offer_next
        self.observer: JobObserver = observer or _Unobserved()
        #: Set while no fan-out link runs in this process (the worker's dispatcher yields to them).
        self.fanout_idle = asyncio.Event()
        self.fanout_idle.set()
        #: Called when this process's last fan-out link ends (a dispatcher holding first messages back wakes).
        self.idle_listeners: list[Callable[[], None]] = []
        self._fanning_out = 0

        async def run_assess(disruption_id: int, context: Context = CONTEXT) -> int:
            with self.observer.job("rebook.assess", context.message.labels, disruption_id=disruption_id):
                batches = await self._assess(disruption_id)
                if batches:
                    await self._kick_offer(disruption_id, self.observer.job_labels())
            return len(batches)

        async def run_offer_batch(disruption_id: int, context: Context = CONTEXT) -> int:
            """One link of the disruption's chain: offer its next batch, then kick the next link."""
            labels = context.message.labels
            # Every link carries the assess job's trace, so batches are siblings, not a chain of spans.
            carried = {k: str(v) for k, v in labels.items() if k != FAILURES and isinstance(v, str)}
            failures = int(labels.get(FAILURES, 0) or 0)
            with self.observer.job("rebook.offer_batch", labels, disruption_id=disruption_id), self._fanning():
                try:
                    step = await self._offer_next(disruption_id)
                except Exception:
                    # A link that dies would stop the chain until `Worker.recover` notices the stall;
                    # try again at once a few times (each link is idempotent), then leave it to recovery.
                    if failures + 1 < MAX_LINK_FAILURES:
                        await self._kick_offer(disruption_id, {**carried, FAILURES: str(failures + 1)})
                    raise
                if step.more:
                    await self._kick_offer(disruption_id, carried)
            await self.observer.options_held(disruption_id, step.offered)
            return step.offered

        self.assess_task: Any = broker.register_task(run_assess, task_name="rebook.assess")
        self.offer_task: Any = broker.register_task(run_offer_batch, task_name="rebook.offer_batch")

    @contextlib.contextmanager
    def _fanning(self) -> Iterator[None]:
        self._fanning_out += 1
        self.fanout_idle.clear()
        try:
            yield
        finally:
            self._fanning_out -= 1
            if not self._fanning_out:
                self.fanout_idle.set()
                for listener in self.idle_listeners:
                    listener()

    async def _kick_offer(self, disruption_id: int, labels: Mapping[str, str]) -> None:
        await self.offer_task.kicker().with_labels(**labels).kiq(disruption_id)

    async def disruption_recorded(self, disruption_id: int) -> None:
        await self.assess_task.kicker().with_labels(**self.observer.job_labels()).kiq(disruption_id)

    async def wait_idle(self) -> None:
        """In-process broker only: wait until every kicked job has run (for the demo and tests)."""
        if isinstance(self.broker, InMemoryBroker):
            while self.broker._running_tasks:
                await self.broker.wait_all()

    async def shutdown(self, grace_s: float = 30.0) -> None:
        """Let in-process jobs finish (then cancel them) before the broker stops: one still running at dispose keeps its connection open."""
        if isinstance(self.broker, InMemoryBroker) and self.broker._running_tasks:
            try:
                await asyncio.wait_for(self.wait_idle(), grace_s)
            except TimeoutError:
                running = list(self.broker._running_tasks)
                for task in running:
                    task.cancel()
                await asyncio.gather(*running, return_exceptions=True)
        await self.broker.shutdown()
