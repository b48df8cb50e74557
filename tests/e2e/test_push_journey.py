"""Push end to end: the app's backend registers devices, offers go out through the real APNs and FCM adapters
(against their fakes), taps come back on POST /v1/app/actions, opens on /v1/app/opened, and a push nobody
opens falls back to SMS on the dispatcher's own path."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from channels.apns import ApnsChannel
from channels.fcm import FcmChannel
from channels.push import PushChannel
from channels.sandbox import Sandbox, SandboxChannel
from consent.models import ConsentEvent
from conversations.models import Conversation, Delivery, OutboxMessage
from gateway.container import Container, build
from gateway.http.app import create_app
from gateway.migrate import upgrade_async
from gateway.worker.process import Worker
from rebooking_core.importer import import_bookings, import_schedule
from rebooking_core.models import ContactPoint, Flight, Passenger, Segment
from tests.e2e.page_browser import small_world
from tests.fakes.apns_api import KEY_ID, TEAM_ID, TOPIC, FakeApns, LocalApns, p8_key
from tests.fakes.fcm_api import PROJECT, FakeFcm, rsa_key, service_account
from tests.fakes.server import LocalServer
from tests.gateway.conftest import OPS_KEY, World, sandbox_settings

IPHONE = "ab" * 32
ANDROID = "fcmTok-" + "Zq9XkL2mPq7RvT4wYb8nHc3sDf6gJ1_" * 3
SILENT = "cd" * 32
FALLBACK_S = 300


class Clock:
    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@dataclass
class Journey:
    c: Container
    http: httpx.AsyncClient
    apple: FakeApns
    google: FakeFcm
    box: Sandbox
    clock: Clock
    people: dict[str, int]

    async def work(self) -> None:
        await self.c.jobs.wait_idle()
        await self.c.dispatcher.drain()

    def push_to(self, device: str) -> dict[str, str]:
        """What the app got in the last push to `device`: its options, page link and action token."""
        if device in (IPHONE, SILENT):
            return dict([r for r in self.apple.requests if r.device == device and r.answered == 200][-1].payload["rebook"])
        return dict([s for s in self.google.sends if s.token == device][-1].message["data"])

    async def conversation(self, who: str) -> Conversation:
        async with self.c.db.reading() as s:
            found = (await s.scalars(select(Conversation).where(Conversation.passenger_id == self.people[who]))).one()
            return found

    async def phone(self, who: str) -> str:
        async with self.c.db.reading() as s:
            found = await s.scalars(select(ContactPoint.address).where(ContactPoint.passenger_id == self.people[who], ContactPoint.channel == "sms"))
            return str(found.one())

    async def deliveries(self, who: str) -> list[Delivery]:
        conv = await self.conversation(who)
        async with self.c.db.reading() as s:
            return list(await s.scalars(select(Delivery).where(Delivery.conversation_id == conv.id).order_by(Delivery.id)))


@pytest.fixture(scope="module")
def world() -> World:
    return small_world()


async def _sms_passengers(c: Container, world: World, n: int) -> list[int]:
    """Booking contacts on the target flight reachable by SMS (the channel a push falls back to)."""
    carrier, number, date = world.target
    async with c.db.reading() as s:
        found = await s.scalars(
            select(Passenger.id)
            .join(Segment, Segment.booking_id == Passenger.booking_id)
            .join(Flight, Flight.id == Segment.flight_id)
            .join(ContactPoint, ContactPoint.passenger_id == Passenger.id)
            .where(Flight.carrier == carrier, Flight.number == number, Flight.service_date == date, ContactPoint.channel == "sms")
            .where(Passenger.is_contact.is_(True))
            .order_by(Passenger.id)
            .limit(n)
        )
        return list(found)


@pytest.fixture
async def journey(tmp_path: Path, world: World) -> AsyncIterator[Journey]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}"
    await upgrade_async(url)
    pem, key = p8_key()
    apple, google = FakeApns(public_key=key.public_key()), FakeFcm(rsa_key())
    clock, box = Clock(), Sandbox()
    with LocalApns(apple) as apns_server, LocalServer(google.app()) as fcm_server, tempfile.TemporaryDirectory() as tmp:
        account = service_account(Path(tmp), google.key, f"{fcm_server.url}/token")
        push = PushChannel(
            {
                "apns": ApnsChannel(
                    key_id=KEY_ID, team_id=TEAM_ID, private_key=pem, topic=TOPIC, api_base=apns_server.url, ca_file=str(apns_server.ca_file)
                ),
                "fcm": FcmChannel(credentials_file=str(account), project_id=PROJECT, api_base=fcm_server.url),
            }
        )
        settings = sandbox_settings(url, public_base_url="https://rebook.example.test", push={"fallback_after_s": FALLBACK_S})
        c = build(settings, clock=clock, channels={"push": push, "sms": SandboxChannel("sms", box)})
        await c.start()
        try:
            async with c.db.transaction() as s:
                await import_schedule(s, world.schedule)
            async with c.db.transaction() as s:
                await import_bookings(s, world.bookings)
            ios, android, silent = await _sms_passengers(c, world, 3)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(c)), base_url="https://rebook.example.test", headers={"Authorization": f"Bearer {OPS_KEY}"}
            ) as http:
                journey = Journey(c, http, apple, google, box, clock, {"ios": ios, "android": android, "silent": silent})
                for who, token, platform in (("ios", IPHONE, "ios"), ("android", ANDROID, "android"), ("silent", SILENT, "ios")):
                    body = {"platform": platform, "app_id": TOPIC, "locale": "de", "preferred": True}
                    answer = await http.put(f"/v1/passengers/{journey.people[who]}/devices/{token}", json=body)
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["registered"] == "created" and answer.json()["consent"] == "granted"
                carrier, number, date = world.target
                disrupted = await http.post(
                    "/v1/disruptions", json={"flight": {"carrier": carrier, "number": number, "date": date.isoformat()}, "kind": "cancelled"}
                )
                assert disrupted.status_code == 202
                await journey.work()
                yield journey
        finally:
            await c.aclose()


def _options(push: dict[str, str]) -> list[str]:
    return [o["id"] for o in json.loads(push["options"])]


async def act(j: Journey, token: str, option: str) -> httpx.Response:
    return await j.http.post("/v1/app/actions", json={"action_token": token, "option": option}, headers={"Authorization": ""})


async def test_offers_go_to_each_device_through_its_service_in_its_language(journey: Journey) -> None:
    ios, android = journey.push_to(IPHONE), journey.push_to(ANDROID)
    assert _options(ios) and _options(android)
    sent = [r for r in journey.apple.requests if r.device == IPHONE][-1]
    assert sent.headers["apns-collapse-id"].startswith("conversation-")
    assert "Flug" in sent.payload["aps"]["alert"]["body"], "the device's locale became the passenger's language"
    assert [s.token for s in journey.google.sends] == [ANDROID]
    for who in journey.people:
        assert not journey.box.inbox("sms", await journey.phone(who)), "an app user does not get the offer by SMS as well"
    [delivery] = await journey.deliveries("ios")
    assert (delivery.channel, delivery.provider, delivery.status) == ("push", "apns", "sent")
    [delivery] = await journey.deliveries("android")
    assert (delivery.channel, delivery.provider) == ("push", "fcm")
    async with journey.c.db.reading() as s:
        event = (await s.scalars(select(ConsentEvent).where(ConsentEvent.passenger_id == journey.people["ios"], ConsentEvent.channel == "push"))).one()
    assert (event.source, event.state, event.legal_basis) == ("app", "granted", "consent")


async def test_a_tap_books_once_and_its_token_is_single_use(journey: Journey) -> None:
    # The iPhone user whose offer holds several options, so the second attempt can name another valid one.
    who, device = max((("ios", IPHONE), ("silent", SILENT)), key=lambda d: len(_options(journey.push_to(d[1]))))
    push = journey.push_to(device)
    first, second = _options(push)[:2]
    assert first != second
    booked = await act(journey, push["action_token"], first)
    assert booked.status_code == 200, booked.text
    assert booked.json()["status"] == "booked"
    replayed = await act(journey, push["action_token"], first)
    other = await act(journey, push["action_token"], second)
    assert (replayed.status_code, other.status_code) == (409, 409), "spent: another of its own options is refused too"
    assert replayed.headers["content-type"] == other.headers["content-type"] == "application/problem+json"
    conv = await journey.conversation(who)
    assert conv.status == "booked" and conv.booked_option_id == int(first.rsplit(":", 1)[1])
    assert [d.status for d in await journey.deliveries(who)][0] == "read", "an action is an open"
    await journey.work()
    confirmations = [r for r in journey.apple.requests if r.device == device and r.answered == 200]
    assert len(confirmations) == 2, "one offer, one confirmation: the replays booked nothing"
    assert (await journey.conversation(who)).booked_option_id == int(first.rsplit(":", 1)[1]), "the second option was not booked"


async def test_a_token_cannot_choose_another_passengers_option(journey: Journey) -> None:
    mine, theirs = journey.push_to(IPHONE), journey.push_to(ANDROID)
    refused = await act(journey, mine["action_token"], _options(theirs)[0])
    assert refused.status_code == 403
    assert (await journey.conversation("android")).status == "offered"
    still = await act(journey, mine["action_token"], _options(mine)[0])
    assert still.status_code == 200, "a refused attempt does not spend the token"


async def test_an_expired_or_forged_token_is_refused(journey: Journey) -> None:
    push = journey.push_to(ANDROID)
    forged = push["action_token"][:-1] + ("0" if push["action_token"][-1] != "0" else "1")
    assert (await act(journey, forged, _options(push)[0])).status_code == 401
    assert (await act(journey, "v1.1.2.3.4.nope", _options(push)[0])).status_code == 401
    journey.clock.offset = dt.timedelta(hours=2)  # past the 40-minute hold the token was minted for
    expired = await act(journey, push["action_token"], _options(push)[0])
    assert expired.status_code == 410
    assert (await journey.conversation("android")).status == "offered"


async def test_an_open_marks_the_push_read_and_counts_on_metrics(journey: Journey) -> None:
    push = journey.push_to(ANDROID)
    for _ in range(2):
        opened = await journey.http.post("/v1/app/opened", json={"action_token": push["action_token"]})
        assert opened.status_code == 204
    assert [d.status for d in await journey.deliveries("android")] == ["read"]
    assert (await journey.http.post("/v1/app/opened", json={"action_token": "forged"})).status_code == 401
    await journey.c.metrics.refresh(journey.c.db, now=journey.clock())
    metrics = journey.c.metrics.render().decode()
    assert 'rebook_receipts_total{channel="push",provider="fcm",state="read"} 1.0' in metrics
    assert 'rebook_open_ratio{channel="push"} 0.3333333333333333' in metrics, "one of three pushes opened"


async def test_a_push_nobody_opens_falls_back_to_sms(journey: Journey) -> None:
    opened = journey.push_to(ANDROID)
    await journey.http.post("/v1/app/opened", json={"action_token": opened["action_token"]})
    worker = Worker(journey.c)
    journey.clock.offset = dt.timedelta(seconds=FALLBACK_S - 30)
    assert await worker.unseen_pushes() == 0
    journey.clock.offset = dt.timedelta(seconds=FALLBACK_S + 1)
    assert await worker.unseen_pushes() == 2, "the two unopened pushes (iPhone, silent), not the opened one"
    await journey.work()
    [sms] = journey.box.inbox("sms", await journey.phone("silent"))
    assert "1)" in sms.text, "the same offer, as an SMS menu"
    assert not journey.box.inbox("sms", await journey.phone("android"))
    assert [(d.channel, d.status, d.error_code) for d in await journey.deliveries("silent")] == [
        ("push", "failed", "not_acted_on"),
        ("sms", "sent", None),
    ]
    async with journey.c.db.reading() as s:
        conv = await journey.conversation("silent")
        row = (await s.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == conv.id))).first()
    assert row is not None and (row.status, row.channel, row.tried_channels) == ("sent", "sms", ["push"])
    assert await worker.unseen_pushes() == 0, "a message falls back once"
    sms_reply: Any = await act(journey, journey.push_to(SILENT)["action_token"], _options(journey.push_to(SILENT))[0])
    assert sms_reply.status_code == 200, "the push is still answerable after the fallback"
