"""WhatsApp business-scoped user ids end to end: signed webhooks in, sends out through pywa to the local Graph fake.

A passenger who adopts a WhatsApp username may stop showing their number; Meta then names them by
their BSUID alone. These journeys run the gateway as `rebook serve` wires it (the real webhook
route and inbound router, the dispatcher, pywa) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.sandbox import Sandbox
from conversations.models import Conversation, Delivery
from gateway.container import build
from gateway.http.app import create_app
from gateway.settings import Settings
from infra import crypto
from rebooking_core.importer import import_bookings, parse_bookings
from rebooking_core.models import ContactPoint, Segment
from tests.conversations.conftest import Clock, Pax, Rig, _network
from tests.e2e.privacy.journey import all_rows, captured_logs, dump, found_in, readable
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer

SECRET = "wa-app-secret-for-bsuid-tests"
OPS_KEY = "er3xfKyFS/DS5KDAEYhH8zWC8uijfSeMHogDcVR+1JU="
AUTH = {"Authorization": f"Bearer {OPS_KEY}"}
URL = "/webhooks/whatsapp"
BSUID = "GB.13491208655302741918"
PARENT = "GB.ENT.11815799212886844830"
USERNAME = "@zelphine.q"
NEW_PHONE = "+447700900555"
NEW_BSUID = "GB.77120034417881240556"
_ids = itertools.count(1)


@dataclass
class Gateway:
    """The gateway on the Graph fake, with a webhook poster and the rig's network and readers."""

    rig: Rig
    fake: FakeGraphAPI
    http: httpx.AsyncClient

    async def hook(self, payload: dict[str, Any]) -> httpx.Response:
        body = json.dumps(payload).encode()
        digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}
        response = await self.http.post(URL, content=body, headers=headers)
        await self.rig.c.dispatcher.drain()
        return response

    async def contact(self, who: Pax) -> ContactPoint:
        async with self.rig.c.db.reading() as s:
            found = await s.scalars(
                select(ContactPoint).where(ContactPoint.passenger_id == who.passenger_id, ContactPoint.channel == "whatsapp")
            )
            return found.one()

    async def tap(self, who: Pax, rank: int) -> str:
        """The button id the passenger's tap on the option of this rank carries back."""
        conv = await self.rig.conversation(who)
        option = (await self.rig.options(who))[rank - 1]
        return f"opt:{conv.offer_id}:{option.id}"


def _now() -> str:
    """Meta stamps a message when it arrives: the passenger's 24-hour window opens now."""
    return str(int(time.time()))


def _envelope(value: dict[str, Any], phone_number_id: str) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
        **value,
    }
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}


def message(
    *,
    phone: str | None,
    bsuid: str | None,
    text: str | None = None,
    token: str | None = None,
    parent: str | None = None,
    username: str | None = None,
    to: str = "1099000111",
) -> dict[str, Any]:
    """A user's message as Meta sends it: the number only when the user shows it, the BSUID beside it."""
    contact: dict[str, Any] = {"profile": {"name": "Zelphine", **({"username": username} if username else {})}}
    sent: dict[str, Any] = {"id": f"wamid.bsuid-test-{next(_ids)}", "timestamp": _now()}
    if phone:
        contact["wa_id"] = sent["from"] = phone.lstrip("+")
    if bsuid:
        contact["user_id"] = sent["from_user_id"] = bsuid
    if parent:
        contact["parent_user_id"] = parent
    if token:
        sent |= {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": token, "title": "LH102"}}}
    else:
        sent |= {"type": "text", "text": {"body": text or "hello"}}
    return _envelope({"contacts": [contact], "messages": [sent]}, to)


def number_changed(*, old_phone: str, new_phone: str, new_bsuid: str) -> dict[str, Any]:
    """Meta's system message: the user moved to a new number, which comes with a new BSUID; no contacts array."""
    system = {
        "body": f"User Zelphine changed from {old_phone.lstrip('+')} to {new_phone.lstrip('+')}",
        "wa_id": new_phone.lstrip("+"),
        "user_id": new_bsuid,
        "type": "user_changed_number",
    }
    sent = {"from": old_phone.lstrip("+"), "id": f"wamid.bsuid-test-{next(_ids)}", "timestamp": _now(), "type": "system", "system": system}
    return _envelope({"messages": [sent]}, "1099000111")


def status(wamid: str, state: str, *, phone: str | None, bsuid: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {"id": wamid, "status": state, "timestamp": _now()}
    if phone:
        found["recipient_id"] = phone.lstrip("+")
    if bsuid:
        found["recipient_user_id"] = bsuid
    return _envelope({"statuses": [found]}, "1099000111")


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraphAPI, str]]:
    fake = FakeGraphAPI()
    with LocalServer(fake.app()) as server:
        yield fake, server.url


