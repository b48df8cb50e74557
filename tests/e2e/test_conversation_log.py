"""The conversation log and the drivable sandbox over HTTP: what went out as sent, replies through the inbound path,
lookups by locator, phone and e-mail, pages, erasure and export, retention; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from channels.sandbox import Sandbox, SandboxMessage
from consent.retention import RetentionPolicy, purge
from conversations.ports import DeliveryState, RecipientUnreachable
from gateway.cli import sandbox as sandbox_cli
from gateway.cli.main import main as cli
from gateway.container import Container, build
from gateway.http.app import create_app
from gateway.migrate import upgrade_async
from gateway.settings import Settings
from infra import crypto
from infra.db import Database
from infra.orm import Base
from rebooking_core.importer import import_bookings, import_schedule, parse_bookings, parse_schedule
from tests.e2e.test_http_flow import DAY, _flight

OPS_KEY = "k-ops-log"
DSR_KEY = "k-dsr-log"
AGENT_KEY = "k-agent-log"
KEYS = f"{OPS_KEY}:ops,{DSR_KEY}:dsr:export+dsr:erase,{AGENT_KEY}:agents"
LENA_SMS = "+4915112345678"
LENA_EMAIL = "lena.tester@example.org"
LUCIA_WA = "+34600111222"
OMAR_SMS = "+447911123456"


def _booking(locator: str, name: str, contacts: list[tuple[str, str]]) -> dict[str, Any]:
    consent = {"service": True, "marketing": False}
    return {
        "locator": locator,
        "passengers": [
            {
                "given_name": name,
                "family_name": "Tester",
                "tier": "none",
                "language": "en",
                "contacts": [{"channel": ch, "address": address, "consent": consent} for ch, address in contacts],
            }
        ],
        "segments": [{"carrier": "RB", "number": "100", "date": DAY.isoformat(), "cabin": "Y", "status": "HK"}],
    }


SCHEDULE = [_flight("100", 8, 10), _flight("102", 12, 5), _flight("104", 16, 5)]
BOOKINGS = [
    _booking("LENAAA", "Lena", [("sms", LENA_SMS), ("email", LENA_EMAIL)]),
    _booking("LUCIAA", "Lucía", [("whatsapp", LUCIA_WA)]),
    _booking("OMARAA", "Omar", [("sms", OMAR_SMS)]),
]


@dataclass
class Log:
    c: Container
    http: httpx.AsyncClient
    url: str

    @property
    def sandbox(self) -> Sandbox:
        assert self.c.sandbox is not None
        return self.c.sandbox

    async def work(self) -> None:
        """What the worker does between requests: queued jobs, then the outbox."""
        await self.c.jobs.wait_idle()
        await self.c.dispatcher.drain()

    async def disrupt(self) -> int:
        r = await self.http.post(
            "/v1/disruptions", json={"flight": {"carrier": "RB", "number": "100", "date": DAY.isoformat()}, "kind": "cancelled"}
        )
        assert r.status_code == 202, r.text
        await self.work()
        return int(r.json()["id"])

    async def find(self, **query: str) -> list[dict[str, Any]]:
        r = await self.http.get("/v1/conversations", params=query)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    async def conversation(self, locator: str) -> dict[str, Any]:
        (found,) = await self.find(locator=locator)
        r = await self.http.get(f"/v1/conversations/{found['id']}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def reply(self, body: dict[str, Any]) -> httpx.Response:
        r = await self.http.post("/v1/sandbox/replies", json=body)
        await self.work()
        return r

    async def offer_deliveries(self, locator: str) -> list[dict[str, Any]]:
        return list(_outgoing(await self.conversation(locator), "offer")["deliveries"])

    async def receipt(
        self, message: SandboxMessage, state: DeliveryState, at: dt.datetime, *, code: str | None = None, event_id: str | None = None
    ) -> None:
        """The provider's receipt for `message`, timed as the provider timed it (and, for a repeat under a new id, named)."""
        r = self.sandbox.receipt(message, state, code=code)
        await self.c.inbound.accept([dataclasses.replace(r, at=at, event_id=event_id or r.event_id)])


def _settings(url: str, **extra: Any) -> Settings:
    return Settings(_env_file=None, sandbox=True, database_url=url, ops_api_keys=KEYS, **extra)  # type: ignore[call-arg]


