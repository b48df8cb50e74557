"""Delivery to a real endpoint on 127.0.0.1 that verifies with the `standardwebhooks` package: retries after 500s on
the schedule (a virtual clock), a dead letter and its replay, the circuit and 410, ordering per conversation, the
timestamp tolerance, and the subscription API — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from gateway.http.app import create_app
from gateway.outbound.delivery import Deliverer
from gateway.outbound.models import WebhookDelivery
from gateway.settings import DEV_OPS_KEY
from infra.event_log import EventType, record
from tests.conversations.conftest import Clock, Rig, clock, rig  # noqa: F401  (fixtures)
from tests.fakes.server import LocalServer
from tests.fakes.webhook_receiver import WebhookReceiver


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[WebhookReceiver, str]]:
    fake = WebhookReceiver()
    with LocalServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"webhooks": {"jitter": 0, "circuit_failures": 3, "circuit_period_s": 0}}


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    transport = httpx.ASGITransport(app=create_app(rig.c))
    async with httpx.AsyncClient(transport=transport, base_url="http://rebook.test", headers={"Authorization": f"Bearer {DEV_OPS_KEY}"}) as client:
        yield client


class Hooks:
    """One test's endpoint name on the shared receiver, its subscription, and the worker's deliverer."""

    def __init__(self, rig: Rig, api: httpx.AsyncClient, endpoint: tuple[WebhookReceiver, str], name: str) -> None:  # noqa: F811
        self.rig, self.api, self.fake = rig, api, endpoint[0]
        self.name = f"{name}-{time.monotonic_ns()}"
        self.url = f"{endpoint[1]}/hooks/{self.name}"
        self.id = 0

    @property
    def deliverer(self) -> Deliverer:
        assert self.rig.c.outbound is not None
        return self.rig.c.outbound

    async def subscribe(self, events: list[str], **extra: Any) -> dict[str, Any]:
        r = await self.api.post("/v1/webhooks", json={"url": self.url, "events": events, **extra})
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        self.fake.secrets[self.name] = body["secret"]
        self.id = body["id"]
        return body

    async def event(self, kind: EventType, key: str, **data: Any) -> None:
        async with self.rig.c.db.transaction() as s:
            record(s, kind, at=self.rig.clock(), key=key, data=data)

    async def deliveries(self) -> list[WebhookDelivery]:
        async with self.rig.c.db.reading() as s:
            rows = await s.scalars(select(WebhookDelivery).where(WebhookDelivery.subscription_id == self.id).order_by(WebhookDelivery.id))
            return list(rows.all())

    async def subscription(self) -> dict[str, Any]:
        r = await self.api.get(f"/v1/webhooks/{self.id}")
        assert r.status_code == 200
        out: dict[str, Any] = r.json()
        return out


@pytest.fixture
def hooks(rig: Rig, api: httpx.AsyncClient, endpoint: tuple[WebhookReceiver, str], request: pytest.FixtureRequest) -> Hooks:  # noqa: F811
    return Hooks(rig, api, endpoint, request.node.name.split("[")[0][-20:])


async def test_each_event_goes_signed_to_the_subscriptions_that_want_it(hooks: Hooks) -> None:
    await hooks.subscribe(["booking.confirmed", "consent.changed"])
    await hooks.event(EventType.BOOKING_CONFIRMED, "conversation:1", booking_id=1, option_id=9)
    await hooks.event(EventType.OFFER_SENT, "conversation:1", booking_id=1)
    await hooks.event(EventType.CONSENT_CHANGED, "passenger:4", passenger_id=4, channel="sms", state="withdrawn")
    assert await hooks.deliverer.drain() == 2
    got = sorted(hooks.fake.got(hooks.name), key=lambda r: r.type)
    assert [(r.type, r.data) for r in got] == [  # two ordering keys go out concurrently: no order between them
        ("booking.confirmed", {"booking_id": 1, "option_id": 9}),
        ("consent.changed", {"passenger_id": 4, "channel": "sms", "state": "withdrawn"}),
    ]
    assert all(r.msg_id.startswith("evt_") for r in got) and len({r.msg_id for r in got}) == 2
    assert abs(got[0].timestamp - time.time()) < 60, "webhook-timestamp is the attempt's wall-clock time"
    assert [d.status for d in await hooks.deliveries()] == ["delivered", "delivered"]
    assert await hooks.deliverer.drain() == 0, "delivered once"


async def test_a_subscription_gets_what_happens_after_it_exists(hooks: Hooks) -> None:
    await hooks.event(EventType.BOOKING_CONFIRMED, "conversation:2", booking_id=2)
    hooks.rig.clock.advance(seconds=1)
    await hooks.subscribe(["booking.confirmed"])
    hooks.rig.clock.advance(seconds=1)
    await hooks.event(EventType.BOOKING_CONFIRMED, "conversation:3", booking_id=3)
    await hooks.deliverer.drain()
    assert [r.data["booking_id"] for r in hooks.fake.got(hooks.name)] == [3]


async def test_retries_after_500s_follow_the_schedule(hooks: Hooks, rig: Rig) -> None:  # noqa: F811
    await hooks.subscribe(["booking.failed"])
    hooks.fake.fail_next(hooks.name, 2, 500)
    await hooks.event(EventType.BOOKING_FAILED, "conversation:5", booking_id=5, reason="expired")
    assert await hooks.deliverer.run_once() == 1
    [d] = await hooks.deliveries()
    assert (d.status, d.attempts, d.last_status) == ("pending", 1, 500)
    assert d.next_attempt_at == rig.clock() + dt.timedelta(seconds=5)
    assert await hooks.deliverer.run_once() == 0, "not before its time"
    rig.clock.advance(seconds=5)
    assert await hooks.deliverer.run_once() == 1
    [d] = await hooks.deliveries()
    assert (d.attempts, d.next_attempt_at) == (2, rig.clock() + dt.timedelta(seconds=300))
    rig.clock.advance(seconds=300)
    assert await hooks.deliverer.run_once() == 1
    [d] = await hooks.deliveries()
    assert (d.status, d.attempts) == ("delivered", 3)
    [got] = hooks.fake.got(hooks.name)
    assert got.data == {"booking_id": 5, "reason": "expired"}
    outcomes = {s.labels["outcome"]: s.value for m in rig.c.metrics.registry.collect() if m.name == "rebook_event_deliveries" for s in m.samples if s.name.endswith("_total")}
    assert outcomes == {"retry": 2.0, "delivered": 1.0}
    assert (await hooks.subscription())["enabled"] is True, "two failures do not open a circuit of three"


@pytest.mark.parametrize("settings_overrides", [{"webhooks": {"retry_schedule": "5,5", "jitter": 0, "circuit_failures": 50}}])
async def test_a_delivery_dies_when_the_schedule_is_spent_and_a_replay_brings_it_back(hooks: Hooks, rig: Rig) -> None:  # noqa: F811
    await hooks.subscribe(["passenger.erased"])
    hooks.fake.always(hooks.name, 503)
    await hooks.event(EventType.PASSENGER_ERASED, "passenger:8", passenger_id=8)
    for _ in range(3):
        assert await hooks.deliverer.run_once() == 1
        rig.clock.advance(seconds=6)
    [d] = await hooks.deliveries()
    assert (d.status, d.attempts) == ("dead", 3)
    assert await hooks.deliverer.run_once() == 0
    hooks.fake.always(hooks.name, None)
    r = await hooks.api.post(f"/v1/webhooks/{hooks.id}/replay", json={"event_ids": [f"evt_{d.event_id}"]})
    assert r.status_code == 202 and r.json() == {"replayed": 1, "first": f"evt_{d.event_id}"}
    assert await hooks.deliverer.drain() == 1
    [got] = hooks.fake.got(hooks.name)
    assert got.msg_id == f"evt_{d.event_id}", "a replay keeps the event's webhook-id: receivers stay idempotent"


async def test_failures_in_a_row_open_the_circuit_until_enabled(hooks: Hooks, rig: Rig) -> None:  # noqa: F811
    await hooks.subscribe(["option.chosen"])
    hooks.fake.always(hooks.name, 500)
    for n in range(4):
        await hooks.event(EventType.OPTION_CHOSEN, f"conversation:{100 + n}", booking_id=100 + n)
    assert await hooks.deliverer.run_once() == 4
    sub = await hooks.subscription()
    assert (sub["enabled"], sub["disabled_reason"]) == (False, "failing")
    rig.clock.advance(hours=30)
    assert await hooks.deliverer.run_once() == 0, "a disabled endpoint gets nothing"
    assert {d.status for d in await hooks.deliveries()} == {"pending"}, "nothing is lost while disabled"
    listed = (await hooks.api.get("/v1/webhooks", params={"limit": 200})).json()["items"]
    assert any(item["id"] == hooks.id and item["enabled"] is False for item in listed)
    hooks.fake.always(hooks.name, None)
    r = await hooks.api.post(f"/v1/webhooks/{hooks.id}/enable")
    assert r.status_code == 200 and r.json()["enabled"] is True
    assert await hooks.deliverer.drain() == 4
    assert sorted(x.data["booking_id"] for x in hooks.fake.got(hooks.name)) == [100, 101, 102, 103]


async def test_410_gone_disables_the_endpoint_at_once(hooks: Hooks) -> None:
    await hooks.subscribe(["offer.sent"])
    hooks.fake.fail_next(hooks.name, 1, 410)
    await hooks.event(EventType.OFFER_SENT, "conversation:7", booking_id=7)
    await hooks.event(EventType.OFFER_SENT, "conversation:8", booking_id=8)
    await hooks.deliverer.run_once()
    sub = await hooks.subscription()
    assert (sub["enabled"], sub["disabled_reason"]) == (False, "gone")


async def test_one_conversation_in_order_while_others_pass(hooks: Hooks, rig: Rig) -> None:  # noqa: F811
    await hooks.subscribe(["option.chosen", "booking.confirmed"])
    hooks.fake.fail_next(hooks.name, 1, 500, matching='"booking_id":20')
    await hooks.event(EventType.OPTION_CHOSEN, "conversation:20", booking_id=20)
    await hooks.event(EventType.BOOKING_CONFIRMED, "conversation:20", booking_id=20)
    await hooks.event(EventType.OPTION_CHOSEN, "conversation:21", booking_id=21)
    await hooks.deliverer.drain()
    assert [(r.type, r.data["booking_id"]) for r in hooks.fake.got(hooks.name)] == [("option.chosen", 21)]
    rig.clock.advance(seconds=5)
    await hooks.deliverer.drain()
    assert [(r.type, r.data["booking_id"]) for r in hooks.fake.got(hooks.name)] == [
        ("option.chosen", 21),
        ("option.chosen", 20),
        ("booking.confirmed", 20),
    ]


async def test_the_receiver_refuses_an_attempt_stamped_outside_its_tolerance(hooks: Hooks, rig: Rig) -> None:  # noqa: F811
    await hooks.subscribe(["disruption.settled"])
    await hooks.event(EventType.DISRUPTION_SETTLED, "disruption:1", disruption_id=1)
    skewed = Deliverer(rig.c.db, config=hooks.deliverer.config, clock=rig.clock, wall=lambda: time.time() - 600)
    try:
        assert await skewed.run_once() == 1
    finally:
        await skewed.aclose()
    assert hooks.fake.got(hooks.name) == [] and any(name == hooks.name and "old" in why for name, why in hooks.fake.rejected)
    [d] = await hooks.deliveries()
    assert (d.status, d.last_status) == ("pending", 401)
    rig.clock.advance(seconds=5)
    assert await hooks.deliverer.run_once() == 1
    assert [r.type for r in hooks.fake.got(hooks.name)] == ["disruption.settled"]


async def test_replay_by_time_range_queues_the_subscriptions_types_only(hooks: Hooks, rig: Rig) -> None:  # noqa: F811
    await hooks.subscribe(["booking.confirmed"])
    start = rig.clock()
    await hooks.event(EventType.BOOKING_CONFIRMED, "conversation:30", booking_id=30)
    await hooks.event(EventType.OFFER_SENT, "conversation:30", booking_id=30)
    rig.clock.advance(minutes=10)
    await hooks.event(EventType.BOOKING_CONFIRMED, "conversation:31", booking_id=31)
    await hooks.deliverer.drain()
    until = (start + dt.timedelta(minutes=5)).isoformat()
    r = await hooks.api.post(f"/v1/webhooks/{hooks.id}/replay", json={"since": start.isoformat(), "until": until})
    assert r.status_code == 202 and r.json()["replayed"] == 1
    await hooks.deliverer.drain()
    got = [x.data["booking_id"] for x in hooks.fake.got(hooks.name)]
    assert sorted(got[:2]) == [30, 31] and got[2:] == [30], "two keys go out concurrently; the replay comes after"


async def test_the_subscription_api(hooks: Hooks, api: httpx.AsyncClient) -> None:
    created = await hooks.subscribe(["booking.confirmed"], pii=True, description="PSS sync")
    assert created["secret"].startswith("whsec_") and created["pii"] is True and created["enabled"] is True
    shown = await hooks.subscription()
    assert "secret" not in shown and shown["url"] == hooks.url
    async with hooks.rig.c.db.reading() as s:
        raw = await s.scalar(text("SELECT secret FROM webhook_subscriptions WHERE id = :id"), {"id": hooks.id})
    assert raw is not None and raw.startswith("enc1:") and created["secret"] not in raw, "stored encrypted"
    refused = {
        "https://": 422,
        "http://pss.example.com/hook": 422,
        "ftp://pss.example.com/hook": 422,
        "https://user:pw@pss.example.com/hook": 422,
    }
    for url, code in refused.items():
        r = await api.post("/v1/webhooks", json={"url": url, "events": ["offer.sent"]})
        assert r.status_code == code and r.headers["content-type"] == "application/problem+json", url
    r = await api.post("/v1/webhooks", json={"url": "https://pss.example.com/hook", "events": ["offer.eaten"]})
    assert r.status_code == 422
    r = await api.post("/v1/webhooks", json={"url": "https://pss.example.com/hook", "events": []})
    assert r.status_code == 422
    r = await api.post(f"/v1/webhooks/{hooks.id}/replay", json={"until": "2031-01-01T00:00:00Z"})
    assert r.status_code == 422
    assert (await api.delete(f"/v1/webhooks/{hooks.id}")).status_code == 204
    assert (await api.delete(f"/v1/webhooks/{hooks.id}")).status_code == 404
    assert (await api.get(f"/v1/webhooks/{hooks.id}")).status_code == 404
    assert (await api.get("/v1/webhooks", headers={"Authorization": "Bearer nope"})).status_code == 401