@contextlib.asynccontextmanager
async def _gateway(engine: AsyncEngine, fake: FakeGraphAPI, url: str) -> AsyncIterator[Gateway]:
    previous = crypto.keyring()
    clock = Clock()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        public_base_url="https://rebook.example.test",
        pii_keys="k1:6H+DWopvSssqQdgy0YLsxQYXN/1WbYkLMAJ+frPllYI=",
        blind_index_key="6uvrlivVpcaOnl0L1uxXEm1bI4BiOQ/wZfaKzvXzleQ=",
        ops_api_keys=OPS_KEY,
        whatsapp={
            "phone_number_id": fake.phone_number_id,
            "token": fake.token,
            "app_secret": SECRET,
            "verify_token": "verify-me",
            "api_base": url,
        },
    )
    c = build(settings, clock=clock)
    await c.start()
    try:
        disrupted, alternatives = await _network(c, clock)
        app = create_app(c)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://rebook.example.test") as http:
            yield Gateway(Rig(c, Sandbox(), clock, disrupted, alternatives), fake, http)
    finally:
        await c.aclose()
        crypto.configure(previous)


@pytest.fixture
async def gw(engine: AsyncEngine, graph: tuple[FakeGraphAPI, str]) -> AsyncIterator[Gateway]:
    """On SQLite and on PostgreSQL."""
    async with _gateway(engine, *graph) as g:
        yield g


async def _bsuid_only(gw: Gateway) -> Pax:
    """A passenger the airline knows only by their BSUID (as an import may carry it)."""
    who = await gw.rig.add_pax(("whatsapp",))
    ring = crypto.keyring()
    async with gw.rig.c.db.transaction() as s:
        contact = (await s.scalars(select(ContactPoint).where(ContactPoint.passenger_id == who.passenger_id))).one()
        contact.address, contact.address_hash = None, None
        contact.bsuid, contact.bsuid_hash = BSUID, ring.blind_index(BSUID)
    return who


async def test_a_tap_carrying_only_the_bsuid_books_on_the_conversation_first_seen_with_number_and_bsuid(gw: Gateway) -> None:
    who = await gw.rig.add_pax(("whatsapp",))
    await gw.rig.offered(who)
    assert gw.fake.addressed[-1] == ("to", who.phone.lstrip("+"))

    first = await gw.hook(message(phone=who.phone, bsuid=BSUID, parent=PARENT, username=USERNAME, text="what are my options?"))
    assert first.status_code == 200
    contact = await gw.contact(who)
    assert (contact.address, contact.bsuid, contact.parent_bsuid, contact.username) == (who.phone, BSUID, PARENT, USERNAME)
    assert contact.bsuid_hash == crypto.keyring().blind_index(BSUID)

    conv = await gw.rig.conversation(who)
    choice = (await gw.rig.options(who))[1]
    tapped = await gw.hook(message(phone=None, bsuid=BSUID, token=await gw.tap(who, 2)))
    assert tapped.status_code == 200

    after = await gw.rig.conversation(who)
    assert (after.id, after.status) == (conv.id, "booked")
    assert (choice.flight_ids[0], "HK") in await gw.rig.segments(who)
    # The confirmation goes to the number, which the passenger still has: pywa sends it as `to`.
    assert gw.fake.addressed[-1] == ("to", who.phone.lstrip("+"))


