"""Telegram end to end: the page's deep link opts a passenger in, the offer follows on Telegram as signed
buttons, a tap books (seat counters move), the callback is answered and the message edited; forged secrets,
forged buttons and forged start tokens change nothing; /stop withdraws consent; a retried update is ignored;
a 429 feeds the pacer. Real aiogram against the local Bot API fake, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

import locales
from channels.sandbox import Sandbox, SandboxChannel
from channels.telegram import TelegramChannel
from consent.models import ConsentEvent, ConsentState
from conversations.engine import Status
from conversations.models import Conversation, OutboxMessage, ProcessedEvent
from conversations.optin import deep_links
from conversations.outbox.pacing import LocalBuckets, Pacer
from conversations.page import links
from gateway.container import Container, build
from gateway.http.app import create_app
from gateway.pacing import channel_pace
from gateway.settings import PacingSettings
from infra import crypto
from rebooking_core.importer import import_bookings, import_schedule
from rebooking_core.models import ContactPoint, Inventory, OfferOption
from tests.e2e.page_browser import small_world
from tests.fakes.server import LocalServer
from tests.fakes.telegram_api import BOT_USERNAME, TOKEN, FakeBotApi
from tests.gateway.conftest import OPS_KEY, World, sandbox_settings

PUBLIC = "https://rebook.example.test"
SECRET = "tg-webhook-secret_Abc123-xyz"
HOOK = "/webhooks/telegram"
CHAT = 5550001
_DEEP_LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)")


@dataclass
class Journey:
    c: Container
    http: httpx.AsyncClient
    bot: FakeBotApi
    box: Sandbox
    world: World

    async def work(self) -> None:
        await self.c.jobs.wait_idle()
        await self.c.dispatcher.drain()

    async def post(self, update: dict[str, Any], *, secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return await self.http.post(HOOK, json=update, headers=headers)

    async def offered(self) -> Conversation:
        """Disrupt the target flight and return the first conversation offered to a passenger."""
        carrier, number, date = self.world.target
        flight = {"carrier": carrier, "number": number, "date": date.isoformat()}
        assert (await self.http.post("/v1/disruptions", json={"flight": flight, "kind": "cancelled"})).status_code == 202
        await self.work()
        async with self.c.db.reading() as s:
            conv = await s.scalar(
                select(Conversation)
                .where(Conversation.status == Status.OFFERED.value, Conversation.passenger_id.is_not(None))
                .order_by(Conversation.id)
                .limit(1)
            )
        assert conv is not None
        return conv

    async def deep_link_from_page(self, conv: Conversation) -> str:
        """The start token the passenger page shows this passenger."""
        async with self.c.db.transaction() as s:
            token = links.mint(s, booking_id=conv.booking_id, disruption_id=conv.disruption_id, now=self.c.clock())
        page = await self.http.get(f"/p/{token}")
        assert page.status_code == 200
        found = _DEEP_LINK.search(page.text)
        assert found is not None, "the page shows no Telegram deep link"
        return found.group(1)

    async def join(self, conv: Conversation) -> dict[str, Any]:
        """The passenger follows the page's link and taps Start; the offer then comes to Telegram."""
        start = self.bot.text_update(CHAT, f"/start {await self.deep_link_from_page(conv)}")
        assert (await self.post(start)).status_code == 200
        await self.work()
        return start

    async def counters(self, option_id: int) -> list[tuple[int, int]]:
        async with self.c.db.reading() as s:
            option = await s.get(OfferOption, option_id)
            assert option is not None
            rows = await s.execute(
                select(Inventory.sold, Inventory.held)
                .where(Inventory.flight_id.in_(option.flight_ids), Inventory.cabin == option.cabin)
                .order_by(Inventory.flight_id)
            )
            return [(sold, held) for sold, held in rows.all()]

    async def count(self, model: Any, *where: Any) -> int:
        async with self.c.db.reading() as s:
            return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture(scope="module")
def world() -> World:
    return small_world()


@pytest.fixture
def bot_api() -> Iterator[tuple[FakeBotApi, str]]:
    fake = FakeBotApi()
    with LocalServer(fake.app()) as server:
        yield fake, server.url


