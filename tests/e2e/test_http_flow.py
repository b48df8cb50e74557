"""The whole spine through HTTP: import, disrupt, offers at the provider fakes, signed answers, bookings."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from consent.models import AuditEntry
from gateway.cli.main import main as cli
from gateway.container import Container, build
from gateway.http.app import create_app
from gateway.migrate import upgrade_async
from gateway.settings import Settings
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio

PUBLIC = "https://rebook.example.test"
APP_SECRET = "wa-app-secret"
OPS_KEY = "ops-key-e2e-0123456789-abcdefghijklmnopqrstuvwxyz"
WA_PHONE = "+4915112345678"
SMS_PHONE = "+34600111222"
DAY = dt.date.today() + dt.timedelta(days=2)


def _flight(number: str, dep_hour: int, seats: int) -> dict[str, Any]:
    dep = dt.datetime.combine(DAY, dt.time(dep_hour), dt.UTC)
    return {
        "carrier": "RB",
        "number": number,
        "date": DAY.isoformat(),
        "origin": "FRA",
        "destination": "MAD",
        "departure": dep.isoformat(),
        "arrival": (dep + dt.timedelta(hours=2, minutes=30)).isoformat(),
        "cabins": {"Y": seats, "J": 0},
    }


def _booking(locator: str, language: str, names: list[str], channel: str, phone: str) -> dict[str, Any]:
    passengers = [
        {"given_name": n, "family_name": "Tester", "tier": "gold" if i == 0 else "none", "language": language, "contacts": []}
        for i, n in enumerate(names)
    ]
    passengers[0]["contacts"] = [{"channel": channel, "address": phone, "consent": {"service": True, "marketing": False}}]
    return {
        "locator": locator,
        "passengers": passengers,
        "segments": [{"carrier": "RB", "number": "100", "date": DAY.isoformat(), "cabin": "Y", "status": "HK"}],
    }


@dataclass
class World:
    c: Container
    http: httpx.AsyncClient
    graph: FakeGraphAPI
    twilio: FakeTwilio

    async def work(self) -> None:
        """What a worker does between requests: run queued jobs, then send the outbox."""
        await self.c.jobs.wait_idle()
        await self.c.dispatcher.drain()

    async def inventory(self, number: str) -> dict[str, int]:
        r = await self.http.get(f"/v1/flights/RB/{number}/{DAY.isoformat()}/inventory")
        assert r.status_code == 200, r.text
        cabin = next(c for c in r.json()["cabins"] if c["cabin"] == "Y")
        return {"sold": cabin["sold"], "held": cabin["held"]}

    async def whatsapp(self, message: dict[str, Any]) -> httpx.Response:
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": "15550000000", "phone_number_id": self.graph.phone_number_id},
                                "contacts": [{"profile": {"name": "P"}, "wa_id": WA_PHONE[1:], "user_id": "DE.1"}],
                                "messages": [message],
                            },
                        }
                    ],
                }
            ],
        }
        raw = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        return await self.http.post(
            "/webhooks/whatsapp", content=raw, headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"}
        )

    async def sms(self, sid: str, body: str) -> httpx.Response:
        form = {"MessageSid": sid, "AccountSid": self.twilio.account_sid, "From": SMS_PHONE, "To": "+15550001111", "Body": body}
        signature = RequestValidator(self.twilio.auth_token).compute_signature(f"{PUBLIC}/webhooks/twilio/sms", form)
        return await self.http.post("/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})


@pytest.fixture
def fakes() -> Iterator[tuple[FakeGraphAPI, FakeTwilio, str, str]]:
    graph, twilio = FakeGraphAPI(), FakeTwilio()
    with LocalServer(graph.app()) as g, LocalServer(twilio.app) as t:
        yield graph, twilio, g.url, t.url


@pytest.fixture
async def world(empty_db_url: str, tmp_path: Path, fakes, monkeypatch) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    graph, twilio, graph_url, twilio_url = fakes
    url = empty_db_url
    env = {
        "REBOOK_DATABASE_URL": url,
        "REBOOK_OPS_API_KEYS": OPS_KEY,
        "REBOOK_PUBLIC_BASE_URL": PUBLIC,
        "REBOOK_PII_KEYS": "k1:test-pii-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "REBOOK_BLIND_INDEX_KEY": "test-blind-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "REBOOK_TWILIO__ACCOUNT_SID": twilio.account_sid,
        "REBOOK_TWILIO__AUTH_TOKEN": twilio.auth_token,
        "REBOOK_TWILIO__FROM_NUMBER": "+15550001111",
        "REBOOK_TWILIO__API_BASE": twilio_url,
        "REBOOK_WHATSAPP__PHONE_NUMBER_ID": graph.phone_number_id,
        "REBOOK_WHATSAPP__TOKEN": graph.token,
        "REBOOK_WHATSAPP__APP_SECRET": APP_SECRET,
        "REBOOK_WHATSAPP__VERIFY_TOKEN": "verify-me",
        "REBOOK_WHATSAPP__API_BASE": graph_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    await upgrade_async(url)
    schedule = tmp_path / "schedule.jsonl"
    schedule.write_text("\n".join(json.dumps(_flight(n, h, s)) for n, h, s in (("100", 8, 10), ("102", 12, 5), ("104", 16, 5))))
    bookings = tmp_path / "bookings.jsonl"
    bookings.write_text(
        "\n".join(
            json.dumps(b)
            for b in (
                _booking("AAAAAA", "de", ["Lena"], "whatsapp", WA_PHONE),
                _booking("BBBBBB", "es", ["Lucía", "Mateo"], "sms", SMS_PHONE),
            )
        )
    )
    assert await asyncio.to_thread(cli, ["import", "schedule", str(schedule)]) == 0
    assert await asyncio.to_thread(cli, ["import", "bookings", str(bookings)]) == 0
    c = build(Settings())
    await c.start()
    app = create_app(c)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=PUBLIC, headers={"Authorization": f"Bearer {OPS_KEY}"}
    ) as http:
        yield World(c, http, graph, twilio)
    await c.aclose()


def _template_payload(body: dict[str, Any]) -> str:
    for component in body["template"]["components"]:
        if component.get("type") == "button":
            return str(component["parameters"][0]["payload"])
    raise AssertionError("template has no quick-reply button")


async def test_disruption_end_to_end_over_http(world: World) -> None:
    before = await world.inventory("100")
    assert before["sold"] == 3
    async with world.c.db.reading() as s:
        imported = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "consent.imported"))).all()
    assert [(e.actor, e.details["passengers"]) for e in imported] == [("cli:import", 3)]

    r = await world.http.post(
        "/v1/disruptions",
        json={"flight": {"carrier": "RB", "number": "100", "date": DAY.isoformat()}, "kind": "cancelled", "reason": "TECH", "idempotency_key": "e2e-1"},
    )
    assert r.status_code == 202, r.text
    disruption_id = r.json()["id"]
    await world.work()

    # Seats are held for both bookings on both alternatives (1 + 2 passengers).
    assert await world.inventory("102") == {"sold": 0, "held": 3}
    assert await world.inventory("104") == {"sold": 0, "held": 3}

    # WhatsApp: the first contact is an approved template (the 24 h window is closed).
    wa_first = [b for b in world.graph.bodies if b["to"] == WA_PHONE[1:]]
    assert [b["type"] for b in wa_first] == ["template"]
    assert wa_first[0]["template"]["language"]["code"] == "de"
    more = _template_payload(wa_first[0])
    # SMS: a numbered menu in Spanish.
    assert len(world.twilio.requests) == 1
    sms_body = world.twilio.requests[0].form["Body"]
    assert world.twilio.requests[0].form["To"] == SMS_PHONE
    # The first flight always stays; the refund the passenger is owed (EU261 Art. 8) is numbered after the
    # two flights and survives the UCS-2 budget, which drops the second flight first (it is on the page).
    assert "\n1) " in sms_body and "\n3) Mejor reembolso" in sms_body, sms_body
    # The prompt's range counts every numbered line, the passenger's own choices too (refund, another date).
    assert "(1-4)" in sms_body, sms_body
    # Spanish needs UCS-2 (70 characters a segment): the page link is the first thing the budget drops,
    # and the notice of rights (#21.4) then shrinks to its tag with that page, where the notice is in full.
    assert sms_body.count("/p/") == 1 and re.search(r"\nUE261: https://\S+/p/[0-9A-Za-z]{22}$", sms_body), sms_body

    # The passenger taps "See my options": the options follow as an interactive message.
    r = await world.whatsapp({"from": WA_PHONE[1:], "id": "wamid.tap-more", "timestamp": str(int(time.time())), "type": "button", "button": {"payload": more, "text": "x"}})
    assert r.status_code == 200, r.text
    await world.work()
    interactive = [b for b in world.graph.bodies if b["to"] == WA_PHONE[1:] and b["type"] == "interactive"]
    assert len(interactive) == 1
    # Two flights, then the passenger's own choices on a cancellation (a refund, another date): four rows, a list.
    rows = [row for section in interactive[0]["interactive"]["action"]["sections"] for row in section["rows"]]
    assert [row["id"].split(":")[0] for row in rows[2:]] == ["refund", "later"], rows
    option_one = rows[0]["id"]
    # The options end with the passenger's page, which opens over HTTP with every option in full.
    page_path = re.search(r"/p/[0-9A-Za-z]{22}$", interactive[0]["interactive"]["body"]["text"])
    assert page_path is not None, interactive[0]["interactive"]["body"]["text"]
    page = await world.http.get(page_path.group(0))
    assert page.status_code == 200 and "RB102" in page.text and "RB104" in page.text

    # Tapping option 1 books it: the seat is sold, the other holds are released.
    tap = {"from": WA_PHONE[1:], "id": "wamid.tap-1", "timestamp": str(int(time.time())), "type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": option_one, "title": "1"}}}
    r = await world.whatsapp(tap)
    assert r.status_code == 200
    await world.work()
    assert await world.inventory("102") == {"sold": 1, "held": 2}
    assert await world.inventory("104") == {"sold": 0, "held": 2}
    sent_to_wa = len([b for b in world.graph.bodies if b["to"] == WA_PHONE[1:]])

    # Meta retries the same webhook: nothing changes, nothing more is sent.
    r = await world.whatsapp(tap)
    assert r.status_code == 200
    await world.work()
    assert await world.inventory("102") == {"sold": 1, "held": 2}
    assert len([b for b in world.graph.bodies if b["to"] == WA_PHONE[1:]]) == sent_to_wa

    # A second, distinct tap on the same offer is acknowledged, never booked twice.
    r = await world.whatsapp({**tap, "id": "wamid.tap-again"})
    await world.work()
    assert await world.inventory("102") == {"sold": 1, "held": 2}
    assert len([b for b in world.graph.bodies if b["to"] == WA_PHONE[1:]]) == sent_to_wa + 1

    # SMS "2" books the second option for both passengers of booking BBBBBB.
    r = await world.sms("SM" + "1" * 32, "2")
    assert r.status_code == 200 and "<Response" in r.text
    await world.work()
    assert await world.inventory("104") == {"sold": 2, "held": 0}
    assert await world.inventory("102") == {"sold": 1, "held": 0}
    # The same SMS webhook again changes nothing.
    r = await world.sms("SM" + "1" * 32, "2")
    await world.work()
    assert await world.inventory("104") == {"sold": 2, "held": 0}
    assert len(world.twilio.requests) == 2

    # A forged webhook is refused and changes nothing.
    r = await world.http.post("/webhooks/twilio/sms", data={"MessageSid": "SMforged", "From": SMS_PHONE, "Body": "1"}, headers={"X-Twilio-Signature": base64.b64encode(b"nope").decode()})
    assert r.status_code == 403

    status = (await world.http.get(f"/v1/disruptions/{disruption_id}")).json()
    assert status["impacted"] == 3
    assert status["booked"] == 3
    assert status["accepted"] == 3
    assert status["pending"] == 0

    # The same idempotency key names the same disruption and sends no second wave.
    r = await world.http.post(
        "/v1/disruptions",
        json={"flight": {"carrier": "RB", "number": "100", "date": DAY.isoformat()}, "kind": "cancelled", "idempotency_key": "e2e-1"},
    )
    assert r.status_code == 202 and r.json() == {"id": disruption_id, "created": False}
    await world.work()
    assert len(world.twilio.requests) == 2
