"""Token buckets per channel so fan-out never outruns a provider's documented rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(rate, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class Pacer:
    """One bucket per channel name; a channel without a rate is not paced."""

    def __init__(self, rates: Mapping[str, float]) -> None:
        self.buckets = {name: TokenBucket(rate) for name, rate in rates.items() if rate > 0}

    async def acquire(self, channel: str) -> None:
        bucket = self.buckets.get(channel)
        if bucket is not None:
            await bucket.acquire()
