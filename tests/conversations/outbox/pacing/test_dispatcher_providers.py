"""The dispatcher with the real SDKs (twilio, pywa) against the local provider fakes, paced by the
shared Redis buckets: 429 + Retry-After retried then and not before (and every worker backs off),
5xx retried with backoff, permanent errors not retried, exhausted temporary failures dead-lettered."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.sandbox import Sandbox
from conversations.engine import Status
from conversations.models import OutboxMessage
from conversations.outbox.deadletters import list_dead, retry_dead
from conversations.outbox.pacing import Pacer
from conversations.outbox.ports import Limit
from gateway.container import build
from gateway.settings import (
    ChannelPacing,
    PacingSettings,
    Settings,
    TwilioSettings,
    WhatsAppSettings,
)
from infra import crypto
from infra.ratelimit import RedisBuckets
from tests.conversations.conftest import Clock, Pax, Rig, _network
from tests.conversations.outbox.pacing.conftest import PACING_REDIS_URL
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio

SENDER = "+15550001111"
SMS_LIMIT = Limit(rate=50, burst=10)


@pytest.fixture
def twilio() -> Iterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    with LocalServer(fake.app) as srv:
        yield fake, srv.url
        fake.release()


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraphAPI, str]]:
    fake = FakeGraphAPI()
    with LocalServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
def pacing() -> PacingSettings:
    return PacingSettings(
        sms=ChannelPacing(rate=SMS_LIMIT.rate, burst=SMS_LIMIT.burst),
        whatsapp=ChannelPacing(rate=80, recipient_limit_codes=["131056"]),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def rig(
    engine: AsyncEngine,
    clock: Clock,
    twilio: tuple[FakeTwilio, str],
    graph: tuple[FakeGraphAPI, str],
    redis: Redis,
    pacing: PacingSettings,
) -> AsyncIterator[Rig]:
    """The gateway as `build()` wires it for production: real adapters, Redis pacing, no sandbox."""
    previous = crypto.keyring()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        redis_url=PACING_REDIS_URL,
        pii_keys=SecretStr("k1:test-pii-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        blind_index_key=SecretStr("test-blind-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        ops_api_keys=SecretStr("ops-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        public_base_url="https://rebook.example.test",
        twilio=TwilioSettings(
            account_sid=twilio[0].account_sid, auth_token=SecretStr(twilio[0].auth_token), from_number=SENDER, api_base=twilio[1]
        ),
        whatsapp=WhatsAppSettings(
            phone_number_id=graph[0].phone_number_id,
            token=SecretStr(graph[0].token),
            app_secret=SecretStr("app-secret"),
            api_base=graph[1],
        ),
        pacing=pacing,
    )
    c = build(settings, clock=clock)
    assert isinstance(getattr(c.dispatcher.pacer, "store", None), RedisBuckets)
    try:
        disrupted, alternatives = await _network(c, clock)
        yield Rig(c, Sandbox(), clock, disrupted, alternatives)
    finally:
        await c.aclose()
        crypto.configure(previous)


async def _planned(rig: Rig, *people: Pax) -> None:
    ids = await rig.disrupt()
    assert await rig.c.service.offer_batch(ids) == len(people)


async def _row(rig: Rig, who: Pax) -> OutboxMessage:
    [row] = await rig.outbox(who)
    return row


def _tokens(fake: FakeTwilio) -> list[str]:
    return [r.headers["i-twilio-idempotency-token"] for r in fake.requests]


async def test_a_twilio_429_is_retried_after_retry_after_and_not_before_and_blocks_every_worker(
    rig: Rig, twilio: tuple[FakeTwilio, str], redis: Redis
) -> None:
    fake = twilio[0]
    a = await rig.add_pax(("sms",))
    await _planned(rig, a)
    fake.fail_next(1, status=429, code=20429, retry_after="3")
    t0 = rig.clock()
    started = time.monotonic()

    await rig.c.dispatcher.drain()

    row = await _row(rig, a)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "RateLimited")
    assert row.next_attempt_at == t0 + dt.timedelta(seconds=3)
    # Another worker (its own connection) finds the sender's shared bucket blocked for ~3 s.
    other = RedisBuckets(Redis.from_url(PACING_REDIS_URL))
    try:
        wait = await other.take(f"sms:{SENDER}", SMS_LIMIT)
    finally:
        await other.aclose()
    assert 3.0 - (time.monotonic() - started) - 0.05 < wait <= 3.0, "blocked for what is left of the Retry-After"

    rig.clock.advance(seconds=2.9)
    assert await rig.c.dispatcher.run_once() == 0
    assert len(fake.requests) == 1, "not retried before Retry-After"

    rig.clock.advance(seconds=0.1)
    assert await rig.c.dispatcher.run_once() == 1
    row = await _row(rig, a)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(fake.requests) == 2
    assert len(set(_tokens(fake))) == 1, "the retry carries the same idempotency token"


async def test_a_whatsapp_429_is_retried_later_and_a_pair_limit_does_not_stall_the_number(
    rig: Rig, graph: tuple[FakeGraphAPI, str]
) -> None:
    fake = graph[0]
    a = await rig.add_pax(("whatsapp",))
    b = await rig.add_pax(("whatsapp",))
    await _planned(rig, a, b)
    fake.fail_next(1, status=400, code=131056, message="(#131056) pair rate limit hit", retry_after="6")
    fake.fail_next(1, status=429, code=130429, message="(#130429) Rate limit hit", retry_after="2")
    t0 = rig.clock()
    bucket = f"whatsapp:{fake.phone_number_id}"
    other = RedisBuckets(Redis.from_url(PACING_REDIS_URL))
    try:
        await rig.c.dispatcher.drain()
        assert await other.take(bucket, Limit(80, 80)) > 0, "the 429 blocked the phone number for everyone"
    finally:
        await other.aclose()

    first, second = await _row(rig, a), await _row(rig, b)
    assert {first.next_attempt_at, second.next_attempt_at} == {t0 + dt.timedelta(seconds=6), t0 + dt.timedelta(seconds=2)}
    assert len(fake.requests) == 2
    rig.clock.advance(seconds=1.9)
    assert await rig.c.dispatcher.run_once() == 0
    rig.clock.advance(seconds=0.1)
    assert await rig.c.dispatcher.run_once() == 1
    assert len(fake.requests) == 3
    rig.clock.advance(seconds=4)
    assert await rig.c.dispatcher.run_once() == 1
    assert [(r.status, r.attempts) for r in (await _row(rig, a), await _row(rig, b))] == [("sent", 2), ("sent", 2)]


async def test_a_500_is_retried_with_backoff_and_does_not_block_the_bucket(rig: Rig, twilio: tuple[FakeTwilio, str]) -> None:
    fake = twilio[0]
    a = await rig.add_pax(("sms",))
    await _planned(rig, a)
    fake.fail_next(1, status=500, code=20500, message="Internal Server Error")
    t0 = rig.clock()

    await rig.c.dispatcher.drain()

    row = await _row(rig, a)
    assert (row.status, row.last_error) == ("pending", "ProviderUnavailable")
    assert t0 + dt.timedelta(seconds=1) <= row.next_attempt_at <= t0 + dt.timedelta(seconds=2)
    rig.clock.now = row.next_attempt_at
    assert await rig.c.dispatcher.run_once() == 1
    assert (await _row(rig, a)).status == "sent"
    assert len(fake.requests) == 2 and len(set(_tokens(fake))) == 1


async def test_a_permanent_error_is_not_retried(rig: Rig, twilio: tuple[FakeTwilio, str]) -> None:
    fake = twilio[0]
    a = await rig.add_pax(("sms",))
    await _planned(rig, a)
    fake.fail_next(1, status=400, code=21211, message="The 'To' number is not a valid phone number.")

    await rig.c.dispatcher.drain()
    rig.clock.advance(hours=1)
    await rig.c.dispatcher.drain()

    assert len(fake.requests) == 1
    row = await _row(rig, a)
    assert (row.status, row.tried_channels, row.attempts) == ("failed", ["sms"], 1)
    assert (await rig.conversation(a)).status == Status.ESCALATED


async def test_temporary_failures_on_every_channel_dead_letter_the_message_and_a_retry_sends_it(
    rig: Rig, twilio: tuple[FakeTwilio, str], graph: tuple[FakeGraphAPI, str]
) -> None:
    sms, wa = twilio[0], graph[0]
    a = await rig.add_pax(("whatsapp", "sms"))
    await _planned(rig, a)
    limit = rig.c.dispatcher.config.max_attempts
    wa.fail_next(limit, status=503, code=2, message="Service temporarily unavailable")
    sms.fail_next(1, status=503, code=20503, message="Service Unavailable")

    for _ in range(limit + 1):
        await rig.c.dispatcher.drain()
        rig.clock.advance(seconds=rig.c.dispatcher.config.max_backoff_s + 1)

    row = await _row(rig, a)
    assert (row.status, row.tried_channels, row.attempts) == ("dead", ["whatsapp", "sms"], limit + 1)
    assert (len(wa.requests), len(sms.requests)) == (limit, 1)
    assert await rig.c.dispatcher.drain() == 0, "a dead row is not picked up again by itself"

    async with rig.c.db.reading() as s:
        [dead] = await list_dead(s, now=rig.clock())
    assert (dead.id, dead.key, dead.channels, dead.attempts, dead.last_code) == (
        row.id, row.key, ("whatsapp", "sms"), limit + 1, "sms:20503"
    )

    async with rig.c.db.transaction() as s:
        assert await retry_dead(s, now=rig.clock(), ids=[row.id]) == [row.id]
    await rig.c.dispatcher.drain()

    row = await _row(rig, a)
    assert (row.status, row.channel, row.attempts) == ("sent", "whatsapp", 1)
    assert len(wa.requests) == limit + 1
    trackers = {r.body.get("biz_opaque_callback_data") for r in wa.requests}
    assert trackers == {row.idempotency_key}, "every attempt, before and after the retry, carries one key"


@pytest.mark.parametrize("pacing", [PacingSettings(sms=ChannelPacing(rate=0.01, burst=10))])
async def test_every_sms_segment_is_paid_from_the_senders_bucket(
    rig: Rig, twilio: tuple[FakeTwilio, str], redis: Redis
) -> None:
    a = await rig.add_pax(("sms",))
    await _planned(rig, a)

    await rig.c.dispatcher.drain()

    [delivery] = await rig.deliveries(a)
    assert delivery.segments >= 2, "the offer menu needs more than one segment"
    state = RedisBuckets(redis).keys(f"sms:{SENDER}")[0]
    tokens = float(await redis.hget(state, "tokens") or "nan")
    assert tokens == pytest.approx(10 - delivery.segments, abs=0.05), "refill is 0.01/s: negligible here"


async def test_with_redis_unreachable_the_message_waits_in_the_outbox_and_nothing_is_sent(
    rig: Rig, twilio: tuple[FakeTwilio, str]
) -> None:
    paces = rig.c.dispatcher.pacer.paces  # type: ignore[attr-defined]
    down = RedisBuckets.from_url("redis://127.0.0.1:1/0")
    rig.c.dispatcher.pacer = Pacer(paces, down)
    a = await rig.add_pax(("sms",))
    await _planned(rig, a)
    t0 = rig.clock()
    try:
        await rig.c.dispatcher.drain()
    finally:
        await down.aclose()

    assert twilio[0].requests == [], "no send without a token"
    row = await _row(rig, a)
    assert row.status == "pending" and row.next_attempt_at > t0
    assert row.last_error == "ConnectionError"
