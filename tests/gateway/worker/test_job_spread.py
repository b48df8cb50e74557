"""Workers take one job at a time from the stream, so two workers run two jobs side by side."""

from __future__ import annotations

import asyncio
import uuid

from taskiq.api import run_receiver_task

from gateway.worker.jobs import make_broker
from tests.conftest import REDIS_URL


async def test_two_workers_with_one_slot_each_run_two_jobs_at_once() -> None:
    queue = f"rebook:test:jobs:{uuid.uuid4().hex[:8]}"
    started: list[str] = []
    both = asyncio.Event()

    def worker(name: str):  # type: ignore[no-untyped-def]
        broker = make_broker(REDIS_URL, queue_name=queue)

        async def job(n: int) -> bool:
            started.append(name)
            if len(started) == 2:
                both.set()
            try:
                await asyncio.wait_for(both.wait(), 5)
            except TimeoutError:
                return False
            return True

        task = broker.register_task(job, task_name="test.spread")
        return broker, task

    (a, task_a), (b, _) = worker("a"), worker("b")
    await a.startup()
    await b.startup()
    await task_a.kiq(1)  # both waiting before anyone reads: a greedy read would take both
    await task_a.kiq(2)
    receivers = [asyncio.create_task(run_receiver_task(x, max_async_tasks=1, run_startup=False)) for x in (a, b)]
    try:
        await asyncio.wait_for(both.wait(), 10)
        assert sorted(started) == ["a", "b"], "one worker hoarded both jobs"
    finally:
        for r in receivers:
            r.cancel()
        await asyncio.gather(*receivers, return_exceptions=True)
        await a.shutdown()
        await b.shutdown()
