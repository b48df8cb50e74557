"""One contract for every BucketStore: the in-process one and the Redis Lua one give the same answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from conversations.outbox.pacing import LocalBuckets
from conversations.outbox.ports import BucketStore, Limit
from infra.ratelimit import RedisBuckets
from tests.conversations.outbox.pacing.conftest import FrozenClock

LIMIT = Limit(rate=2.0, burst=3.0)


@pytest.fixture(params=["local", "redis"])
async def store(request: pytest.FixtureRequest, frozen: FrozenClock, redis: Redis) -> AsyncIterator[BucketStore]:
    yield LocalBuckets(clock=frozen) if request.param == "local" else RedisBuckets(redis, clock=frozen)


async def test_a_full_bucket_grants_its_burst_then_says_how_long_to_wait(store: BucketStore) -> None:
    assert [await store.take("b", LIMIT) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await store.take("b", LIMIT) == pytest.approx(0.5)
    assert await store.take("b", LIMIT) == pytest.approx(0.5), "a refused take takes nothing"


async def test_tokens_come_back_at_the_rate_and_never_above_the_burst(store: BucketStore, frozen: FrozenClock) -> None:
    for _ in range(3):
        await store.take("b", LIMIT)
    frozen.advance(0.5)
    assert await store.take("b", LIMIT) == 0.0
    assert await store.take("b", LIMIT) == pytest.approx(0.5)
    frozen.advance(3600)
    assert [await store.take("b", LIMIT) for _ in range(4)][:3] == [0.0, 0.0, 0.0]
    assert await store.take("b", LIMIT) > 0, "an idle hour saves up no more than the burst"


async def test_buckets_are_independent(store: BucketStore) -> None:
    for _ in range(3):
        await store.take("a", LIMIT)
    assert await store.take("a", LIMIT) > 0
    assert await store.take("b", LIMIT) == 0.0


async def test_a_charge_can_run_into_debt_that_later_takes_wait_out(store: BucketStore, frozen: FrozenClock) -> None:
    await store.take("b", LIMIT)
    await store.charge("b", LIMIT, 4)  # 3 - 1 - 4 = -2 tokens
    assert await store.take("b", LIMIT) == pytest.approx(1.5)
    frozen.advance(1.5)
    assert await store.take("b", LIMIT) == 0.0


async def test_a_take_with_a_floor_leaves_that_many_tokens_and_says_when_it_could(store: BucketStore, frozen: FrozenClock) -> None:
    assert await store.take("b", LIMIT, 1.0, 2.0) == 0.0, "3 - 1 leaves the floor of 2"
    assert await store.take("b", LIMIT, 1.0, 2.0) == pytest.approx(0.5), "1 more token needed: half a second"
    assert [await store.take("b", LIMIT) for _ in range(2)] == [0.0, 0.0], "without a floor the reserve is there to take"
    assert await store.take("b", LIMIT) == pytest.approx(0.5)
    frozen.advance(1.0)
    assert await store.take("b", LIMIT, 1.0, 2.0) == pytest.approx(0.5), "refilled to 2: one more before a floored take"
    assert await store.take("b", LIMIT) == 0.0


async def test_a_block_refuses_everyone_until_it_ends_then_refills_from_empty(
    store: BucketStore, frozen: FrozenClock
) -> None:
    await store.block("b", LIMIT, 3.0)
    assert await store.take("b", LIMIT) == pytest.approx(3.0)
    frozen.advance(2.0)
    assert await store.take("b", LIMIT) == pytest.approx(1.0)
    frozen.advance(1.0)
    assert await store.take("b", LIMIT) == pytest.approx(0.5), "no burst right after a 429"
    frozen.advance(0.5)
    assert await store.take("b", LIMIT) == 0.0


async def test_a_shorter_block_does_not_cut_a_longer_one(store: BucketStore, frozen: FrozenClock) -> None:
    await store.block("b", LIMIT, 5.0)
    await store.block("b", LIMIT, 1.0)
    frozen.advance(2.0)
    assert await store.take("b", LIMIT) == pytest.approx(3.0)


def test_a_limit_must_be_able_to_grant() -> None:
    with pytest.raises(ValueError):
        Limit(rate=0, burst=1)
    with pytest.raises(ValueError):
        Limit(rate=1, burst=0.5)
