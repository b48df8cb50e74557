"""Issue #21.4 through HTTP and the provider fakes: every first message carries the notice of the passenger's
rights under their journey's regime with a link that opens that regime's full text, and the passenger page
shows the notice with a compensation amount only when the rights engine computed one owed."""

from __future__ import annotations

import asyncio
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

import locales
from gateway.cli.main import main as cli
from gateway.container import Container, build
from gateway.http.app import create_app
from gateway.migrate import upgrade_async
from gateway.settings import Settings
from locales.formatting import format_money
from rebooking_core.models import Claim
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio

PUBLIC = "https://rebook.example.test"
APP_SECRET = "wa-app-secret"
OPS_KEY = "ops-key-e2e-0123456789-abcdefghijklmnopqrstuvwxyz"
DAY = dt.date.today() + dt.timedelta(days=2)


@dataclass(frozen=True)
class Route:
    """One regime's journey: the disrupted flight, its alternative, and its two passengers (SMS in English, WhatsApp in French)."""

    regime: str
    origin: str
    destination: str
    disrupted: str
    alternative: str
    reason: str
    sms: str
    whatsapp: str


ROUTES = (
    # A technical fault is the carrier's risk: the engine computes compensation owed.
    Route("eu261", "FRA", "MAD", "100", "102", "TECH", "+34600111220", "+4915112345670"),
    # Weather is extraordinary (UK261) and outside the carrier's control (APPR): nothing owed, no amount.
    Route("uk261", "LHR", "JFK", "200", "202", "WX", "+34600111221", "+4915112345671"),
    Route("appr", "YYZ", "JFK", "300", "302", "WX", "+34600111222", "+4915112345672"),
)


def _flight(route: Route, number: str, dep_hour: int) -> dict[str, Any]:
    dep = dt.datetime.combine(DAY, dt.time(dep_hour), dt.UTC)
    return {
        "carrier": "RB",
        "number": number,
        "date": DAY.isoformat(),
        "origin": route.origin,
        "destination": route.destination,
        "departure": dep.isoformat(),
        "arrival": (dep + dt.timedelta(hours=7)).isoformat(),
        "cabins": {"Y": 10, "J": 0},
    }


def _booking(
    locator: str, route: Route, language: str, channel: str, address: str
) -> dict[str, Any]:
    contact = {
        "channel": channel,
        "address": address,
        "consent": {"service": True, "marketing": False},
    }
    return {
        "locator": locator,
        "passengers": [
            {
                "given_name": "Ana",
                "family_name": "Tester",
                "tier": "none",
                "language": language,
                "contacts": [contact],
            }
        ],
        "segments": [
            {
                "carrier": "RB",
                "number": route.disrupted,
                "date": DAY.isoformat(),
                "cabin": "Y",
                "status": "HK",
            }
        ],
    }


@dataclass
class World:
    c: Container
    http: httpx.AsyncClient
    graph: FakeGraphAPI
    twilio: FakeTwilio

    async def work(self) -> None:
        await self.c.jobs.wait_idle()
        await self.c.dispatcher.drain()

    def sms_to(self, phone: str) -> list[str]:
        return [r.form["Body"] for r in self.twilio.requests if r.form["To"] == phone]

    def whatsapp_to(self, phone: str) -> list[dict[str, Any]]:
        return [b for b in self.graph.bodies if b["to"] == phone[1:]]

    async def tap_more(self, phone: str) -> None:
        """The passenger taps the template's "see my options" button: the offer follows inside the 24 h window."""
        template = self.whatsapp_to(phone)[0]
        button = next(c for c in template["template"]["components"] if c.get("type") == "button")
        message = {
            "from": phone[1:],
            "id": f"wamid.more-{phone[-4:]}",
            "timestamp": str(int(time.time())),
            "type": "button",
            "button": {"payload": button["parameters"][0]["payload"], "text": "x"},
        }
        value = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": "15550000000",
                "phone_number_id": self.graph.phone_number_id,
            },
            "contacts": [{"profile": {"name": "P"}, "wa_id": phone[1:]}],
            "messages": [message],
        }
        raw = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
            }
        ).encode()
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        r = await self.http.post(
            "/webhooks/whatsapp",
            content=raw,
            headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
        )
        assert r.status_code == 200, r.text


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
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    await upgrade_async(empty_db_url)
    schedule = tmp_path / "schedule.jsonl"
    schedule.write_text(
        "\n".join(
            json.dumps(_flight(r, n, h))
            for r in ROUTES
            for n, h in ((r.disrupted, 8), (r.alternative, 12))
        )
    )
    bookings = tmp_path / "bookings.jsonl"
    rows = []
    for i, r in enumerate(ROUTES):
        rows.append(_booking(f"SMS{i}AA", r, "en", "sms", r.sms))
        rows.append(_booking(f"WAP{i}AA", r, "fr", "whatsapp", r.whatsapp))
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
        world = World(c, http, graph, twilio)
        for r in ROUTES:
            flight = {"carrier": "RB", "number": r.disrupted, "date": DAY.isoformat()}
            body = {
                "flight": flight,
                "kind": "cancelled",
                "reason": r.reason,
                "idempotency_key": f"rights-{r.regime}",
            }
            response = await http.post("/v1/disruptions", json=body)
            assert response.status_code == 202, response.text
        await world.work()
        yield world
    await c.aclose()


