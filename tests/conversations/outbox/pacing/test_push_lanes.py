"""Push's two lanes (`push:apns`, `push:fcm`) paced by REBOOK_PACING__APNS__* / __FCM__* through the shared Redis
buckets, with the real APNs and FCM adapters against their fakes: a service's 429 with Retry-After closes its own
lane for every worker and not the other's, a message Apple throttles for its one device waits alone, and every
message is delivered once in the end."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.apns import ApnsChannel
from channels.fcm import FcmChannel
from channels.push import PushChannel
from channels.sandbox import Sandbox
from conversations.app.devices import Device, register
from conversations.outbox.pacing import Pacer
from conversations.outbox.ports import ChannelPace, Limit
from gateway.container import build
from gateway.pacing import OPEN_LANE, build_pacer, close_pacer
from gateway.settings import ChannelPacing, PacingSettings, Settings
from infra import crypto
from infra.ratelimit import RedisBuckets
from rebooking_core.models import Passenger
from tests.conversations.conftest import Clock, Pax, Rig, _network
from tests.conversations.outbox.pacing.conftest import PACING_REDIS_URL
from tests.conversations.outbox.pacing.test_dispatcher_providers import _planned, _row
from tests.fakes.apns_api import KEY_ID, TEAM_ID, TOPIC, FakeApns, LocalApns, p8_key
from tests.fakes.fcm_api import PROJECT, FakeFcm, rsa_key, service_account
from tests.fakes.server import LocalServer

KEYS: dict[str, Any] = {
    "pii_keys": SecretStr("k1:test-pii-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
    "blind_index_key": SecretStr("test-blind-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
    "ops_api_keys": SecretStr("ops-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
    "public_base_url": "https://rebook.example.test",
}


@dataclass
class Services:
    apple: FakeApns
    google: FakeFcm
    push: PushChannel


@pytest.fixture
def services() -> Iterator[Services]:
    pem, key = p8_key()
    apple, google = FakeApns(public_key=key.public_key()), FakeFcm(rsa_key())
    with LocalApns(apple) as apns, LocalServer(google.app()) as fcm, tempfile.TemporaryDirectory() as tmp:
        account = service_account(Path(tmp), google.key, f"{fcm.url}/token")
        push = PushChannel(
            {
                "apns": ApnsChannel(key_id=KEY_ID, team_id=TEAM_ID, private_key=pem, topic=TOPIC, api_base=apns.url, ca_file=str(apns.ca_file)),
                "fcm": FcmChannel(credentials_file=str(account), project_id=PROJECT, api_base=fcm.url),
            }
        )
        yield Services(apple, google, push)


@pytest.fixture
def pacing() -> PacingSettings:
    return PacingSettings()


@pytest.fixture
async def rig(engine: AsyncEngine, services: Services, redis: Redis, pacing: PacingSettings) -> AsyncIterator[Rig]:
    """The gateway as production wires it (no sandbox, Redis pacing from settings), push its only channel."""
    previous = crypto.keyring()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=engine.url.render_as_string(hide_password=False), redis_url=PACING_REDIS_URL, pacing=pacing, **KEYS
    )
    clock = Clock()
    c = build(settings, clock=clock, channels={"push": services.push})
    assert isinstance(getattr(c.dispatcher.pacer, "store", None), RedisBuckets)
    try:
        disrupted, alternatives = await _network(c, clock)
        yield Rig(c, Sandbox(), clock, disrupted, alternatives)
    finally:
        await c.aclose()
        crypto.configure(previous)


async def _app_user(rig: Rig, platform: str, token: str) -> Pax:
    """A booking on the disrupted flight whose contact's app registered `token` (push first, SMS behind it)."""
    who = await rig.add_pax(("sms",))
    async with rig.c.db.transaction() as s:
        passenger = await s.get(Passenger, who.passenger_id)
        assert passenger is not None
        await register(s, passenger, Device(token, platform, TOPIC, preferred=True), evidence="test", actor="test", at=rig.clock())
    return who


def _pacer(rig: Rig) -> Pacer:
    pacer = rig.c.dispatcher.pacer
    assert isinstance(pacer, Pacer)
    return pacer


async def _blocked(pacer: Pacer, lane: str) -> float:
    """Seconds the lane's bucket stays closed, as another worker (its own Redis connection) sees it."""
    other = RedisBuckets(Redis.from_url(PACING_REDIS_URL))
    try:
        pace = pacer.pace("push", lane)
        assert pace is not None and pace.per_sender is not None
        return (await other.peek(f"push:{lane}", pace.per_sender))[1]
    finally:
        await other.aclose()


async def _until_open(pacer: Pacer, lane: str) -> None:
    """Waits (on Redis's clock, which the test cannot move) until the lane's bucket has room again."""
    for _ in range(100):
        if (await pacer.room("push", lane, 1, horizon=0.0, in_flight=0))[0]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"push:{lane} stayed closed")