async def test_a_passenger_known_only_by_bsuid_is_written_to_with_recipient(gw: Gateway) -> None:
    who = await _bsuid_only(gw)
    await gw.rig.offered(who)
    assert gw.fake.addressed == [("recipient", BSUID)]
    assert gw.fake.bodies[-1]["recipient_type"] == "individual" and "to" not in gw.fake.bodies[-1]

    await gw.hook(message(phone=None, bsuid=BSUID, text="2"))
    assert (await gw.rig.conversation(who)).status == "booked"
    assert gw.fake.addressed[-1] == ("recipient", BSUID)
    # Delivered statuses name the user by BSUID alone, and still move the delivery rows they concern.
    [offer, *_] = await gw.rig.deliveries(who)
    assert (await gw.hook(status(offer.provider_message_id, "delivered", phone=None, bsuid=BSUID))).status_code == 200
    async with gw.rig.c.db.reading() as s:
        assert (await s.get(Delivery, offer.id)).status == "delivered"  # type: ignore[union-attr]


async def test_a_status_naming_number_and_bsuid_teaches_the_bsuid(gw: Gateway) -> None:
    who = await gw.rig.add_pax(("whatsapp",))
    await gw.rig.offered(who)
    [offer] = await gw.rig.deliveries(who)
    await gw.hook(status(offer.provider_message_id, "delivered", phone=who.phone, bsuid=BSUID))
    assert (await gw.contact(who)).bsuid == BSUID
    await gw.hook(message(phone=None, bsuid=BSUID, text="1"))
    assert (await gw.rig.conversation(who)).status == "booked"


async def test_an_unknown_bsuid_is_acknowledged_counted_and_changes_nothing(gw: Gateway) -> None:
    who = await gw.rig.add_pax(("whatsapp",))
    await gw.rig.offered(who)
    before = {t: rows for t, rows in (await all_rows(gw.rig)).items() if t not in ("processed_events", "inbound_messages")}
    sent = len(gw.fake.requests)

    with captured_logs() as logs:
        response = await gw.hook(message(phone=None, bsuid="GB.99999999999999999999", username="@nobody.here", token=await gw.tap(who, 1)))
    assert response.status_code == 200
    after = {t: rows for t, rows in (await all_rows(gw.rig)).items() if t not in ("processed_events", "inbound_messages")}
    assert after == before
    assert len(gw.fake.requests) == sent
    assert (await gw.rig.conversation(who)).status != "booked"
    counted = gw.rig.c.metrics.unknown_senders.labels("whatsapp", "meta", "bsuid")._value.get()
    assert counted == 1
    assert found_in(logs.getvalue(), ["99999999999999999999", "@nobody.here"]) == []
    assert "inbound message from no known passenger" in logs.getvalue()