def _link(regime: str, lang: str) -> str:
    return f"{PUBLIC}/rights/{regime}?lang={lang}"


async def test_every_first_message_carries_its_regimes_notice_and_the_link_opens_it(
    world: World,
) -> None:
    for r in ROUTES:
        # SMS: the short notice and the link, in English, on the first (and only) message.
        (sms,) = world.sms_to(r.sms)
        notice = locales.render(f"rights.notice.{r.regime}.sms", "en")
        assert f"{notice} {_link(r.regime, 'en')}" in sms, sms
        assert "1)" in sms  # the options still fit beside it
        others = {o.regime for o in ROUTES} - {r.regime}
        assert not any(f"/rights/{o}" in sms for o in others)

        # WhatsApp: outside the 24 h window the first message is Meta's fixed template (no free text);
        # the options that follow the passenger's tap carry the full notice in French.
        first = world.whatsapp_to(r.whatsapp)
        assert [b["type"] for b in first] == ["template"]
        await world.tap_more(r.whatsapp)
        await world.work()
        interactive = [b for b in world.whatsapp_to(r.whatsapp) if b["type"] == "interactive"]
        assert len(interactive) == 1
        text = interactive[0]["interactive"]["body"]["text"]
        assert (
            f"{locales.render(f'rights.notice.{r.regime}', 'fr')}\n{_link(r.regime, 'fr')}" in text
        ), text
        assert re.search(r"/p/[0-9A-Za-z]{22}$", text)  # the page link still ends the message

        # The link resolves: the regime's full text, in the language of the message.
        for lang in ("en", "fr"):
            page = await world.http.get(_link(r.regime, lang))
            assert page.status_code == 200
            assert locales.render(f"rights.page.title.{r.regime}", lang) in page.text.replace(
                "&#39;", "'"
            )
            assert f'lang="{lang}"' in page.text


@pytest.mark.parametrize(
    ("regime", "lang", "amounts"),
    [
        ("eu261", "en", [(250, "EUR"), (400, "EUR"), (600, "EUR")]),
        ("uk261", "de", [(220, "GBP"), (350, "GBP"), (520, "GBP")]),
        ("appr", "fr", [(400, "CAD"), (125, "CAD"), (1000, "CAD"), (500, "CAD")]),
    ],
)
async def test_the_rights_page_states_the_engines_amounts(
    world: World, regime: str, lang: str, amounts: list[tuple[int, str]]
) -> None:
    page = await world.http.get(f"/rights/{regime}?lang={lang}")
    assert page.status_code == 200
    for amount, currency in amounts:
        assert format_money(amount, currency, lang) in page.text
    assert (
        locales.render(f"rights.page.enforcement.{regime}", lang).replace("'", "&#39;") in page.text
    )
    assert (await world.http.get("/rights/montreal?lang=en")).status_code == 404


async def test_the_page_shows_the_notice_and_an_amount_only_when_the_engine_owes_one(
    world: World,
) -> None:
    async with world.c.db.reading() as s:
        claims = {c.regime: c for c in await s.scalars(select(Claim))}
    assert claims["eu261"].status == "owed" and claims["eu261"].amount > 0
    assert claims["uk261"].status == "not_owed" and claims["appr"].status == "not_owed"
    for r in ROUTES:
        await world.tap_more(r.whatsapp)
        await world.work()
        text = next(b for b in world.whatsapp_to(r.whatsapp) if b["type"] == "interactive")[
            "interactive"
        ]["body"]["text"]
        found = re.search(r"/p/[0-9A-Za-z]{22}$", text)
        assert found is not None
        page = (await world.http.get(found.group(0))).text.replace("&#39;", "'")
        assert locales.render(f"rights.notice.{r.regime}", "fr") in page
        assert f'href="/rights/{r.regime}?lang=fr"' in page
        owed = claims[r.regime]
        amount = locales.render(
            "rights.amount", "fr", amount=format_money(owed.amount, owed.currency, "fr")
        )
        if r.regime == "eu261":
            assert amount in page
        else:
            assert 'class="amount"' not in page
            assert "£" not in page and "$" not in page  # no amount of any kind is promised
        # The English SMS passenger's page: the same notice in English, the amount on the same terms.
        (sms,) = world.sms_to(r.sms)
        link = re.search(r"/p/[0-9A-Za-z]{22}", sms)
        assert link is not None, sms
        page_en = (await world.http.get(link.group(0))).text.replace("&#39;", "'")
        assert locales.render(f"rights.notice.{r.regime}", "en") in page_en
        assert f'href="/rights/{r.regime}?lang=en"' in page_en
        amount_en = locales.render(
            "rights.amount", "en", amount=format_money(owed.amount, owed.currency, "en")
        )
        assert (amount_en in page_en) is (r.regime == "eu261")