@pytest.fixture
async def journey(engine: AsyncEngine, world: World, bot_api: tuple[FakeBotApi, str]) -> AsyncIterator[Journey]:
    fake, url = bot_api
    previous = crypto.keyring()
    box = Sandbox()
    telegram = {"bot_token": TOKEN, "bot_username": BOT_USERNAME, "webhook_secret": SECRET, "api_base": url}
    settings = sandbox_settings(engine.url.render_as_string(hide_password=False), public_base_url=PUBLIC, telegram=telegram)
    channels = {
        "sms": SandboxChannel("sms", box),
        "telegram": TelegramChannel(bot_token=TOKEN, bot_username=BOT_USERNAME, api_base=url),
    }
    c = build(settings, channels=channels, sandbox=box)
    await c.start()
    try:
        async with c.db.transaction() as s:
            await import_schedule(s, world.schedule)
        async with c.db.transaction() as s:
            await import_bookings(s, world.bookings)
        transport = httpx.ASGITransport(app=create_app(c))
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC, headers={"Authorization": f"Bearer {OPS_KEY}"}) as http:
            yield Journey(c, http, fake, box, world)
    finally:
        await c.aclose()
        crypto.configure(previous)


async def test_deep_link_opt_in_then_one_tap_books_and_the_message_shows_it(journey: Journey) -> None:
    conv = await journey.offered()
    start = await journey.join(conv)

    async with journey.c.db.reading() as s:
        [contact] = list(await s.scalars(select(ContactPoint).where(ContactPoint.channel == "telegram")))
        stored = await s.scalar(text("SELECT address FROM contact_points WHERE channel = 'telegram'"))
        [event] = list(await s.scalars(select(ConsentEvent).where(ConsentEvent.channel == "telegram")))
        state = await s.get(ConsentState, (conv.passenger_id, "telegram", "service"))
    assert (contact.passenger_id, contact.address) == (conv.passenger_id, str(CHAT))
    assert str(CHAT) not in str(stored), "the chat id is stored encrypted"
    assert contact.address_hash == crypto.keyring().blind_index(str(CHAT))
    assert (event.state, event.source, event.evidence) == ("granted", "telegram", f"update:{start['update_id']}")
    assert state is not None and state.state == "granted"

    offer = journey.bot.last_message(CHAT)
    assert offer.keyboard, "the offer came to Telegram with its buttons"
    tapped = offer.keyboard[0][0]
    async with journey.c.db.reading() as s:
        fresh = await s.get(Conversation, conv.id)
        assert fresh is not None and fresh.offer_id is not None and fresh.channel == "telegram"
        first = (await s.scalars(select(OfferOption).where(OfferOption.offer_id == fresh.offer_id, OfferOption.rank == 1))).one()
    before = await journey.counters(first.id)
    seats = fresh.passengers

    tap = journey.bot.tap_update(offer, tapped["callback_data"])
    assert (await journey.post(tap)).status_code == 200

    query = tap["callback_query"]["id"]
    assert query in journey.bot.answered and not journey.bot.answered[query].get("text")
    assert offer.keyboard == [] and offer.text.endswith(f"You chose: {tapped['text']}") and offer.edits == 1
    async with journey.c.db.reading() as s:
        booked = await s.get(Conversation, conv.id)
    assert booked is not None and (booked.status, booked.booked_option_id) == (Status.BOOKED.value, first.id)
    after = await journey.counters(first.id)
    assert [(sold - seats, held + seats) for sold, held in after] == before

    await journey.work()
    confirmation = journey.bot.last_message(CHAT)
    assert confirmation.message_id > offer.message_id and not confirmation.keyboard
    assert "t.me" not in confirmation.text  # no invitation to where they already are

    # Telegram retries an update it thinks failed: the same tap and the same start change nothing.
    outbox = await journey.count(OutboxMessage, OutboxMessage.conversation_id == conv.id)
    assert (await journey.post(tap)).status_code == 200
    assert (await journey.post(start)).status_code == 200
    await journey.work()
    assert await journey.count(OutboxMessage, OutboxMessage.conversation_id == conv.id) == outbox
    assert await journey.count(ConsentEvent, ConsentEvent.channel == "telegram") == 1
    assert await journey.count(ContactPoint, ContactPoint.channel == "telegram") == 1
    assert await journey.counters(first.id) == after


