"""Crash safety: real worker processes on PostgreSQL + Redis are SIGKILLed mid fan-out and mid bookings.

Two `rebook worker` processes and a `rebook serve --no-worker` gateway run as subprocesses against
a fresh database, a Redis db of their own and the provider fakes served here. A disruption of
several cancelled flights hits ~2,000 passengers; one worker is killed while the first offers go
out, a replacement starts; passengers answer through signed webhooks (SMS "1", WhatsApp "see my
options" then the first option); another worker is killed while confirmations go out and is
replaced. The fakes then show what the providers received: one first offer per consented
conversation, no key twice beyond what the idempotency key collapses, no seat oversold, every
conversation settled.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from consent.models import ConsentState
from conversations.intake.ports import DisruptionRequest, FlightKey, Step
from conversations.intake.workflow import record_disruption
from conversations.models import Conversation, OutboxMessage
from gateway.migrate import upgrade_async
from gateway.settings import WhatsAppSettings
from gateway.worker.jobs import Jobs, make_broker
from infra import crypto
from infra.db import Database
from rebooking_core.generate import Dataset, generate
from rebooking_core.importer import import_bookings, import_schedule
from rebooking_core.models import (
    ContactPoint,
    Disruption,
    Inventory,
    Offer,
    OfferOption,
    Passenger,
    SeatHold,
    Segment,
)
from rebooking_core.records import SEAT_TAKING_STATUSES, BookingRecord
from rebooking_core.types import DisruptionKind
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

REDIS_URL = os.environ.get("REBOOK_TEST_CRASH_REDIS_URL", "redis://127.0.0.1:6379/10")
ROOT = Path(__file__).resolve().parents[2]
APP_SECRET = "wa-app-secret-crash"
OPS_KEY = "ops-key-crash-0123456789-abcdefghijklmnopqrstuvwxyz"
PII_SECRET = "test-pii-key-0123456789-abcdefghijklmnopqrstuvwxyz"
BLIND_SECRET = "test-blind-key-0123456789-abcdefghijklmnopqrstuvwxyz"
TWILIO_FROM = "+15550001111"
TARGET_PASSENGERS = 2_000
SMS_TOKEN_HEADER = "i-twilio-idempotency-token"
WAIT = 150.0  # seconds any one phase may take before the test gives up


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- the dataset ----


def _unique_numbers(bookings: list[BookingRecord]) -> list[BookingRecord]:
    """One number per passenger (the generator reuses fictional ranges), so a reply names one conversation."""
    out = []
    n = 0
    for booking in bookings:
        passengers = []
        for pax in booking.passengers:
            n += 1
            number = f"+4915{n:08d}"
            contacts = [
                c.model_copy(update={"address": number}) if c.channel in ("sms", "whatsapp") else c for c in pax.contacts
            ]
            passengers.append(pax.model_copy(update={"contacts": contacts}))
        out.append(booking.model_copy(update={"passengers": passengers}))
    return out


def _flights_to_cancel(data: Dataset, day: dt.date) -> list[FlightKey]:
    """The busiest flights of `day` until the bookings on them hold about TARGET_PASSENGERS people."""
    on_flight: dict[FlightKey, set[int]] = collections.defaultdict(set)
    for i, booking in enumerate(data.bookings):
        for seg in booking.segments:
            if seg.date == day:
                on_flight[FlightKey(seg.carrier, seg.number, seg.date)].add(i)
    size = {i: len(b.passengers) for i, b in enumerate(data.bookings)}
    chosen: list[FlightKey] = []
    hit: set[int] = set()
    for key in sorted(on_flight, key=lambda k: (-sum(size[i] for i in on_flight[k]), k.number)):
        if sum(size[i] for i in hit) >= TARGET_PASSENGERS:
            break
        chosen.append(key)
        hit |= on_flight[key]
    return chosen


# ---- the processes ----


@dataclass
class Fleet:
    """The gateway and worker subprocesses; workers are killed with SIGKILL, nothing else is."""

    env: dict[str, str]
    logs: Path
    gateway_port: int
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    gateway: subprocess.Popen[bytes] | None = None
    killed: list[int] = field(default_factory=list)

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "gateway.cli.main", *args],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_worker(self) -> subprocess.Popen[bytes]:
        proc = self._spawn(f"worker-{len(self.workers) + 1}", "worker")
        self.workers.append(proc)
        return proc

    def start_gateway(self) -> None:
        self.gateway = self._spawn("gateway", "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(self.gateway_port))

    def sigkill(self, proc: subprocess.Popen[bytes]) -> None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        self.killed.append(proc.pid)

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.workers if p.poll() is None]

    def stop(self) -> None:
        for proc in [*self.workers, *([self.gateway] if self.gateway else [])]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, *([self.gateway] if self.gateway else [])]:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def tails(self) -> str:
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            parts.append(f"--- {path.name} ---\n" + "\n".join(lines[-15:]))
        return "\n".join(parts)


# ---- what the providers received ----


@dataclass(frozen=True)
class Received:
    channel: str
    key: str
    to: str
    body: dict[str, Any]


def received(graph: FakeGraphAPI, twilio: FakeTwilio) -> list[Received]:
    out = [
        Received("whatsapp", str(b.get("biz_opaque_callback_data", "")), "+" + str(b["to"]).lstrip("+"), b)
        for b in list(graph.bodies)
    ]
    out += [Received("sms", r.headers.get(SMS_TOKEN_HEADER, ""), r.form["To"], dict(r.form)) for r in list(twilio.requests)]
    return out


# ---- the test rig ----


@dataclass
class Rig:
    db: Database
    fleet: Fleet
    graph: FakeGraphAPI
    twilio: FakeTwilio
    http: httpx.AsyncClient
    public: str
    disruption_id: int = 0
    notes: dict[str, Any] = field(default_factory=dict)
    #: (provider requests received, outbox rows being sent) at each SIGKILL.
    #: Per kill: how often each message key had reached a provider by then, and the rows still being sent.
    kills: list[tuple[collections.Counter[str], int]] = field(default_factory=list)

    async def scalar(self, query: Any) -> int:
        async with self.db.reading() as s:
            return int(await s.scalar(query) or 0)

    async def outbox(self) -> list[OutboxMessage]:
        async with self.db.reading() as s:
            return list((await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())

    async def until(self, what: str, check: Callable[[], Awaitable[bool]], *, within: float = WAIT) -> None:
        deadline = time.monotonic() + within
        while not await check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {await self.census()}\n{self.fleet.tails()}")
            for proc in self.fleet.alive():
                assert proc.poll() is None
            await asyncio.sleep(0.1)

    async def census(self) -> dict[str, int]:
        """Outbox rows by kind and status, conversations by state: what a timeout message shows."""
        async with self.db.reading() as s:
            rows = await s.execute(select(OutboxMessage.key, OutboxMessage.status, func.count()).group_by(OutboxMessage.key, OutboxMessage.status))
            out = {f"outbox {key}/{status}": int(n) for key, status, n in rows.all()}
            convs = await s.execute(select(Conversation.status, func.count()).group_by(Conversation.status))
            out |= {f"conversations {status}": int(n) for status, n in convs.all()}
        return out

    async def settled(self) -> bool:
        """Nothing left to send, nobody pending or mid-booking."""
        unsent = await self.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"]))
        )
        unsettled = await self.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.status.in_(["pending", "confirming"]))
        )
        return unsent == 0 and unsettled == 0

    async def sms(self, to_number: str, sid: str, body: str) -> None:
        form = {"MessageSid": sid, "AccountSid": self.twilio.account_sid, "From": to_number, "To": TWILIO_FROM, "Body": body}
        signature = RequestValidator(self.twilio.auth_token).compute_signature(f"{self.public}/webhooks/twilio/sms", form)
        r = await self.http.post("/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
        assert r.status_code == 200, r.text

    async def whatsapp(self, number: str, message: dict[str, Any]) -> None:
        wa_id = number.lstrip("+")
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": self.graph.phone_number_id},
            "contacts": [{"profile": {"name": "P"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "timestamp": str(int(time.time())), **message}],
        }
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}
        raw = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        r = await self.http.post(
            "/webhooks/whatsapp", content=raw, headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
        )
        assert r.status_code == 200, r.text


async def _gather_limited(calls: Sequence[Awaitable[None]], limit: int = 16) -> None:
    """Answer like a crowd of passengers: many at once, not all at once."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[None]) -> None:
        async with gate:
            await call

    await asyncio.gather(*(one(c) for c in calls))


