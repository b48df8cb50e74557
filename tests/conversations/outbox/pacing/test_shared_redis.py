"""The Lua bucket on a real Redis, shared by worker processes: never more than rate×time+burst,
and a provider's Retry-After holds back every process, not just the one that got the 429."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis

from conversations.outbox.pacing import Pacer
from conversations.outbox.ports import ChannelPace, Limit
from infra.ratelimit import RedisBuckets
from tests.conversations.outbox.pacing.conftest import PACING_REDIS_URL

ROOT = Path(__file__).resolve().parents[4]
SENDER = "+15550001111"
BUCKET = f"sms:{SENDER}"


async def _server_time(redis: Redis) -> float:
    seconds, micros = await redis.time()
    return float(seconds) + float(micros) / 1_000_000


def _run_acquirer(*args: str) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.conversations.outbox.pacing.acquirer", "--url", PACING_REDIS_URL, "--sender", SENDER, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    grants: list[float] = json.loads(done.stdout)
    return grants


def _worst_window_excess(grants: list[float], rate: float, burst: float) -> float:
    """max over windows [g_i, g_j] of (grants in it) - (rate × its length + burst); ≤ 0 is within the limit."""
    g = sorted(grants)
    worst = float("-inf")
    for i in range(len(g)):
        for j in range(i, len(g)):
            worst = max(worst, (j - i + 1) - (rate * (g[j] - g[i]) + burst))
    return worst


async def test_two_processes_never_exceed_rate_times_time_plus_burst(redis: Redis) -> None:
    rate, burst = 40.0, 5.0
    start = await _server_time(redis) + 1.5  # both processes begin together, after their imports
    args = ("--rate", str(rate), "--burst", str(burst), "--tasks", "8", "--seconds", "2.0", "--start-at", str(start))
    first, second = await asyncio.gather(asyncio.to_thread(_run_acquirer, *args), asyncio.to_thread(_run_acquirer, *args))

    grants = sorted(first + second)
    span = grants[-1] - grants[0]
    assert first and second, "both processes were granted tokens"
    # Every window, measured on the bucket's own (Redis) clock, stays within rate × length + burst.
    assert _worst_window_excess(grants, rate, burst) <= 1e-3
    assert len(grants) <= rate * span + burst + 1e-3
    # ...and the shared bucket is not starving anyone: most of the allowed rate is used.
    assert len(grants) >= 0.5 * rate * span
    assert min(len(first), len(second)) >= 0.2 * len(grants)


async def test_a_retry_after_block_holds_back_another_process_and_another_connection(redis: Redis) -> None:
    rate, burst = 20.0, 20.0
    blocker = RedisBuckets(Redis.from_url(PACING_REDIS_URL))
    other = Pacer({"sms": ChannelPace(sender_id=SENDER, per_sender=Limit(rate, burst))}, RedisBuckets(Redis.from_url(PACING_REDIS_URL)))
    try:
        assert await blocker.take(BUCKET, Limit(rate, burst)) == 0.0, "the bucket is full before the 429"
        await blocker.block(BUCKET, Limit(rate, burst), 1.0)
        until = float(await redis.get(blocker.keys(BUCKET)[1]) or 0)
        assert until > 0

        grants = await asyncio.to_thread(
            _run_acquirer, "--rate", str(rate), "--burst", str(burst), "--tasks", "4", "--max-grants", "3", "--seconds", "10"
        )
        await other.acquire("sms", "+447700900999")
        after = await _server_time(redis)
    finally:
        await blocker.aclose()
        await other.store.aclose()  # type: ignore[attr-defined]

    assert len(grants) >= 3
    assert min(grants) >= until + 1 / rate - 1e-3, "nothing before the block ended, then one token at a time"
    assert after >= until


async def test_keys_carry_one_hash_tag_per_bucket_and_expire_when_idle(redis: Redis) -> None:
    store = RedisBuckets(redis)
    limit = Limit(rate=10, burst=10)
    state, blocked = store.keys("whatsapp:1099000111")
    assert state == "rebook:{bucket:whatsapp:1099000111}"
    assert blocked == "rebook:{bucket:whatsapp:1099000111}:blocked"

    await store.take("whatsapp:1099000111", limit)
    ttl = await redis.pttl(state)
    assert 0 < ttl <= 1_000 + 1_000, "a full bucket is the same as no key: it goes away within burst/rate"
    await store.block("whatsapp:1099000111", limit, 5.0)
    assert 5_000 < await redis.pttl(blocked) <= 6_000
    assert await redis.pttl(state) > 5_000, "the state outlives the block it restarts after"
    assert sorted(k.decode() if isinstance(k, bytes) else k for k in await redis.keys("*")) == [state, blocked]


async def test_without_an_injected_clock_the_redis_server_clock_decides(redis: Redis) -> None:
    store = RedisBuckets(redis)
    before = await _server_time(redis)
    take = await store.take_timed("sms:x", Limit(1, 1))
    after = await _server_time(redis)
    assert take.granted
    assert before - 1e-6 <= take.at <= after