async def test_a_wrong_or_missing_secret_token_is_refused_before_anything(journey: Journey) -> None:
    conv = await journey.offered()
    start = journey.bot.text_update(CHAT, f"/start {await journey.deep_link_from_page(conv)}")
    for secret in ("not-the-secret", None, SECRET[:-1], ""):
        refused = await journey.post(start, secret=secret)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["status"] == 403
    assert await journey.count(ContactPoint, ContactPoint.channel == "telegram") == 0
    assert await journey.count(ConsentEvent, ConsentEvent.channel == "telegram") == 0
    assert await journey.count(ProcessedEvent, ProcessedEvent.provider == "telegram") == 0
    assert journey.bot.calls == []
    # The same update with the right secret still works: a refusal spent nothing.
    assert (await journey.post(start)).status_code == 200
    assert await journey.count(ContactPoint, ContactPoint.channel == "telegram") == 1


async def test_a_forged_button_is_answered_and_books_nothing(journey: Journey) -> None:
    conv = await journey.offered()
    await journey.join(conv)
    offer = journey.bot.last_message(CHAT)
    genuine = offer.keyboard[1][0]["callback_data"]
    token = genuine.rsplit("|", 1)[0]
    async with journey.c.db.reading() as s:
        held = await s.scalar(select(func.sum(Inventory.held)))
    for forged in (f"{token}|AAAAAAAAAAAAAAAA", token, genuine.replace("opt:", "opt:9")):
        tap = journey.bot.tap_update(offer, forged)
        assert (await journey.post(tap)).status_code == 200
        answer = journey.bot.answered[tap["callback_query"]["id"]]
        assert answer["text"].startswith("This button is not valid") and answer["show_alert"] in (True, "true")
    async with journey.c.db.reading() as s:
        still = await s.get(Conversation, conv.id)
        assert still is not None and still.status == Status.OFFERED.value and still.booked_option_id is None
        assert await s.scalar(select(func.sum(Inventory.held))) == held
    assert offer.edits == 0 and offer.keyboard  # the genuine buttons stay


async def test_a_forged_or_expired_start_token_binds_nobody(journey: Journey) -> None:
    conv = await journey.offered()
    assert conv.passenger_id is not None
    good = deep_links.mint(conv.passenger_id, now=journey.c.clock())
    other = deep_links.mint(conv.passenger_id + 1, now=journey.c.clock())
    expired = deep_links.mint(conv.passenger_id, now=journey.c.clock() - dt.timedelta(days=30))
    forged = other.split("-")[0] + "-" + good.split("-", 1)[1]
    for token in (forged, expired, "x" * 40):
        assert (await journey.post(journey.bot.text_update(CHAT, f"/start {token}"))).status_code == 200
    assert await journey.count(ContactPoint, ContactPoint.channel == "telegram") == 0
    assert await journey.count(ConsentEvent, ConsentEvent.channel == "telegram") == 0
    malformed = journey.bot.text_update(CHAT, "/start bad<token>")
    assert (await journey.post(malformed)).status_code == 400


async def test_stop_withdraws_consent_and_is_confirmed_in_the_chat(journey: Journey) -> None:
    conv = await journey.offered()
    await journey.join(conv)
    stop = journey.bot.text_update(CHAT, "/stop")
    assert (await journey.post(stop)).status_code == 200
    await journey.work()
    async with journey.c.db.reading() as s:
        state = await s.get(ConsentState, (conv.passenger_id, "telegram", "service"))
        stopped = await s.get(Conversation, conv.id)
    assert state is not None and state.state == "withdrawn"
    assert stopped is not None and stopped.status == Status.OPTED_OUT.value
    ack = locales.render("keyword.stop", stopped.locale, airline=journey.c.settings.airline_name)
    assert journey.bot.last_message(CHAT).text.startswith(ack)
    sends = len(journey.bot.sent())
    # STOP typed as a word works as on SMS, and nothing more is sent to an opted-out chat.
    assert (await journey.post(journey.bot.text_update(CHAT, "2"))).status_code == 200
    await journey.work()
    assert len(journey.bot.sent()) == sends