async def test_a_number_change_moves_the_passenger_to_the_new_number_and_bsuid(gw: Gateway) -> None:
    who = await gw.rig.add_pax(("whatsapp",))
    await gw.rig.offered(who)
    await gw.hook(message(phone=who.phone, bsuid=BSUID, text="hello"))
    conv = await gw.rig.conversation(who)

    notice = number_changed(old_phone=who.phone, new_phone=NEW_PHONE, new_bsuid=NEW_BSUID)
    assert (await gw.hook(notice)).status_code == 200
    contact = await gw.contact(who)
    assert (contact.address, contact.bsuid) == (NEW_PHONE, NEW_BSUID)
    assert contact.address_hash == crypto.keyring().blind_index(NEW_PHONE)

    # The old identifiers reach nobody now; the new BSUID alone reaches the same conversation.
    await gw.hook(message(phone=None, bsuid=BSUID, token=await gw.tap(who, 1)))
    assert (await gw.rig.conversation(who)).status != "booked"
    await gw.hook(message(phone=None, bsuid=NEW_BSUID, token=await gw.tap(who, 1)))
    after = await gw.rig.conversation(who)
    assert (after.id, after.status) == (conv.id, "booked")
    assert gw.fake.addressed[-1] == ("to", NEW_PHONE.lstrip("+"))

    # Meta retries webhooks: a notice with the same message id is applied once.
    again = number_changed(old_phone=NEW_PHONE, new_phone="+447700900556", new_bsuid="GB.1")
    notice_id = notice["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    again["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = notice_id
    assert (await gw.hook(again)).status_code == 200
    contact = await gw.contact(who)
    assert (contact.address, contact.bsuid) == (NEW_PHONE, NEW_BSUID)


async def test_export_shows_the_bsuid_and_username_and_erasure_leaves_none(gw: Gateway) -> None:
    who = await gw.rig.add_pax(("whatsapp",))
    await gw.rig.offered(who)
    await gw.hook(message(phone=who.phone, bsuid=BSUID, parent=PARENT, username=USERNAME, text="hello"))
    await gw.hook(message(phone=None, bsuid=BSUID, text="1"))
    secrets = [BSUID, PARENT, USERNAME, who.phone]
    assert found_in(dump(readable(await all_rows(gw.rig))), secrets) == secrets

    exported = await gw.http.get(f"/v1/passengers/{who.passenger_id}/export", headers=AUTH)
    assert exported.status_code == 200
    [contact] = exported.json()["tables"]["contact_points"]
    assert (contact["address"], contact["bsuid"], contact["parent_bsuid"], contact["username"]) == (who.phone, BSUID, PARENT, USERNAME)

    erased = await gw.http.delete(f"/v1/passengers/{who.passenger_id}", headers=AUTH)
    assert erased.status_code == 200, erased.text
    rows = readable(await all_rows(gw.rig))
    for table, table_rows in rows.items():
        for row in table_rows:
            assert found_in(dump(row), secrets) == [], f"{table} still holds a WhatsApp identifier"
    # The stored ciphertext and blind indexes are gone with the rows.
    digest = crypto.keyring().blind_index(BSUID)
    assert digest not in dump(await all_rows(gw.rig))


async def test_an_imported_bsuid_only_contact_is_offered_by_recipient(gw: Gateway) -> None:
    f = gw.rig.c
    flight = gw.rig.disrupted  # the booking is on the flight the rig cancels
    record = {
        "locator": "BSU001",
        "passengers": [
            {
                "given_name": "Zelphine",
                "family_name": "Quarrington",
                "language": "en",
                "contacts": [{"channel": "whatsapp", "bsuid": BSUID, "consent": {"service": True, "marketing": False}}],
            }
        ],
        "segments": [{"carrier": flight.carrier, "number": flight.number, "date": flight.service_date.isoformat(), "cabin": "Y", "status": "HK"}],
    }
    async with f.db.transaction() as s:
        await import_bookings(s, parse_bookings([json.dumps(record)]))
    async with f.db.reading() as s:
        contact = (await s.scalars(select(ContactPoint).where(ContactPoint.bsuid_hash == crypto.keyring().blind_index(BSUID)))).one()
        booking = (await s.scalars(select(Segment.booking_id).where(Segment.flight_id == flight.id))).one()
    assert (contact.address, contact.address_hash, contact.bsuid) == (None, None, BSUID)
    await gw.rig.offered(Pax(booking, contact.passenger_id, "", "BSU001"))
    assert gw.fake.addressed == [("recipient", BSUID)]
    async with f.db.reading() as s:
        conv = (await s.scalars(select(Conversation).where(Conversation.booking_id == booking))).one()
    assert conv.first_sent_at is not None