@pytest.fixture
async def log(empty_db_url: str) -> AsyncIterator[Log]:
    await upgrade_async(empty_db_url)
    c = build(_settings(empty_db_url))
    await c.start()
    try:
        async with c.db.transaction() as s:
            await import_schedule(s, parse_schedule(json.dumps(f) for f in SCHEDULE))
        async with c.db.transaction() as s:
            await import_bookings(s, parse_bookings(json.dumps(b) for b in BOOKINGS))
        transport = httpx.ASGITransport(app=create_app(c))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://rebook.test", headers={"Authorization": f"Bearer {OPS_KEY}"}
        ) as http:
            yield Log(c, http, empty_db_url)
    finally:
        await c.aclose()


def _outgoing(conv: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(m for m in conv["messages"] if m["direction"] == "out" and m["kind"] == kind)


async def test_a_sandbox_journey_is_in_the_log_as_sent_and_a_sandbox_reply_books(log: Log) -> None:
    disruption = await log.disrupt()
    lena = await log.conversation("LENAAA")
    assert (lena["locator"], lena["disruption_id"], lena["status"], lena["disruption_kind"]) == ("LENAAA", disruption, "offered", "cancelled")

    # The offer as the SMS went: the sandbox's phone shows exactly the text the log holds.
    (sms,) = log.sandbox.inbox("sms", LENA_SMS)
    offer = _outgoing(lena, "offer")
    assert (offer["text"], offer["sender"], offer["channel"], offer["status"]) == (sms.text, "bot", "sms", "sent")
    assert offer["provider_message_id"] == sms.provider_message_id
    assert [(d["channel"], d["provider"], d["status"]) for d in offer["deliveries"]] == [("sms", "sandbox", "sent")]
    assert lena["offer"]["options"], "the current offer's options, whose ids a sandbox reply can tap"

    # A passenger's answer through the same inbound path as a webhook: the option tapped is its number on SMS.
    first = lena["offer"]["options"][0]
    body = {"channel": "sms", "conversation_id": lena["id"], "option_id": first["id"], "message_id": "SBXreply-lena-1"}
    r = await log.reply(body)
    assert r.status_code == 202, r.text
    assert r.json() == {"message_id": "SBXreply-lena-1", "channel": "sms"}
    assert (await log.reply(body)).status_code == 202, "the same message id again changes nothing"

    lena = await log.conversation("LENAAA")
    assert lena["status"] == "booked"
    replies = [m for m in lena["messages"] if m["direction"] == "in"]
    assert [(m["text"], m["sender"], m["channel"], m["provider_message_id"], m["kind"]) for m in replies] == [
        (str(first["rank"]), "passenger", "sms", "SBXreply-lena-1", "OptionChosen")
    ], "one reply, however often it was posted"
    booked = _outgoing(lena, "booked")
    confirmation = log.sandbox.inbox("sms", LENA_SMS)[-1]
    assert booked["text"] == confirmation.text and booked["sender"] == "bot"
    assert [m["kind"] for m in lena["messages"]] == ["offer", "OptionChosen", "booked"], "in order: offer, reply, confirmation"
    assert len(log.sandbox.inbox("sms", LENA_SMS)) == 2, "one offer, one confirmation: the repeated reply booked nothing more"

    # Delivery receipts move the hand-over on; the log shows where each message got to.
    await log.c.inbound.accept([log.sandbox.receipt(confirmation, DeliveryState.DELIVERED)])
    await log.c.inbound.accept([log.sandbox.receipt(sms, DeliveryState.READ)])
    lena = await log.conversation("LENAAA")
    assert [d["status"] for d in _outgoing(lena, "booked")["deliveries"]] == ["delivered"]
    assert [d["status"] for d in _outgoing(lena, "offer")["deliveries"]] == ["read"]


def _history(delivery: dict[str, Any]) -> list[tuple[str, dt.datetime]]:
    return [(step["state"], dt.datetime.fromisoformat(step["at"])) for step in delivery["history"]]


def _handed(delivery: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(delivery["at"])


MINUTE = dt.timedelta(minutes=1)


async def test_each_delivery_shows_when_it_was_sent_delivered_and_read_and_a_repeated_receipt_changes_nothing(log: Log) -> None:
    await log.disrupt()
    (sms,) = log.sandbox.inbox("sms", LENA_SMS)
    (handover,) = await log.offer_deliveries("LENAAA")
    handed = _handed(handover)
    assert _history(handover) == [("sent", handed)], "handed over: sent, at the hand-over"

    for state, minutes in ((DeliveryState.SENT, 0.5), (DeliveryState.DELIVERED, 1), (DeliveryState.READ, 3)):
        await log.receipt(sms, state, handed + minutes * MINUTE)
    (moved,) = await log.offer_deliveries("LENAAA")
    assert moved["status"] == "read"
    assert _history(moved) == [("sent", handed), ("delivered", handed + MINUTE), ("read", handed + 3 * MINUTE)]

    # The same receipt again, and the same states under new ids with later times: nothing moves.
    await log.receipt(sms, DeliveryState.DELIVERED, handed + MINUTE)
    await log.receipt(sms, DeliveryState.DELIVERED, handed + 9 * MINUTE, event_id="again:delivered")
    await log.receipt(sms, DeliveryState.READ, handed + 10 * MINUTE, event_id="again:read")
    assert await log.offer_deliveries("LENAAA") == [moved]


async def test_a_receipt_out_of_order_still_records_its_state_in_order(log: Log) -> None:
    await log.disrupt()
    (omar_sms,) = log.sandbox.inbox("sms", OMAR_SMS)
    (omar,) = await log.offer_deliveries("OMARAA")
    handed = _handed(omar)
    # Read arrives first; the delivered sent before it (the provider's time says so) arrives after it.
    await log.receipt(omar_sms, DeliveryState.READ, handed + 2 * MINUTE)
    await log.receipt(omar_sms, DeliveryState.DELIVERED, handed + MINUTE)
    (omar,) = await log.offer_deliveries("OMARAA")
    assert omar["status"] == "read", "a late receipt never moves the status back"
    assert omar["updated_at"] == omar["history"][-1]["at"], "nor its time"
    assert _history(omar) == [("sent", handed), ("delivered", handed + MINUTE), ("read", handed + 2 * MINUTE)]

    # A delivered timed after the read already kept is delivered by then at the latest; a read timed before
    # the hand-over (a provider clock behind ours) happened at it at the earliest.
    (lucia_wa,) = log.sandbox.inbox("whatsapp", LUCIA_WA)
    handed = _handed((await log.offer_deliveries("LUCIAA"))[0])
    await log.receipt(lucia_wa, DeliveryState.READ, handed - MINUTE)
    assert [_history(d) for d in await log.offer_deliveries("LUCIAA")] == [[("sent", handed), ("read", handed)]]
    await log.receipt(lucia_wa, DeliveryState.DELIVERED, handed + 5 * MINUTE)
    assert [_history(d) for d in await log.offer_deliveries("LUCIAA")] == [
        [("sent", handed), ("delivered", handed), ("read", handed)]
    ], "in the order they happen"


async def test_a_fallback_shows_when_the_first_channel_failed_and_how_the_next_one_went(log: Log) -> None:
    await log.disrupt()
    (sms,) = log.sandbox.inbox("sms", LENA_SMS)
    handed = _handed((await log.offer_deliveries("LENAAA"))[0])
    await log.receipt(sms, DeliveryState.DELIVERED, handed + MINUTE)
    await log.receipt(sms, DeliveryState.FAILED, handed + 2 * MINUTE, code="30008")
    await log.work()
    (email,) = log.sandbox.inbox("email", LENA_EMAIL)
    email_handed = _handed((await log.offer_deliveries("LENAAA"))[1])
    await log.receipt(email, DeliveryState.DELIVERED, email_handed + MINUTE)
    # A late receipt for the failed hand-over records nothing: failure ends it.
    await log.receipt(sms, DeliveryState.READ, handed + 3 * MINUTE)

    offer = _outgoing(await log.conversation("LENAAA"), "offer")
    (failed, delivered) = offer["deliveries"]
    assert (failed["channel"], failed["status"], failed["error_code"]) == ("sms", "failed", "30008")
    assert _history(failed) == [("sent", handed), ("delivered", handed + MINUTE), ("failed", handed + 2 * MINUTE)]
    assert (delivered["channel"], delivered["status"]) == ("email", "delivered")
    assert _history(delivered) == [("sent", email_handed), ("delivered", email_handed + MINUTE)]
    assert offer["status"] == "sent" and offer["channel"] == "email"


async def test_a_send_refused_at_hand_over_shows_only_that_it_failed(log: Log) -> None:
    log.sandbox.fail_next("sms", LENA_SMS, RecipientUnreachable("no such number", code="21211"))
    await log.disrupt()
    (refused, sent) = await log.offer_deliveries("LENAAA")
    assert (refused["channel"], refused["status"], refused["error_code"]) == ("sms", "failed", "21211")
    assert _history(refused) == [("failed", _handed(refused))], "it never went"
    assert sent["channel"] == "email" and _history(sent) == [("sent", _handed(sent))]


async def test_a_whatsapp_tap_is_logged_as_the_option_and_the_template_by_name(log: Log) -> None:
    await log.disrupt()
    lucia = await log.conversation("LUCIAA")
    offer = _outgoing(lucia, "offer")
    # Outside the 24 h window the first contact is an approved template: logged by name and parameters.
    assert offer["channel"] == "whatsapp" and offer["text"].startswith("[template ")
    option = lucia["offer"]["options"][-1]
    r = await log.reply({"channel": "whatsapp", "from": LUCIA_WA, "option_id": option["id"]})
    assert r.status_code == 202, r.text
    assert r.json()["message_id"].startswith("SBX"), "a fresh provider id when none is given"
    lucia = await log.conversation("LUCIAA")
    (tap,) = [m for m in lucia["messages"] if m["direction"] == "in"]
    assert (tap["text"], tap["choice"], tap["provider_message_id"]) == (None, f"opt:{lucia['offer']['id']}:{option['id']}", r.json()["message_id"])
    assert lucia["status"] == "booked"
    shown = log.sandbox.inbox("whatsapp", LUCIA_WA)[-1]
    assert shown.text in _outgoing(lucia, "booked")["text"], "inside the window: the text as WhatsApp showed it"


async def test_an_agents_message_is_logged_under_the_agents_name(log: Log) -> None:
    await log.disrupt()
    lena = await log.conversation("LENAAA")
    assert (await log.reply({"conversation_id": lena["id"], "text": "AGENT"})).status_code == 202
    agent = {"Authorization": f"Bearer {AGENT_KEY}", "Rebook-Agent": "anna"}
    (escalation,) = (await log.http.get("/v1/escalations", headers=agent)).json()["items"]
    assert (await log.http.post(f"/v1/escalations/{escalation['id']}/claim", headers=agent)).status_code == 200
    r = await log.http.post(
        f"/v1/escalations/{escalation['id']}/reply",
        json={"text": "Anna here: I can move you to the 12:00 flight."},
        headers={**agent, "Idempotency-Key": "anna-1"},
    )
    assert r.status_code == 202, r.text
    await log.work()
    lena = await log.conversation("LENAAA")
    written = _outgoing(lena, "agent_text")
    assert (written["sender"], written["text"]) == ("agent:api:anna", "Anna here: I can move you to the 12:00 flight.")
    assert [m["sender"] for m in lena["messages"]] == ["bot", "passenger", "bot", "agent:api:anna"], "offer, AGENT, hand-over notice, the agent"


async def test_conversations_are_found_by_locator_phone_email_disruption_and_status_page_by_page(log: Log) -> None:
    disruption = await log.disrupt()
    everyone = await log.find()
    assert len(everyone) == 3 and [c["id"] for c in everyone] == sorted((c["id"] for c in everyone), reverse=True)
    lena = next(c for c in everyone if c["locator"] == "LENAAA")
    assert [c["id"] for c in await log.find(locator="lenaaa")] == [lena["id"]]
    assert [c["id"] for c in await log.find(phone="+49 151 1234-5678")] == [lena["id"]], "written with spaces and a dash"
    assert [c["id"] for c in await log.find(phone="0049151 12345678")] == [lena["id"]], "00 for +"
    assert [c["id"] for c in await log.find(email=LENA_EMAIL.upper())] == [lena["id"]]
    assert [c["id"] for c in await log.find(phone=LUCIA_WA)] == [c["id"] for c in everyone if c["locator"] == "LUCIAA"]
    assert await log.find(phone="+4915100000000") == [] and await log.find(email=LENA_EMAIL, locator="OMARAA") == []
    assert len(await log.find(disruption=str(disruption), status="offered")) == 3
    assert await log.find(status="booked") == [] and await log.find(disruption=str(disruption + 1)) == []

    seen: list[int] = []
    cursor: str | None = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await log.http.get("/v1/conversations", params=params)).json()
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["id"] for c in everyone], "every conversation once, newest first"

    for bad in ({"phone": "call me"}, {"email": "not-an-address"}, {"locator": "TOOLONG1"}, {"cursor": "bm90LWEtY3Vyc29y"}):
        r = await log.http.get("/v1/conversations", params=bad)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), (bad, r.text)
        assert "call me" not in r.text
    assert (await log.http.get("/v1/conversations/999999")).status_code == 404
    assert (await log.http.get("/v1/conversations", headers={"Authorization": f"Bearer {DSR_KEY}"})).status_code == 403