def _quick_reply(body: dict[str, Any]) -> str:
    for component in body["template"]["components"]:
        if component.get("type") == "button":
            return str(component["parameters"][0]["payload"])
    raise AssertionError("template without a quick reply")


def _first_option(body: dict[str, Any]) -> tuple[str, str]:
    interactive = body["interactive"]
    action = interactive["action"]
    if interactive["type"] == "button":
        return "button_reply", str(action["buttons"][0]["reply"]["id"])
    return "list_reply", str(action["sections"][0]["rows"][0]["id"])


@pytest.fixture
def fakes() -> Iterator[tuple[FakeGraphAPI, FakeTwilio, str, str]]:
    # Meta approved the notice (4 parameters) and the broadcast (2) in every language rebook maps a locale to by default.
    templates = WhatsAppSettings().templates
    graph = FakeGraphAPI(
        templates={
            (t.name, t.language): params
            for key, params in (("disruption_notice", 4), ("broadcast_notice", 2))
            for t in templates[key].values()
        }
    )
    twilio = FakeTwilio()
    with LocalServer(graph.app()) as g, LocalServer(twilio.app) as t:
        yield graph, twilio, g.url, t.url


@pytest.fixture
async def rig(fresh_pg_url: str, tmp_path: Path, fakes: tuple[FakeGraphAPI, FakeTwilio, str, str]) -> AsyncIterator[Rig]:
    graph, twilio, graph_url, twilio_url = fakes
    client = aioredis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    await upgrade_async(fresh_pg_url)
    port = _free_port()
    public = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REBOOK_")},
        "REBOOK_DATABASE_URL": fresh_pg_url,
        "REBOOK_REDIS_URL": REDIS_URL,
        "REBOOK_OPS_API_KEYS": OPS_KEY,
        "REBOOK_PUBLIC_BASE_URL": public,
        "REBOOK_PII_KEYS": f"k1:{PII_SECRET}",
        "REBOOK_BLIND_INDEX_KEY": BLIND_SECRET,
        "REBOOK_TWILIO__ACCOUNT_SID": twilio.account_sid,
        "REBOOK_TWILIO__AUTH_TOKEN": twilio.auth_token,
        "REBOOK_TWILIO__FROM_NUMBER": TWILIO_FROM,
        "REBOOK_TWILIO__API_BASE": twilio_url,
        "REBOOK_WHATSAPP__PHONE_NUMBER_ID": graph.phone_number_id,
        "REBOOK_WHATSAPP__TOKEN": graph.token,
        "REBOOK_WHATSAPP__APP_SECRET": APP_SECRET,
        "REBOOK_WHATSAPP__VERIFY_TOKEN": "verify-me",
        "REBOOK_WHATSAPP__API_BASE": graph_url,
        "REBOOK_WORKER_METRICS_PORT": "0",
        # The test polls /v1 as fast as it can: the ops rate limit (1,200 a minute) is not what it checks.
        "REBOOK_RATE_LIMIT__PER_KEY_PER_MINUTE": "0",
        "REBOOK_RATE_LIMIT__PER_IP_PER_MINUTE": "0",
        "REBOOK_DB_POOL_SIZE": "5",
        "REBOOK_BATCH_SIZE": "50",
        # Paced like a production sender (WhatsApp's default 80/s, SMS as a short code), so
        # the fan-out lasts long enough to be interrupted.
        "REBOOK_PACING__SMS__RATE": "60",
        # Recovery timeouts shortened from minutes to seconds so the test sees them fire.
        "REBOOK_JOB_IDLE_TIMEOUT_S": "8",
        "REBOOK_OUTBOX_CLAIM_TTL_S": "10",
        "REBOOK_RECOVER_STALL_S": "6",
        "PYTHONUNBUFFERED": "1",
    }
    fleet = Fleet(env=env, logs=tmp_path, gateway_port=port)
    db = Database(fresh_pg_url, pool_size=5)
    previous = crypto.keyring()  # this process imports what the workers decrypt: the same keys
    crypto.configure(crypto.Keyring.from_secrets([("k1", PII_SECRET)], BLIND_SECRET))
    try:
        async with httpx.AsyncClient(base_url=public, timeout=30) as http:
            yield Rig(db=db, fleet=fleet, graph=graph, twilio=twilio, http=http, public=public)
    finally:
        fleet.stop()
        await db.dispose()
        crypto.configure(previous)


