"""Redis db 11 for the shared buckets (fails, never skips, when Redis is down)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

PACING_REDIS_URL = os.environ.get("REBOOK_TEST_PACING_REDIS_URL", "redis://127.0.0.1:6379/11")


class FrozenClock:
    """Seconds that move only when the test says so, for bucket arithmetic without waiting."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def frozen() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(PACING_REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()