async def test_an_sms_confirmation_invites_to_telegram_and_its_link_opts_in(journey: Journey) -> None:
    conv = await journey.offered()
    async with journey.c.db.reading() as s:
        [sms] = list(await s.scalars(select(ContactPoint).where(ContactPoint.passenger_id == conv.passenger_id, ContactPoint.channel == "sms")))
    assert sms.address is not None
    await journey.c.inbound.accept([journey.box.reply("sms", sms.address, "1")])
    await journey.work()
    confirmation = journey.box.inbox("sms", sms.address)[-1]
    found = _DEEP_LINK.search(confirmation.text)
    assert found is not None and confirmation.text.index("t.me") > 0
    assert (await journey.post(journey.bot.text_update(CHAT, f"/start {found.group(1)}"))).status_code == 200
    async with journey.c.db.reading() as s:
        contact = await s.scalar(select(ContactPoint).where(ContactPoint.channel == "telegram"))
    assert contact is not None and contact.passenger_id == conv.passenger_id


async def test_telegrams_429_retry_after_blocks_the_bots_bucket(journey: Journey) -> None:
    settings = journey.c.settings
    pace = channel_pace("telegram", PacingSettings().telegram, settings)
    assert pace.per_sender is not None and pace.per_sender.rate == 30 and pace.per_recipient is not None
    pacer = Pacer({"telegram": pace}, LocalBuckets())
    journey.c.dispatcher.pacer = pacer
    conv = await journey.offered()
    journey.bot.fail_next(429, "Too Many Requests: retry after 30", retry_after=30)
    await journey.join(conv)
    _, blocked = await pacer.store.peek(f"telegram:{BOT_USERNAME}", pace.per_sender)
    assert 20 < blocked <= 30
    async with journey.c.db.reading() as s:
        row = await s.scalar(
            select(OutboxMessage).where(OutboxMessage.conversation_id == conv.id).order_by(OutboxMessage.id.desc()).limit(1)
        )
    assert row is not None and row.status == "pending" and row.last_error == "RateLimited"
    assert row.next_attempt_at >= journey.c.clock() + dt.timedelta(seconds=25)



async def test_the_chat_id_is_exported_and_erased_with_the_passenger(journey: Journey) -> None:
    conv = await journey.offered()
    await journey.join(conv)
    exported = await journey.http.get(f"/v1/passengers/{conv.passenger_id}/export")
    assert exported.status_code == 200
    chats = [c for c in exported.json()["tables"]["contact_points"] if c["channel"] == "telegram"]
    assert [c["address"] for c in chats] == [str(CHAT)]
    assert (await journey.http.delete(f"/v1/passengers/{conv.passenger_id}")).status_code == 200
    assert await journey.count(ContactPoint, ContactPoint.channel == "telegram") == 0
    async with journey.c.db.reading() as s:
        evidence = await s.scalars(select(ConsentEvent.evidence).where(ConsentEvent.channel == "telegram"))
        assert all(e is None for e in evidence)
    # A start token minted before the erasure binds nobody afterwards.
    token = deep_links.mint(conv.passenger_id or 0, now=journey.c.clock())
    assert (await journey.post(journey.bot.text_update(CHAT + 1, f"/start {token}"))).status_code == 200
    assert await journey.count(ContactPoint, ContactPoint.channel == "telegram") == 0


async def test_typed_replies_work_as_on_sms(journey: Journey) -> None:
    conv = await journey.offered()
    await journey.join(conv)
    assert (await journey.post(journey.bot.text_update(CHAT, "agent"))).status_code == 200
    async with journey.c.db.reading() as s:
        waiting = await s.get(Conversation, conv.id)
    assert waiting is not None and waiting.status == Status.ESCALATED.value
    assert (await journey.post(journey.bot.text_update(CHAT, "1"))).status_code == 200
    async with journey.c.db.reading() as s:
        booked = await s.get(Conversation, conv.id)
        first = await s.scalar(select(OfferOption.id).where(OfferOption.offer_id == booked.offer_id, OfferOption.rank == 1)) if booked else None
    assert booked is not None and (booked.status, booked.booked_option_id) == (Status.BOOKED.value, first)
