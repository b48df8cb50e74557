"""A worker process for the cross-process tests: N tasks acquire one shared Redis bucket through the
real Pacer for a while, then print the Redis-clock time of every token granted to them (JSON)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from redis.asyncio import Redis

from conversations.outbox.pacing import Pacer
from conversations.outbox.ports import ChannelPace, Limit
from infra.ratelimit import RedisBuckets


class Recording:
    """The Redis store, noting when (on the bucket's clock) each granted token was taken."""

    def __init__(self, inner: RedisBuckets) -> None:
        self.inner = inner
        self.grants: list[float] = []

    async def take(self, bucket: str, limit: Limit, cost: float = 1.0, floor: float = 0.0, debt: float = 0.0) -> float:
        result = await self.inner.take_timed(bucket, limit, cost, floor=floor, debt=debt)
        if result.granted:
            self.grants.append(result.at)
            return 0.0
        return max(result.wait, 1e-6)

    async def charge(self, bucket: str, limit: Limit, cost: float) -> None:
        await self.inner.charge(bucket, limit, cost)

    async def block(self, bucket: str, limit: Limit, seconds: float) -> None:
        await self.inner.block(bucket, limit, seconds)


async def _server_time(redis: Redis) -> float:
    seconds, micros = await redis.time()
    return float(seconds) + float(micros) / 1_000_000


async def main(args: argparse.Namespace) -> None:
    redis = Redis.from_url(args.url)
    store = Recording(RedisBuckets(redis))
    pace = ChannelPace(sender_id=args.sender, per_sender=Limit(args.rate, args.burst))
    pacer = Pacer({"sms": pace}, store, max_nap_s=0.2)
    await asyncio.sleep(max(0.0, args.start_at - await _server_time(redis)))
    stop = time.monotonic() + args.seconds

    async def worker() -> None:
        while time.monotonic() < stop and len(store.grants) < args.max_grants:
            await pacer.acquire("sms", "+447700900123")

    await asyncio.gather(*(worker() for _ in range(args.tasks)))
    await redis.aclose()
    json.dump(store.grants, sys.stdout)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--sender", default="+15550001111")
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--burst", type=float, required=True)
    p.add_argument("--tasks", type=int, default=8)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--max-grants", type=int, default=1_000_000)
    p.add_argument("--start-at", type=float, default=0.0)
    asyncio.run(main(p.parse_args()))