async def test_passengers_are_found_for_data_subject_requests_by_locator_phone_or_email(log: Log) -> None:
    dsr = {"Authorization": f"Bearer {DSR_KEY}"}

    async def find(**query: str) -> list[dict[str, Any]]:
        r = await log.http.get("/v1/passengers", params=query, headers=dsr)
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    (lena,) = await find(phone="+4915112345678")
    assert lena["locator"] == "LENAAA" and lena["erased"] is False and set(lena) == {"passenger_id", "booking_id", "locator", "erased"}
    assert await find(email=LENA_EMAIL) == [lena] and await find(locator="LENAAA") == [lena]
    assert await find(locator="LENAAA", phone=OMAR_SMS) == []
    assert (await log.http.get("/v1/passengers", headers=dsr)).status_code == 422, "at least one criterion"
    assert (await log.http.get("/v1/passengers", params={"locator": "LENAAA"})).status_code == 403, "the ops scope alone may not"
    r = await log.http.get("/v1/passengers", params={"phone": "+33 612"}, headers=dsr)
    assert r.status_code == 422 and "612" not in r.json()["detail"], "the problem names the form, never the value"


async def test_erasure_empties_the_log_text_and_the_export_holds_it_first(log: Log) -> None:
    await log.disrupt()
    lena = await log.conversation("LENAAA")
    r = await log.reply({"conversation_id": lena["id"], "text": "Can I keep my seat by the window?"})
    assert r.json()["channel"] == "sms", "without a channel: the one the conversation last used"
    dsr = {"Authorization": f"Bearer {DSR_KEY}"}
    (found,) = (await log.http.get("/v1/passengers", params={"locator": "LENAAA"}, headers=dsr)).json()["items"]

    bundle = (await log.http.get(f"/v1/passengers/{found['passenger_id']}/export", headers=dsr)).json()
    sent = [row["text"] for row in bundle["tables"]["deliveries"]]
    assert _outgoing(lena, "offer")["text"] in sent
    assert [row["text"] for row in bundle["tables"]["inbound_messages"]] == ["Can I keep my seat by the window?"]

    r = await log.http.delete(f"/v1/passengers/{found['passenger_id']}", headers=dsr)
    assert r.status_code == 200, r.text
    after = (await log.http.get(f"/v1/conversations/{lena['id']}")).json()
    assert after["messages"] and all(m["text"] is None and m["provider_message_id"] is None for m in after["messages"])
    assert all(d["provider_message_id"] is None for m in after["messages"] for d in m["deliveries"])
    assert await log.find(phone=LENA_SMS) == [], "the contact points are gone, so is the way to find them"
    omar = await log.conversation("OMARAA")
    assert _outgoing(omar, "offer")["text"], "nobody else's log is touched"