async def test_each_service_is_paced_by_its_own_settings() -> None:
    settings = Settings(_env_file=None, pacing={"apns": {"rate": 20, "burst": 40}}, **KEYS)  # type: ignore[arg-type, call-arg]
    pacer = build_pacer(settings, ["push"])
    try:
        assert pacer.pace("push", "apns") == ChannelPace(
            sender_id="apns", per_sender=Limit(20, 40), recipient_codes=frozenset({"TooManyRequests"})
        ), "REBOOK_PACING__APNS__RATE/BURST, keeping APNs's per-device code"
        assert pacer.pace("push", "fcm") == ChannelPace(sender_id="fcm", per_sender=OPEN_LANE), "no published rate: open"
        assert [t.bucket for t in pacer.buckets("push", "ab" * 32, "apns")] == ["push:apns"]
        assert [t.bucket for t in pacer.buckets("push", "fcmTok-1", "fcm")] == ["push:fcm"]
    finally:
        await close_pacer(pacer)


@pytest.mark.parametrize("pacing", [PacingSettings(apns=ChannelPacing(rate=0.01, burst=10))])
async def test_a_configured_apns_rate_is_paid_from_the_apns_lane_only(rig: Rig, services: Services, redis: Redis) -> None:
    ios = [await _app_user(rig, "ios", f"{n:02d}" * 32) for n in range(3)]
    android = await _app_user(rig, "android", "fcmTok-" + "Zq9XkL2mPq7RvT4w" * 4)
    await _planned(rig, *ios, android)

    await rig.c.dispatcher.drain()

    assert len([r for r in services.apple.requests if r.answered == 200]) == 3 and len(services.google.sends) == 1
    tokens = {lane: float(await redis.hget(RedisBuckets(redis).keys(f"push:{lane}")[0], "tokens") or "nan") for lane in ("apns", "fcm")}
    assert tokens["apns"] == pytest.approx(10 - 3, abs=0.05), "three sends from a bucket of 10 refilling at 0.01/s"
    assert tokens["fcm"] > OPEN_LANE.burst - 10, "FCM's lane is open: its sends wait on nothing"


async def test_an_fcm_quota_error_closes_the_fcm_lane_for_its_retry_after_and_nothing_is_lost(rig: Rig, services: Services) -> None:
    android = await _app_user(rig, "android", "fcmTok-" + "Zq9XkL2mPq7RvT4w" * 4)
    ios = await _app_user(rig, "ios", "ab" * 32)
    await _planned(rig, android, ios)
    services.google.fail_next(429, "QUOTA_EXCEEDED", {"Retry-After": "2"})
    t0 = rig.clock()
    pacer = _pacer(rig)

    await rig.c.dispatcher.drain()

    row = await _row(rig, android)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "RateLimited")
    assert row.next_attempt_at == t0 + dt.timedelta(seconds=2)
    assert 0 < await _blocked(pacer, "fcm") <= 2.0, "every worker finds the FCM lane closed"
    assert await _blocked(pacer, "apns") == 0, "APNs is another service: its lane goes on"
    assert (await _row(rig, ios)).status == "sent"
    assert (await pacer.room("push", "fcm", 1, horizon=0.0, in_flight=0))[0] == 0

    rig.clock.advance(seconds=2)
    await _until_open(pacer, "fcm")
    assert await rig.c.dispatcher.drain() == 1

    row = await _row(rig, android)
    assert (row.status, row.attempts) == ("sent", 2)
    assert [s.token for s in services.google.sends] == ["fcmTok-" + "Zq9XkL2mPq7RvT4w" * 4], "delivered once"
    assert services.google.attempts == 2
    assert [r.device for r in services.apple.requests] == ["ab" * 32]


async def test_apples_provider_wide_429_closes_the_apns_lane(rig: Rig, services: Services) -> None:
    ios = await _app_user(rig, "ios", "ab" * 32)
    await _planned(rig, ios)
    services.apple.fail_next(429, "TooManyProviderTokenUpdates", {"retry-after": "2"})
    pacer = _pacer(rig)

    await rig.c.dispatcher.drain()

    assert (await _row(rig, ios)).last_error == "RateLimited"
    assert 0 < await _blocked(pacer, "apns") <= 2.0
    assert await _blocked(pacer, "fcm") == 0
    rig.clock.advance(seconds=2)
    await _until_open(pacer, "apns")
    assert await rig.c.dispatcher.drain() == 1
    assert (await _row(rig, ios)).status == "sent"
    assert [r.answered for r in services.apple.requests] == [429, 200]


async def test_one_device_sent_too_much_waits_alone_and_the_apns_lane_stays_open(rig: Rig, services: Services) -> None:
    people = [await _app_user(rig, "ios", f"{n:02d}" * 32) for n in range(3)]
    await _planned(rig, *people)
    services.apple.fail_next(429, "TooManyRequests", {"retry-after": "5"})
    t0 = rig.clock()

    await rig.c.dispatcher.drain()

    rows = [await _row(rig, who) for who in people]
    assert sorted(r.status for r in rows) == ["pending", "sent", "sent"], "the other devices were not held up"
    [waiting] = [r for r in rows if r.status == "pending"]
    assert (waiting.last_error, waiting.next_attempt_at) == ("RateLimited", t0 + dt.timedelta(seconds=5))
    assert await _blocked(_pacer(rig), "apns") == 0, "TooManyRequests is one device's: the lane is not closed"
    rig.clock.advance(seconds=5)
    assert await rig.c.dispatcher.drain() == 1
    sent = sorted(r.device for r in services.apple.requests if r.answered == 200)
    assert sent == sorted(f"{n:02d}" * 32 for n in range(3)), "each device got its offer once"