async def _kick(disruption_id: int) -> None:
    """What `POST /v1/disruptions` does after recording: queue the assess job on the Redis stream."""

    async def unused_assess(_: int) -> list[list[int]]:
        raise AssertionError("the test process only kicks jobs")

    async def unused_offer(_: int) -> Step:
        raise AssertionError("the test process only kicks jobs")

    broker = make_broker(REDIS_URL)
    jobs = Jobs(broker, assess=unused_assess, offer_next=unused_offer)
    await broker.startup()
    try:
        await jobs.disruption_recorded(disruption_id)
    finally:
        await broker.shutdown()


async def test_workers_killed_mid_fanout_and_mid_bookings_lose_and_duplicate_nothing(rig: Rig) -> None:
    started = time.monotonic()
    day = dt.date.today() + dt.timedelta(days=1)
    data = generate(seed=21, start=day, days=2, passengers=8_000)
    data = dataclasses.replace(data, bookings=_unique_numbers(data.bookings))
    async with rig.db.transaction() as s:
        await import_schedule(s, data.schedule)
    async with rig.db.transaction() as s:
        await import_bookings(s, data.bookings)
    cancelled = _flights_to_cancel(data, day)

    rig.fleet.start_gateway()
    first, _second = rig.fleet.start_worker(), rig.fleet.start_worker()

    async def gateway_up() -> bool:
        try:
            return (await rig.http.get("/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    await rig.until("the gateway to answer", gateway_up, within=60)

    recorded = await record_disruption(
        rig.db,
        DisruptionRequest(flights=tuple(cancelled), kind=DisruptionKind.CANCELLED, reason="TECH", idempotency_key="crash-1"),
        clock=lambda: dt.datetime.now(dt.UTC),
    )
    rig.disruption_id = recorded.disruption_id
    await _kick(rig.disruption_id)

    # ---- phase 1: kill a worker while the first offers go out ----
    async def assessed() -> bool:
        return await rig.scalar(select(func.count()).select_from(Conversation)) > 0

    await rig.until("the impact assessment", assessed)
    conversations = await rig.scalar(select(func.count()).select_from(Conversation))

    async def offers_flowing() -> bool:
        return len(received(rig.graph, rig.twilio)) >= conversations // 4

    await rig.until("the first quarter of the offers", offers_flowing)
    async with rig.db.reading() as s:
        disruption = await s.get(Disruption, rig.disruption_id)
        assert disruption is not None
        batches = (disruption.batches_done, disruption.batches_total)
    at_fakes = len(received(rig.graph, rig.twilio))
    rig.fleet.sigkill(first)
    in_flight = await _claimed_at_kill(rig)
    rig.notes["kill_1"] = {"messages_at_fakes": at_fakes, "outbox_sending": in_flight, "batches_done_of_total": batches}
    rig.fleet.start_worker()
    await rig.until("the fan-out to finish after the crash", rig.settled)
    assert at_fakes < conversations, "the kill came after the fan-out: it proved nothing"

    offers_by_conv = await _first_offer_rows(rig)
    phase1 = received(rig.graph, rig.twilio)
    rig.notes["fanout_messages_at_fakes"] = len(phase1)

    # ---- phase 1b: ops broadcast to every cancelled flight; kill a worker while it goes out ----
    broadcast_ids = await _broadcast(rig, cancelled)
    targeted = await rig.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.broadcast_id.is_not(None)))

    async def broadcast_flowing() -> bool:
        return await _broadcast_sent(rig) >= targeted // 4

    await rig.until("the first quarter of the broadcast", broadcast_flowing)
    broadcast_at_kill = await _broadcast_sent(rig)
    rig.fleet.sigkill(rig.fleet.alive()[0])
    await _claimed_at_kill(rig)
    rig.notes["kill_broadcast"] = {"broadcast_sent": broadcast_at_kill, "of": targeted}
    rig.fleet.start_worker()
    await rig.until("the broadcast to finish after the crash", lambda: _broadcasts_finished(rig, broadcast_ids))
    assert broadcast_at_kill < targeted, "the kill came after the broadcast: it proved nothing"
    await _assert_broadcast(rig, broadcast_ids)
    phase1 = received(rig.graph, rig.twilio)

    # ---- phase 2: passengers answer; kill a worker while confirmations go out ----
    sms_convs = sorted(c for c, row in offers_by_conv.items() if row.channel == "sms")[::2]
    wa_convs = sorted(c for c, row in offers_by_conv.items() if row.channel == "whatsapp")[::2]
    address = {r.key: r for r in phase1}
    sms_calls = [rig.sms(address[offers_by_conv[c].idempotency_key].to, f"SM{c:032x}", "1") for c in sms_convs]
    more_calls = []
    for c in wa_convs:
        template = address[offers_by_conv[c].idempotency_key]
        button = {"payload": _quick_reply(template.body), "text": "x"}
        more_calls.append(rig.whatsapp(template.to, {"id": f"wamid.more-{c}", "type": "button", "button": button}))
    chosen = len(sms_calls) + len(more_calls)
    await _gather_limited(more_calls)
    answer_task = asyncio.ensure_future(_gather_limited(sms_calls))

    wa_to = {address[offers_by_conv[c].idempotency_key].to: c for c in wa_convs}

    async def options_arrived() -> bool:
        got = {r.to for r in received(rig.graph, rig.twilio) if r.channel == "whatsapp" and r.body.get("type") == "interactive"}
        return set(wa_to) <= got

    await rig.until("the WhatsApp options after 'see my options'", options_arrived)
    interactive = {
        r.to: r.body for r in received(rig.graph, rig.twilio) if r.channel == "whatsapp" and r.body.get("type") == "interactive"
    }
    tap_calls = []
    for to, c in wa_to.items():
        kind, option = _first_option(interactive[to])
        reply = {"type": kind, kind: {"id": option, "title": "1"}}
        tap_calls.append(rig.whatsapp(to, {"id": f"wamid.tap-{c}", "type": "interactive", "interactive": reply}))
    tap_task = asyncio.ensure_future(_gather_limited(tap_calls))

    async def confirmations_flowing() -> bool:
        sent = await rig.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.key == "booked", OutboxMessage.status == "sent")
        )
        return sent >= chosen // 4

    await rig.until("the first quarter of the confirmations", confirmations_flowing)
    victim = rig.fleet.alive()[0]
    confirmations_sent = await rig.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.key == "booked", OutboxMessage.status == "sent")
    )
    rig.fleet.sigkill(victim)
    await _claimed_at_kill(rig)
    rig.notes["kill_2"] = {"confirmations_sent": confirmations_sent, "of": chosen}
    rig.fleet.start_worker()
    await asyncio.gather(answer_task, tap_task)
    await rig.until("every answer booked and confirmed after the crash", rig.settled)
    assert confirmations_sent < chosen, "the kill came after the confirmations: it proved nothing"

    await _assert_outcome(rig, offers_by_conv, set(sms_convs) | set(wa_convs), set(wa_convs))
    rig.notes["conversations"] = conversations
    rig.notes["chosen"] = chosen
    rig.notes["seconds"] = round(time.monotonic() - started, 1)
    print("crash-safety:", json.dumps(rig.notes, sort_keys=True))


