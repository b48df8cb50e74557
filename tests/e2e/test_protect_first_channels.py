"""Protect first through HTTP and the Twilio and Graph fakes: booked before the first message, and a different choice moves the seat."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from conversations.models import Conversation, Escalation
from gateway.cli.main import main as cli
from gateway.container import build
from gateway.http.app import create_app
from gateway.migrate import upgrade_async
from gateway.settings import Settings
from tests.e2e.test_http_flow import (
    APP_SECRET,
    OPS_KEY,
    PUBLIC,
    SMS_PHONE,
    WA_PHONE,
    World,
    _booking,
    _flight,
    _template_payload,
)
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio


@pytest.fixture
def fakes() -> Iterator[tuple[FakeGraphAPI, FakeTwilio, str, str]]:
    graph, twilio = FakeGraphAPI(), FakeTwilio()
    with LocalServer(graph.app()) as g, LocalServer(twilio.app) as t:
        yield graph, twilio, g.url, t.url


@pytest.fixture
async def world(empty_db_url: str, tmp_path: Path, fakes, monkeypatch) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    graph, twilio, graph_url, twilio_url = fakes
    env = {
        "REBOOK_DATABASE_URL": empty_db_url,
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
        "REBOOK_FIRST_CONTACT": "protect",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    await upgrade_async(empty_db_url)
    schedule = tmp_path / "schedule.jsonl"
    schedule.write_text(
        "\n".join(json.dumps(_flight(n, h, 10)) for n, h in (("100", 8), ("102", 12), ("104", 14)))
    )
    bookings = tmp_path / "bookings.jsonl"
    rows = [
        _booking("PRT1AA", "en", ["Ana"], "sms", SMS_PHONE),
        _booking("PRT2AA", "de", ["Jonas"], "whatsapp", WA_PHONE),
    ]
    bookings.write_text("\n".join(json.dumps(b) for b in rows))
    assert await asyncio.to_thread(cli, ["import", "schedule", str(schedule)]) == 0
    assert await asyncio.to_thread(cli, ["import", "bookings", str(bookings)]) == 0
    c = build(Settings())
    await c.start()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(c)),
        base_url=PUBLIC,
        headers={"Authorization": f"Bearer {OPS_KEY}"},
    ) as http:
        yield World(c, http, graph, twilio)
    await c.aclose()


async def test_protected_at_once_on_sms_and_whatsapp_and_a_new_choice_moves_the_seat(
    world: World,
) -> None:
    flight = {"carrier": "RB", "number": "100", "date": _flight("100", 8, 10)["date"]}
    r = await world.http.post(
        "/v1/disruptions",
        json={"flight": flight, "kind": "cancelled", "idempotency_key": "protect-1"},
    )
    assert r.status_code == 202, r.text
    await world.work()

    # Both booked on the best flight before anyone was asked; no hold is left.
    assert await world.inventory("102") == {"sold": 2, "held": 0}
    assert await world.inventory("104") == {"sold": 0, "held": 0}
    # SMS: the protection, and the other option numbered as on an offer.
    [sms] = [r.form["Body"] for r in world.twilio.requests if r.form["To"] == SMS_PHONE]
    assert "moved you to RB102" in sms and "PRT1AA" in sms and "2)" in sms, sms
    # WhatsApp: outside the 24 h window the first contact is the approved template.
    [wa_first] = [b for b in world.graph.bodies if b["to"] == WA_PHONE[1:]]
    assert wa_first["type"] == "template"

    # The SMS passenger prefers option 2: the seat on RB102 is given back and RB104's sold, at once.
    r = await world.sms("SM-protect-2", "2")
    assert r.status_code == 200, r.text
    await world.work()
    assert await world.inventory("102") == {"sold": 1, "held": 0}
    assert await world.inventory("104") == {"sold": 1, "held": 0}
    confirmation = [r.form["Body"] for r in world.twilio.requests if r.form["To"] == SMS_PHONE][-1]
    assert "RB104" in confirmation and "PRT1AA" in confirmation

    # The WhatsApp passenger taps "see my options": fresh options (not the flight they hold), then taps one.
    more = _template_payload(wa_first)
    tap = {
        "from": WA_PHONE[1:],
        "id": "wamid.more",
        "timestamp": str(int(time.time())),
        "type": "button",
        "button": {"payload": more, "text": "x"},
    }
    assert (await world.whatsapp(tap)).status_code == 200
    await world.work()
    [interactive] = [
        b for b in world.graph.bodies if b["to"] == WA_PHONE[1:] and b["type"] == "interactive"
    ]
    buttons = interactive["interactive"]["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons if "RB102" in b["reply"]["title"]] == []
    assert await world.inventory("104") == {"sold": 1, "held": 1}
    choose = {
        "from": WA_PHONE[1:],
        "id": "wamid.choose",
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {
            "type": "button_reply",
            "button_reply": {"id": buttons[0]["reply"]["id"], "title": "1"},
        },
    }
    assert (await world.whatsapp(choose)).status_code == 200
    await world.work()
    assert await world.inventory("102") == {"sold": 0, "held": 0}
    assert await world.inventory("104") == {"sold": 2, "held": 0}

    async with world.c.db.reading() as s:
        statuses = list(await s.scalars(select(Conversation.status)))
        escalations = await s.scalar(select(func.count()).select_from(Escalation))
    assert statuses == ["booked", "booked"] and escalations == 0