async def test_purge_takes_log_text_past_the_content_period(log: Log) -> None:
    await log.disrupt()
    r = await log.http.post("/v1/broadcasts", json={"target": f"RB100/{DAY.isoformat()}", "message": "Gate B12 is closed tonight"})
    assert r.status_code == 202, r.text
    await log.work()
    omar = await log.conversation("OMARAA")
    notice = next(m for m in omar["messages"] if m["sender"] == "broadcast")
    assert "Gate B12" in notice["text"], "a broadcast to the passenger's flight is in their log"

    policy = RetentionPolicy(content=dt.timedelta(days=1), deliveries=dt.timedelta(days=30))
    soon = log.c.clock() + dt.timedelta(days=1, hours=1)  # past the content period of what was sent, before the journey ends
    async with log.c.db.transaction() as s:
        report = await purge(s, Base.metadata, policy, now=soon, dry_run=False)
    assert report.removed.get("deliveries.text", 0) >= 1 and set(report.removed) <= {"deliveries.text", "processed_events"}, report.removed
    omar = await log.conversation("OMARAA")
    assert next(m for m in omar["messages"] if m["sender"] == "broadcast")["text"] is None, "a notice has no journey: it counts from sending"
    assert _outgoing(omar, "offer")["text"], "a conversation's log stays until its journey ended that long ago"

    ended = dt.datetime.combine(DAY, dt.time(23), dt.UTC) + dt.timedelta(days=2)
    async with log.c.db.transaction() as s:
        await purge(s, Base.metadata, policy, now=ended, dry_run=False)
    assert await log.find() == [], "the conversations and their logs are gone"