async def _broadcast(rig: Rig, flights: list[FlightKey]) -> list[int]:
    """One ops broadcast per cancelled flight, through the API as ops would send it."""
    ids = []
    headers = {"Authorization": f"Bearer {OPS_KEY}"}
    for key in flights:
        target = f"{key.carrier}{key.number}/{key.date.isoformat()}"
        body = {"target": target, "message": "Rebooking desks are open at gate B12.", "idempotency_key": f"crash-{target}"}
        r = await rig.http.post("/v1/broadcasts", json=body, headers=headers)
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    return ids


async def _broadcast_sent(rig: Rig) -> int:
    return await rig.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.broadcast_id.is_not(None), OutboxMessage.status == "sent")
    )


async def _broadcasts_finished(rig: Rig, ids: list[int]) -> bool:
    headers = {"Authorization": f"Bearer {OPS_KEY}"}
    states = [(await rig.http.get(f"/v1/broadcasts/{i}", headers=headers)).json()["finished"] for i in ids]
    return all(states)


async def _assert_broadcast(rig: Rig, ids: list[int]) -> None:
    """Counts add up, only consented passengers were messaged, and each of them once (bar the kill's in-flight resends)."""
    headers = {"Authorization": f"Bearer {OPS_KEY}"}
    counts = [(await rig.http.get(f"/v1/broadcasts/{i}", headers=headers)).json() for i in ids]
    for c in counts:
        assert c["pending"] == 0 and c["sent"] + c["skipped_consent"] + c["failed"] == c["targeted"], c
    rows = [r for r in await rig.outbox() if r.broadcast_id is not None]
    sent = {r.idempotency_key: r for r in rows if r.status == "sent"}
    assert len(sent) == sum(c["sent"] for c in counts) > 0, "the API's counts are the outbox rows'"
    got = [r for r in received(rig.graph, rig.twilio) if r.key in sent]
    assert {r.key for r in got} == set(sent), "every broadcast row counted sent reached a provider"
    per_passenger = collections.Counter((sent[k].broadcast_id, sent[k].passenger_id) for k in {r.key for r in got})
    assert max(per_passenger.values()) == 1, "a passenger got one broadcast twice under two keys"
    async with rig.db.reading() as s:
        granted = set(
            (
                await s.execute(
                    select(ConsentState.passenger_id, ConsentState.channel).where(
                        ConsentState.purpose == "service", ConsentState.state == "granted"
                    )
                )
            ).all()
        )
    assert all((sent[k].passenger_id, sent[k].channel) in granted for k in sent), "a broadcast went without consent"
    rig.notes["broadcast"] = {
        "targeted": sum(c["targeted"] for c in counts),
        "sent": len(sent),
        "skipped_consent": sum(c["skipped_consent"] for c in counts),
    }


