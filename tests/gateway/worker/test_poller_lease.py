"""One flight-status poller per cluster (#16): two workers against the fake status API fetch each status once a round.

The lease is a Redis key when Redis is configured and an in-process table otherwise; a holder that
stops renewing (released, or its key gone) hands the polling to the other worker.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from gateway.settings import FlightStatusSettings
from gateway.worker.flightstatus import Poller, RestStatusSource, StoryIntake, poll_lease
from infra.lease import Lease, LocalLease, RedisLease
from tests.conftest import REDIS_URL
from tests.fakes.flightstatus_api import FlightStatusApi
from tests.fakes.server import LocalServer
from tests.gateway import conftest as gateway_fixtures
from tests.gateway.conftest import Gateway, World, running

db_url = gateway_fixtures.db_url
world = gateway_fixtures.world

ROUNDS = 3


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    await client.delete("rebook:lease:test-poller")
    try:
        yield client
    finally:
        await client.delete("rebook:lease:test-poller")
        await client.aclose()


def _leases(kind: str, redis: Redis) -> tuple[Lease, Lease]:
    if kind == "redis":
        return RedisLease(redis, "test-poller", ttl_s=120), RedisLease(redis, "test-poller", ttl_s=120)
    return LocalLease("test-poller", ttl_s=120), LocalLease("test-poller", ttl_s=120)


def _worker(g: Gateway, source: RestStatusSource, lease: Lease) -> Poller:
    return Poller(
        g.container.db, source, StoryIntake(g.container), source_name="poll",
        horizon=dt.timedelta(days=13), clock=g.container.clock, lease=lease,
    )


@pytest.mark.parametrize("kind", ["redis", "local"])
async def test_two_workers_fetch_each_status_once_per_interval(db_url: str, world: World, redis: Redis, kind: str) -> None:
    api = FlightStatusApi()
    first, second = _leases(kind, redis)
    async with running(db_url, world) as g:
        with LocalServer(api.app()) as server:
            sources = [RestStatusSource(server.url), RestStatusSource(server.url)]
            a, b = _worker(g, sources[0], first), _worker(g, sources[1], second)
            try:
                reports = []
                for _ in range(ROUNDS):  # each worker's round of one interval, in either order
                    reports += [await b.round(), await a.round()]
                watched = next(r.watched for r in reports if r.led)
                per_flight = Counter(key for key, _ in api.requests)
                assert watched > 0
                assert len(per_flight) == watched and set(per_flight.values()) == {ROUNDS}
                assert [r.led for r in reports] == [True, False] * ROUNDS  # the first to ask keeps it
                # The holder lets go (a worker stopping): the other takes over on its next round.
                await second.release()
                assert (await a.round()).led and not (await b.round()).led
                assert set(Counter(key for key, _ in api.requests).values()) == {ROUNDS + 1}
            finally:
                await first.release()
                await second.release()
                for source in sources:
                    await source.aclose()


async def test_a_lease_whose_holder_stopped_renewing_is_taken_over(redis: Redis) -> None:
    """The holder's key is gone (its TTL ran out while it hung): the next worker to ask holds it."""
    holder, other = RedisLease(redis, "test-poller", ttl_s=120), RedisLease(redis, "test-poller", ttl_s=120)
    assert await holder.hold() and await holder.hold()
    assert not await other.hold()
    assert 0 < await redis.pttl("rebook:lease:test-poller") <= 120_000
    await redis.delete("rebook:lease:test-poller")  # what expiry does
    assert await other.hold()
    assert not await holder.hold()
    await holder.release()  # not its lease any more: nothing happens
    assert await redis.get("rebook:lease:test-poller") == other.token.encode()


async def test_an_in_process_lease_runs_out_on_its_clock() -> None:
    now = [0.0]
    holder = LocalLease("clocked", ttl_s=10, clock=lambda: now[0])
    other = LocalLease("clocked", ttl_s=10, clock=lambda: now[0])
    assert await holder.hold() and not await other.hold()
    now[0] = 9.0
    assert await holder.hold()  # renewed until 19
    now[0] = 18.0
    assert not await other.hold()
    now[0] = 19.5
    assert await other.hold() and not await holder.hold()
    await other.release()


async def test_the_lease_outlives_two_intervals_and_a_request_and_uses_redis_when_configured() -> None:
    settings = FlightStatusSettings(poll_url="http://127.0.0.1:1", poll_interval_s=30, poll_timeout_s=5)
    local, none = poll_lease(settings, None)
    assert isinstance(local, LocalLease) and none is None and local.ttl_s == 65
    shared, client = poll_lease(settings, REDIS_URL)
    assert isinstance(shared, RedisLease) and client is not None and shared.ttl_ms == 65_000
    await client.aclose()