async def test_the_sandbox_reply_route_answers_clearly_and_exists_only_in_the_sandbox(log: Log) -> None:
    await log.disrupt()
    lena = await log.conversation("LENAAA")
    for bad, says in (
        ({"channel": "sms", "text": "1"}, "either `from` or `conversation_id`"),
        ({"channel": "sms", "from": LENA_SMS}, "either `text` or `option_id`"),
        ({"from": LENA_SMS, "text": "1"}, "`from` needs its `channel`"),
        ({"channel": "sms", "from": LENA_SMS, "text": "1", "option_id": 5}, "either `text` or `option_id`"),
        ({"channel": "email", "from": LENA_EMAIL, "text": "1"}, "not read"),
        ({"channel": "whatsapp", "conversation_id": lena["id"], "text": "1"}, "no whatsapp address"),
        ({"channel": "sms", "from": LENA_SMS, "option_id": 999999}, "no option 999999"),
        ({"channel": "fax", "from": LENA_SMS, "text": "1"}, "channel"),
    ):
        r = await log.http.post("/v1/sandbox/replies", json=bad)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), (bad, r.text)
        assert says in r.text, (bad, r.text)
    assert (await log.http.post("/v1/sandbox/replies", json={"channel": "sms", "conversation_id": 999999, "text": "1"})).status_code == 404
    assert (await log.conversation("LENAAA"))["status"] == "offered", "nothing refused reached the conversation"

    production = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=log.url,
        ops_api_keys="ops-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
        pii_keys="k1:pii-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
        blind_index_key="blind-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDE",
        public_base_url="https://rebook.example.test",
    )
    c = build(production)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(c)), base_url="https://rebook.example.test") as http:
            headers = {"Authorization": "Bearer ops-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"}
            r = await http.post("/v1/sandbox/replies", json={"channel": "sms", "from": LENA_SMS, "text": "1"}, headers=headers)
            assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
            assert (await http.get("/v1/conversations", headers=headers)).status_code == 200, "the log itself is everywhere"
    finally:
        await c.aclose()