async def _claimed_at_kill(rig: Rig) -> int:
    """Right after a SIGKILL: rows still being sent (the dead worker's claims among them), noted with the requests so far."""
    sending = await rig.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sending"))
    rig.kills.append((collections.Counter(r.key for r in received(rig.graph, rig.twilio)), sending))
    return sending


def _resends_per_kill(got: list[Received], kills: list[collections.Counter[str]]) -> list[int]:
    """Second copies of a message, by the kill they followed: what repeated between one kill's snapshot and the next.

    By key counts, not by position: the fakes' lists are per channel, so a position says nothing of time.
    """
    def repeats(seen: collections.Counter[str]) -> int:
        return sum(n - 1 for n in seen.values())

    snapshots = [*kills, collections.Counter(r.key for r in got)]
    return [repeats(snapshots[k + 1]) - repeats(snapshots[k]) for k in range(len(kills))]


async def _first_offer_rows(rig: Rig) -> dict[int, OutboxMessage]:
    """After the fan-out, before any answer: exactly one offer row per offered conversation."""
    rows = [r for r in await rig.outbox() if r.key == "offer"]
    per_conv = collections.Counter(r.conversation_id for r in rows)
    assert max(per_conv.values()) == 1, "a conversation was offered twice by the fan-out"
    async with rig.db.reading() as s:
        offered = set((await s.scalars(select(Conversation.id).where(Conversation.offer_id.is_not(None)))).all())
    assert set(per_conv) == offered
    return {r.conversation_id: r for r in rows}


