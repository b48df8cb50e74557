"""The Telegram adapter through the real aiogram Bot against a local fake of the Bot API."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from channels.registry import CHANNELS, Wiring
from channels.telegram import (
    MAX_CALLBACK_BYTES,
    MAX_TEXT,
    Tapped,
    TelegramChannel,
    callback_key,
    parse_update,
    render_telegram,
    sign_callback,
    utf16_len,
    verify_callback,
)
from conversations.optin.ports import ChatLinked
from conversations.ports import (
    ChoiceView,
    InboundText,
    MessageRejected,
    OptedOut,
    OutboundMessage,
    RateLimited,
)
from tests.fakes.server import LocalServer
from tests.fakes.telegram_api import BOT_USERNAME, TOKEN, FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
CHAT = 424242
KEY = callback_key(TOKEN)


def offer(**overrides: object) -> OutboundMessage:
    values: dict[str, object] = {
        "idempotency_key": "tg-1",
        "to": str(CHAT),
        "locale": "en",
        "body": "Rebook Air: flight RB123 to Lisbon is cancelled.",
        "choices": tuple(
            ChoiceView(token=f"opt:{9_000_000_000 + n}:{9_000_000_100 + n}", number=n, title=f"1{n}:40 RB12{n}", description="Arrives 18:05")
            for n in (1, 2, 3)
        ),
        "choices_prompt": "Tap an option to rebook.",
        "footer": "Seats held until 14:05.",
        "page_link": "https://rebook.example.test/p/AbCdEfGhIjKlMnOpQrStUv",
    }
    values.update(overrides)
    return OutboundMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[tuple[FakeBotApi, str]]:
    api = FakeBotApi()
    with LocalServer(api.app()) as server:
        yield api, server.url


@pytest.fixture
async def bot(fake: tuple[FakeBotApi, str]) -> AsyncIterator[TelegramChannel]:
    channel = TelegramChannel(bot_token=TOKEN, bot_username=BOT_USERNAME, api_base=fake[1])
    yield channel
    await channel.aclose()


async def test_one_signed_button_per_option_and_the_page_linked(fake: tuple[FakeBotApi, str], bot: TelegramChannel) -> None:
    api, _ = fake
    result = await bot.send(offer())
    sent = api.last_message(CHAT)
    assert result.provider_message_id == f"{CHAT}:{sent.message_id}"
    assert [[b["text"] for b in row] for row in sent.keyboard] == [["1) 11:40 RB121"], ["2) 12:40 RB122"], ["3) 13:40 RB123"]]
    datas = [row[0]["callback_data"] for row in sent.keyboard]
    assert all(len(d.encode()) <= MAX_CALLBACK_BYTES for d in datas)
    assert [verify_callback(KEY, d) for d in datas] == [c.token for c in offer().choices]
    assert sent.text.startswith("Rebook Air: flight RB123") and sent.text.endswith("https://rebook.example.test/p/AbCdEfGhIjKlMnOpQrStUv")
    assert "1) 11:40 RB121 — Arrives 18:05" in sent.text
    assert json.loads(api.sent()[-1]["link_preview_options"]) == {"is_disabled": True}


def test_callback_data_is_refused_when_tampered_or_signed_with_another_key() -> None:
    data = sign_callback(KEY, "opt:1:2")
    assert verify_callback(KEY, data) == "opt:1:2"
    assert verify_callback(KEY, data.replace("opt:1:2", "opt:1:3")) is None
    assert verify_callback(callback_key("999:other-bot"), data) is None
    assert verify_callback(KEY, "opt:1:2") is None
    # The largest ids a BIGINT holds still fit Telegram's 64 bytes with their MAC.
    biggest = f"opt:{2**63 - 1}:{2**63 - 1}"
    assert len(sign_callback(KEY, biggest).encode()) <= MAX_CALLBACK_BYTES
    with pytest.raises(ValueError):
        sign_callback(KEY, "opt:" + "9" * 60)


async def test_the_fake_refuses_a_65_byte_callback_data_as_telegram_does(fake: tuple[FakeBotApi, str], bot: TelegramChannel) -> None:
    from aiogram.exceptions import TelegramBadRequest
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    from channels.telegram import map_error

    api, _ = fake
    telegram = bot._ensure_bot()
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="1", callback_data="x" * 65)]])
    with pytest.raises(TelegramBadRequest) as info:
        await telegram.send_message(chat_id=CHAT, text="hi", reply_markup=markup)
    assert "BUTTON_DATA_INVALID" in info.value.message
    assert isinstance(map_error(info.value), MessageRejected)
    sixty_four = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="1", callback_data="x" * 64)]])
    await telegram.send_message(chat_id=CHAT, text="hi", reply_markup=sixty_four)
    assert len(api.messages) == 1


async def test_429_carries_telegrams_retry_after(fake: tuple[FakeBotApi, str], bot: TelegramChannel) -> None:
    fake[0].fail_next(429, "Too Many Requests: retry after 23", retry_after=23)
    with pytest.raises(RateLimited) as info:
        await bot.send(offer())
    assert (info.value.retry_after, info.value.code) == (23.0, "429")


async def test_a_chat_that_blocked_the_bot_is_an_opt_out(fake: tuple[FakeBotApi, str], bot: TelegramChannel) -> None:
    fake[0].blocked_chats.add(CHAT)
    with pytest.raises(OptedOut) as info:
        await bot.send(offer())
    assert info.value.code == "blocked"


async def test_a_tap_is_answered_once_and_the_message_shows_the_choice(fake: tuple[FakeBotApi, str], bot: TelegramChannel) -> None:
    api, _ = fake
    await bot.send(offer())
    sent = api.last_message(CHAT)
    update = api.tap_update(sent, sent.keyboard[1][0]["callback_data"])
    tap = parse_update(update, bot.key)
    assert isinstance(tap, Tapped) and tap.token == offer().choices[1].token and tap.label == "2) 12:40 RB122"
    assert await bot.answer_callback(tap.callback_id)
    assert not await bot.answer_callback(tap.callback_id)  # Telegram: "query is too old"
    assert tap.message_id is not None
    assert await bot.show_choice(tap.chat, tap.message_id, f"{tap.text}\n\nYou chose: {tap.label}")
    assert not await bot.show_choice(tap.chat, tap.message_id, f"{tap.text}\n\nYou chose: {tap.label}")  # not modified
    assert sent.keyboard == [] and sent.text.endswith("You chose: 2) 12:40 RB122") and sent.edits == 1


def test_updates_become_neutral_events() -> None:
    api = FakeBotApi()
    start = parse_update(api.text_update(CHAT, "/start 3f-1abcde-" + "0" * 32), KEY)
    assert isinstance(start, ChatLinked) and (start.sender, start.token) == (str(CHAT), "3f-1abcde-" + "0" * 32)
    stop = parse_update(api.text_update(CHAT, "/stop"), KEY)
    assert isinstance(stop, InboundText) and (stop.text, stop.sender, stop.channel) == ("STOP", str(CHAT), "telegram")
    assert isinstance(bare := parse_update(api.text_update(CHAT, "/start"), KEY), InboundText) and bare.text == "START"
    typed = parse_update(api.text_update(CHAT, "2"), KEY)
    assert isinstance(typed, InboundText) and typed.text == "2" and typed.choice_token is None
    assert parse_update(api.text_update(-100777, "/start " + "a" * 20, chat_type="group"), KEY) is None
    assert parse_update({"update_id": 5, "edited_message": {}}, KEY) is None
    with pytest.raises(ValueError, match="update_id"):
        parse_update({"update_id": "5"}, KEY)
    with pytest.raises(ValueError, match="start parameter"):
        parse_update(api.text_update(CHAT, "/start <script>"), KEY)


def test_a_forged_callback_is_parsed_without_a_token() -> None:
    api = FakeBotApi()
    from tests.fakes.telegram_api import Sent

    sent = Sent(CHAT, 7, "offer", [[{"text": "1) 10:40", "callback_data": "opt:1:2|AAAAAAAAAAAAAAAA"}]])
    tap = parse_update(api.tap_update(sent, "opt:1:2|AAAAAAAAAAAAAAAA"), KEY)
    assert isinstance(tap, Tapped) and tap.token is None


def test_a_long_message_fits_4096_utf16_units_and_keeps_every_button() -> None:
    body = "Vuelo cancelado 😞. " * 400
    choices = tuple(ChoiceView(f"opt:1:{n}", n, f"{n}:00 IB{n} " + "x" * 80, "d" * 300) for n in range(1, 13))
    view = render_telegram(offer(body=body, choices=choices))
    assert utf16_len(view.text) <= MAX_TEXT and view.text.endswith("https://rebook.example.test/p/AbCdEfGhIjKlMnOpQrStUv")
    assert len(view.buttons) == 10 and all(len(label) <= 40 for label, _ in view.buttons)


def test_the_registry_builds_it_only_with_its_three_settings() -> None:
    [entry] = [e for e in CHANNELS if e.name == "telegram"]
    from gateway.settings import TelegramSettings

    section = TelegramSettings(bot_token=TOKEN, bot_username=BOT_USERNAME, webhook_secret="s3cret_-", api_base="http://127.0.0.1:9")  # type: ignore[arg-type]
    assert section.enabled and not TelegramSettings(bot_token=TOKEN, bot_username=BOT_USERNAME).enabled  # type: ignore[arg-type]
    built = entry.build(section, Wiring(public_base_url="https://rebook.example.test"))
    assert isinstance(built, TelegramChannel) and built.senders == (BOT_USERNAME,)
    with pytest.raises(ValueError):
        TelegramSettings(webhook_secret="has spaces")  # type: ignore[arg-type]


def test_importing_the_adapter_does_not_import_aiogram() -> None:
    """aiogram takes seconds to import: only a send (where Telegram runs) pays for it."""
    code = "import sys, channels.registry, gateway.http.app; print('aiogram' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_deep_link_start_tokens_fit_telegram_and_refuse_tampering() -> None:
    from conversations.optin import deep_links
    from infra import crypto

    previous = crypto.keyring() if crypto._keyring is not None else None
    crypto.configure(crypto.Keyring.from_secrets([("k1", "p" * 43)], "b" * 43))
    try:
        now = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
        token = deep_links.mint(2**63 - 1, now=now)
        assert len(token) <= 64 and deep_links.read(token, now=now) == 2**63 - 1
        assert deep_links.read(token, now=now + dt.timedelta(days=15)) is None  # expired
        other = deep_links.mint(7, now=now)
        forged = other.split("-")[0] + "-" + token.split("-", 1)[1]
        assert deep_links.read(forged, now=now) is None
        assert deep_links.telegram_url("RebookAirBot", other) == f"https://t.me/RebookAirBot?start={other}"
    finally:
        if previous is not None:
            crypto.configure(previous)
