"""The outbox doorbell: a ring in one process wakes a worker in another, and a dead Redis costs only latency."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

from gateway.container import build
from gateway.settings import Settings
from gateway.worker.process import Worker
from infra.doorbell import Doorbell
from tests.conftest import REDIS_URL


def _channel() -> str:
    return f"rebook:test:{uuid.uuid4().hex[:8]}"


def count_publishes(bell: Doorbell) -> list[bytes]:
    """Record every publish the bell makes (it still reaches Redis)."""
    published: list[bytes] = []
    real = bell.client.publish

    async def counting(channel: str, message: bytes) -> int:
        published.append(message)
        return int(await real(channel, message))

    bell.client.publish = counting  # type: ignore[method-assign]
    return published


async def test_a_ring_reaches_a_listener_on_another_connection() -> None:
    channel = _channel()
    ringer, listener = Doorbell.from_url(REDIS_URL), Doorbell.from_url(REDIS_URL)
    ringer.channel = listener.channel = channel
    subscribed, woke = asyncio.Event(), asyncio.Event()

    def on_ring() -> None:
        if subscribed.is_set():
            woke.set()
        subscribed.set()  # the first call is the look-once right after subscribing

    task = asyncio.create_task(listener.listen(on_ring))
    try:
        await asyncio.wait_for(subscribed.wait(), 5)
        ringer.ring()
        await asyncio.wait_for(woke.wait(), 5)
    finally:
        task.cancel()
        await ringer.aclose()
        await listener.aclose()


async def test_rings_during_a_publish_fold_into_one_more() -> None:
    bell = Doorbell.from_url(REDIS_URL)
    bell.channel = _channel()
    published = count_publishes(bell)
    try:
        for _ in range(50):
            bell.ring()
        await bell._ringing  # type: ignore[misc]
    finally:
        await bell.aclose()
    assert 1 <= len(published) <= 2


async def test_ringing_a_dead_redis_logs_and_raises_nothing(caplog: pytest.LogCaptureFixture) -> None:
    bell = Doorbell.from_url("redis://127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING, logger="infra.doorbell"):
        bell.ring()
        await bell._ringing  # type: ignore[misc]
    await bell.aclose()
    assert "doorbell not rung" in caplog.text


async def test_with_redis_the_container_rings_and_the_worker_listens(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    c = build(Settings(sandbox=True, database_url=url, redis_url=REDIS_URL, _env_file=None))  # type: ignore[call-arg]
    try:
        assert c.doorbell is not None and c.doorbell.ring in c.listeners
        worker = Worker(c)
        c.doorbell.channel = _channel()
        worker._wake.clear()
        listening = asyncio.create_task(c.doorbell.listen(worker._wake.set))
        await asyncio.wait_for(worker._wake.wait(), 5)  # subscribed: it looks once
        worker._wake.clear()
        other = Doorbell.from_url(REDIS_URL)
        other.channel = c.doorbell.channel
        other.ring()
        await asyncio.wait_for(worker._wake.wait(), 5)
        listening.cancel()
        await other.aclose()
    finally:
        await c.aclose()


async def test_one_small_round_per_turn_across_processes() -> None:
    channel = _channel()
    first, second = Doorbell.from_url(REDIS_URL), Doorbell.from_url(REDIS_URL)
    first.channel = second.channel = channel
    try:
        assert await first.take_turn(0.3)
        assert not await second.take_turn(0.3)  # another worker's turn is running
        assert not await first.take_turn(0.3)
        await asyncio.sleep(0.4)
        assert await second.take_turn(0.3)
    finally:
        await first.aclose()
        await second.aclose()


async def test_without_redis_every_worker_takes_its_turn(caplog: pytest.LogCaptureFixture) -> None:
    bell = Doorbell.from_url("redis://127.0.0.1:1/0")
    try:
        with caplog.at_level(logging.WARNING, logger="infra.doorbell"):
            assert await bell.take_turn(0.05)
        assert "outbox turn not taken" in caplog.text
    finally:
        await bell.aclose()


async def test_a_steady_stream_of_rings_publishes_at_most_once_an_interval() -> None:
    bell = Doorbell.from_url(REDIS_URL, min_interval_s=0.05)
    bell.channel = _channel()
    published = count_publishes(bell)
    try:
        for _ in range(20):  # a ring every 10 ms for 200 ms
            bell.ring()
            await asyncio.sleep(0.01)
        await bell._ringing  # type: ignore[misc]
    finally:
        await bell.aclose()
    assert 2 <= len(published) <= 6, published  # ~one per 50 ms, and the last ring is never lost


async def test_a_fanout_announcement_is_seen_by_every_worker_and_lapses() -> None:
    """A worker that dies mid-fan-out stops holding the others back when its announcement lapses."""
    channel = _channel()
    fanning, other = Doorbell.from_url(REDIS_URL), Doorbell.from_url(REDIS_URL)
    fanning.channel = other.channel = channel
    try:
        assert not await other.fanout_elsewhere()
        await fanning.announce_fanout(0.3)
        assert await other.fanout_elsewhere()
        await asyncio.sleep(0.4)
        assert not await other.fanout_elsewhere()
    finally:
        await fanning.aclose()
        await other.aclose()


async def test_without_redis_no_fanout_holds_messages_back(caplog: pytest.LogCaptureFixture) -> None:
    bell = Doorbell.from_url("redis://127.0.0.1:1/0")
    try:
        with caplog.at_level(logging.WARNING, logger="infra.doorbell"):
            await bell.announce_fanout(1.0)
            assert not await bell.fanout_elsewhere()
        assert "fan-out not announced" in caplog.text and "fan-out announcement unreadable" in caplog.text
    finally:
        await bell.aclose()