async def test_rebook_sandbox_outbox_prints_what_was_sent_and_follows_new_messages(
    log: Log, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await log.disrupt()
    monkeypatch.setenv("REBOOK_DATABASE_URL", log.url)
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    monkeypatch.setattr(crypto, "_keyring", None)  # a fresh process: the command sets up its own keys
    assert await asyncio.to_thread(cli, ["sandbox", "outbox", "--limit", "50"]) == 0
    printed = capsys.readouterr().out
    (offer,) = log.sandbox.inbox("sms", LENA_SMS)
    assert f"{offer.provider_message_id}" in printed and "  sms  offer  sent  " in printed
    assert all(f"    {line}" in printed for line in offer.text.splitlines() if line), "the text as the phone shows it"
    assert printed.count("\n#") + printed.startswith("#") == len(log.sandbox.messages), "one entry per message sent"
    lena = await log.conversation("LENAAA")
    assert await asyncio.to_thread(cli, ["sandbox", "outbox", "--conversation", str(lena["id"])]) == 0
    heads = [line for line in capsys.readouterr().out.splitlines() if line.startswith("#")]
    assert heads and all(f"  conversation {lena['id']}  " in line for line in heads)

    # --follow: each look prints what was sent since the last one, from any process (here: this one's dispatcher).
    lines: list[str] = []
    db = Database(log.url)
    last = await sandbox_cli.show(db, lines.append)
    looks = 0

    async def meanwhile(_: float) -> None:
        nonlocal looks
        looks += 1
        if looks == 1:
            await log.reply({"channel": "sms", "from": LENA_SMS, "text": "1"})
        elif looks == 3:
            raise asyncio.CancelledError

    lines.clear()
    try:
        with pytest.raises(asyncio.CancelledError):
            await sandbox_cli.follow(db, lines.append, after=last, interval=1.0, sleep=meanwhile)
    finally:
        await db.dispose()
    (confirmation,) = lines
    assert "  sms  booked  sent  " in confirmation and log.sandbox.inbox("sms", LENA_SMS)[-1].text.splitlines()[0] in confirmation