async def _consented_conversations(rig: Rig) -> set[int]:
    """Conversations whose contact passenger agreed to service messages on a channel we can send on."""
    async with rig.db.reading() as s:
        rows = await s.execute(
            select(Conversation.id)
            .join(ConsentState, ConsentState.passenger_id == Conversation.passenger_id)
            .join(
                ContactPoint,
                (ContactPoint.passenger_id == Conversation.passenger_id) & (ContactPoint.channel == ConsentState.channel),
            )
            .where(
                ConsentState.purpose == "service",
                ConsentState.state == "granted",
                ConsentState.channel.in_(["sms", "whatsapp"]),
            )
        )
        return set(rows.scalars())


async def _assert_outcome(rig: Rig, first_offers: dict[int, OutboxMessage], chosen: set[int], asked_more: set[int]) -> None:
    got = received(rig.graph, rig.twilio)
    outbox = {r.idempotency_key: r for r in await rig.outbox()}

    # Every provider request carries the key of one outbox row; a key seen twice is the same message.
    assert all(r.key in outbox for r in got), "a provider received a message the outbox never queued"
    seen = collections.Counter(r.key for r in got)
    first_seen = {r.key: (r.channel, r.to) for r in got}
    moved = [(r.key, r.channel, first_seen[r.key][0], outbox[r.key].broadcast_id) for r in got if (r.channel, r.to) != first_seen[r.key]]
    assert not moved, f"a message went to two addresses under one key: {moved[:5]}"
    duplicates = sum(n - 1 for n in seen.values())
    rig.notes["provider_requests"] = len(got)
    rig.notes["distinct_messages"] = len(seen)
    rig.notes["repeats_collapsed_by_idempotency_key"] = duplicates
    # A resend is a duplicate on a passenger's phone (no provider deduplicates a send): after each
    # kill at most what the killed worker had claimed and not yet recorded may go out again.
    resends = _resends_per_kill(got, [seen for seen, _ in rig.kills])
    rig.notes["resends_per_kill"] = [{"resent": n, "outbox_sending_at_kill": s} for n, (_, s) in zip(resends, rig.kills, strict=True)]
    assert sum(resends) == duplicates
    for n, (_, claimed) in zip(resends, rig.kills, strict=True):
        assert n <= claimed, f"{n} messages went out again after a kill that had {claimed} in flight"
    sent = {k for k, row in outbox.items() if row.status == "sent"}
    assert sent == set(seen), "sent rows and what reached the providers differ"
    assert all(row.status in ("sent", "failed") for row in outbox.values()), "a message was left unsent or dead"

    # Every consented conversation got exactly one first offer; the others got nothing at all.
    consented = await _consented_conversations(rig)
    offers_seen: dict[int, set[str]] = collections.defaultdict(set)
    any_seen: set[int] = set()
    for key in seen:
        row = outbox[key]
        any_seen.add(row.conversation_id)
        if row.key == "offer":
            offers_seen[row.conversation_id].add(key)
    assert first_offers, "nobody was offered anything"
    for conv_id, row in first_offers.items():
        if conv_id in consented:
            expected = 2 if conv_id in asked_more else 1  # "see my options" resends the offer, by request
            assert row.idempotency_key in offers_seen[conv_id], f"conversation {conv_id} never got its offer"
            assert len(offers_seen[conv_id]) == expected, f"conversation {conv_id}: {len(offers_seen[conv_id])} offers"
        else:
            assert conv_id not in any_seen, f"conversation {conv_id} has no consent but was messaged"
    rig.notes["consented_offered"] = len(set(first_offers) & consented)
    rig.notes["unconsented_offered"] = len(set(first_offers) - consented)

    # Conversations settled; every choice booked exactly once and confirmed exactly once.
    async with rig.db.reading() as s:
        convs = {c.id: c for c in (await s.scalars(select(Conversation))).all()}
        offers = {o.id: o for o in (await s.scalars(select(Offer))).all()}
        options = {o.id: o for o in (await s.scalars(select(OfferOption))).all()}
        segments = list((await s.scalars(select(Segment))).all())
        party = dict((await s.execute(select(Passenger.booking_id, func.count()).group_by(Passenger.booking_id))).all())
        inventory = list((await s.scalars(select(Inventory))).all())
        holds = list((await s.execute(select(SeatHold.flight_id, SeatHold.cabin, SeatHold.seats, SeatHold.status))).all())
    states = collections.Counter(c.status for c in convs.values())
    rig.notes["conversation_states"] = dict(states)
    assert not states.keys() & {"pending", "confirming"}
    assert {c.id for c in convs.values() if c.status == "booked"} == chosen & consented
    accepted = collections.Counter(o.booking_id for o in offers.values() if o.status == "accepted")
    confirmations = collections.Counter(row.conversation_id for row in outbox.values() if row.key == "booked")
    for conv_id in chosen & consented:
        conv = convs[conv_id]
        offer = offers[conv.offer_id or 0]
        assert offer.status == "accepted" and offer.accepted_option_id == conv.booked_option_id
        assert accepted[conv.booking_id] == 1, f"booking {conv.booking_id} accepted {accepted[conv.booking_id]} offers"
        option = options[offer.accepted_option_id or 0]
        legs = collections.Counter(
            seg.flight_id for seg in segments if seg.booking_id == conv.booking_id and seg.status in SEAT_TAKING_STATUSES
        )
        assert all(legs[f] == 1 for f in option.flight_ids), f"booking {conv.booking_id} holds a new leg twice"
        assert confirmations[conv_id] == 1 and outbox[_key_of(outbox, conv_id, "booked")].status == "sent"
    assert set(accepted) == {convs[c].booking_id for c in chosen & consented}

    # No seat oversold, and the counters match the bookings and holds behind them.
    sold: collections.Counter[tuple[int, str]] = collections.Counter()
    for seg in segments:
        if seg.status in SEAT_TAKING_STATUSES:
            sold[(seg.flight_id, seg.cabin)] += party[seg.booking_id]
    held: collections.Counter[tuple[int, str]] = collections.Counter()
    for flight_id, cabin, seats, status in holds:
        if status == "held":
            held[(flight_id, cabin)] += seats
    for inv in inventory:
        assert inv.sold + inv.held <= inv.capacity
        assert inv.sold == sold[(inv.flight_id, inv.cabin)], f"flight {inv.flight_id}/{inv.cabin}: counter != segments"
        assert inv.held == held[(inv.flight_id, inv.cabin)], f"flight {inv.flight_id}/{inv.cabin}: counter != holds"
    rig.notes["passengers_impacted"] = sum(party[c.booking_id] for c in convs.values())


def _key_of(outbox: dict[str, OutboxMessage], conv_id: int, kind: str) -> str:
    return next(k for k, row in outbox.items() if row.conversation_id == conv_id and row.key == kind)
