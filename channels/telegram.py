"""Telegram through aiogram 3: one signed inline button per option, answered and edited when tapped.

API: https://core.telegram.org/bots/api (sendMessage, answerCallbackQuery, editMessageText). Setup: create a
bot with @BotFather; set REBOOK_TELEGRAM__BOT_TOKEN, __BOT_USERNAME and __WEBHOOK_SECRET; point the bot's
webhook at `<public base>/webhooks/telegram` with that secret (`setWebhook` `secret_token`). A bot cannot
write first: a passenger opts in through `https://t.me/<bot>?start=<token>` (`conversations.optin`).

`import aiogram` takes ~5 s, so it is imported on the first send, only where Telegram runs.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from conversations.optin.ports import ChatLinked
from conversations.ports import (
    Capabilities,
    ChannelError,
    InboundText,
    InvalidCredentials,
    MessageRejected,
    OptedOut,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
    SendResult,
)

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

PROVIDER: Final = "telegram"
CHANNEL: Final = "telegram"
DEFAULT_API_BASE: Final = "https://api.telegram.org"
#: sendMessage's text limit, counted in UTF-16 code units as Telegram counts it.
MAX_TEXT: Final = 4096
#: Telegram refuses callback_data outside 1-64 bytes (BUTTON_DATA_INVALID).
MAX_CALLBACK_BYTES: Final = 64
MAX_CHOICES: Final = 10
#: Longer button labels are cut by the app anyway; the whole option is in the text above the buttons.
MAX_BUTTON_TITLE: Final = 40
#: base64url characters of the callback MAC kept: 16 characters, 96 bits.
MAC_CHARS: Final = 16
#: Bot commands read as the keywords a passenger could also type (`/stop` is STOP).
COMMANDS: Final[Mapping[str, str]] = {"stop": "STOP", "start": "START", "help": "HELP", "agent": "AGENT", "more": "MORE"}

_CHAT_ID = re.compile(r"[+-]?[0-9]{1,20}")
_COMMAND = re.compile(r"/([A-Za-z]+)(?:@[A-Za-z0-9_]+)?(?:\s+(\S+))?\s*")
_START_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


# ---------------------------------------------------------------- signed buttons


def callback_key(bot_token: str) -> bytes:
    """The key buttons are signed with: whoever holds the bot token could send as the bot anyway."""
    return hashlib.sha256(b"rebook-telegram-callback\0" + bot_token.encode()).digest()


def _mac(key: bytes, token: str) -> str:
    digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:MAC_CHARS]


def sign_callback(key: bytes, token: str) -> str:
    """`<choice token>|<mac>`; a token too long for 64 bytes with its MAC is a programming error."""
    data = f"{token}|{_mac(key, token)}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback_data would be {len(data.encode())} bytes; Telegram takes {MAX_CALLBACK_BYTES}")
    return data


def verify_callback(key: bytes, data: str) -> str | None:
    """The choice token a button carried, or None when the data was not signed by us."""
    token, sep, mac = data.rpartition("|")
    if not sep or not token or not hmac.compare_digest(mac.encode(), _mac(key, token).encode()):
        return None
    return token


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class TelegramView:
    """What the chat shows: the text, and one button per option (label, unsigned choice token)."""

    text: str
    buttons: tuple[tuple[str, str], ...]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units, an ellipsis marking the cut (a character is one or two units)."""
    excess = utf16_len(text) - limit
    if excess <= 0:
        return text
    return text[: max(len(text) - excess - 1, 0)].rstrip() + "…"


def _layout(message: OutboundMessage, body: str, described: bool) -> str:
    options = message.choices[:MAX_CHOICES]
    lines = [body] if body else []
    if options:
        lines.append("")
        for o in options:
            lines.append(f"{o.number}) {o.title}" + (f" — {o.description}" if described and o.description else ""))
        lines.append("")
    notice = f"{message.rights.text}\n{message.rights.link}".strip() if message.rights is not None else ""
    tail = [part for part in ((message.choices_prompt if options else ""), message.footer, notice, message.page_link or "") if part]
    return "\n".join(lines + tail).strip()


def render_telegram(message: OutboundMessage) -> TelegramView:
    """The whole message when it fits 4096; else without descriptions; else with the body cut (the page has it all)."""
    options = message.choices[:MAX_CHOICES]
    text = _layout(message, message.body, True)
    if utf16_len(text) > MAX_TEXT:
        text = _layout(message, message.body, False)
    if utf16_len(text) > MAX_TEXT:
        rest = utf16_len(_layout(message, "", False)) + 1
        text = _layout(message, _cut(message.body, max(MAX_TEXT - rest, 1)), False)
    buttons = tuple((_cut(f"{o.number}) {o.title}", MAX_BUTTON_TITLE), o.token) for o in options)
    return TelegramView(text=_cut(text, MAX_TEXT), buttons=buttons)


# ---------------------------------------------------------------- sending


def map_error(exc: BaseException) -> ChannelError:
    """The one place an aiogram/transport failure becomes a ChannelError."""
    from aiogram import exceptions as tg

    text = f"telegram: {type(exc).__name__}"
    detail = str(getattr(exc, "message", "")).lower()
    if isinstance(exc, tg.TelegramRetryAfter):
        return RateLimited(text, code="429", retry_after=float(exc.retry_after))
    if isinstance(exc, tg.TelegramMigrateToChat):
        return RecipientUnreachable(text, code="migrated")
    if isinstance(exc, tg.TelegramForbiddenError):
        # The user blocked the bot: the chat's way of saying STOP.
        return OptedOut(text, code="blocked") if "blocked" in detail else RecipientUnreachable(text, code="403")
    if isinstance(exc, tg.TelegramBadRequest):
        if "chat not found" in detail or "user not found" in detail:
            return RecipientUnreachable(text, code="chat_not_found")
        return MessageRejected(text, code="400")
    if isinstance(exc, tg.TelegramUnauthorizedError | tg.TelegramNotFound):
        return InvalidCredentials(text, code="401" if isinstance(exc, tg.TelegramUnauthorizedError) else "404")
    if isinstance(exc, tg.TelegramServerError):
        return ProviderUnavailable(text, code="server_error")
    if isinstance(exc, tg.TelegramNetworkError | asyncio.TimeoutError | OSError):
        return ProviderUnavailable(text, code="transport")
    if isinstance(exc, tg.TelegramAPIError) and "too many requests" in detail:
        return RateLimited(text, code="429", retry_after=1.0)
    if isinstance(exc, tg.ClientDecodeError):
        return ProviderUnavailable(text, code="decode")
    return MessageRejected(text, code="error")


def chat_id(to: str) -> int:
    """A chat is a number; anything else cannot be one Telegram knows."""
    value = to.strip()
    if not _CHAT_ID.fullmatch(value):
        raise RecipientUnreachable("not a Telegram chat id", code="chat_not_found")
    return int(value)


class TelegramChannel:
    """Channel adapter for a Telegram bot (Bot API over aiogram's aiohttp session)."""

    name: str = CHANNEL
    provider: str = PROVIDER
    capabilities: Capabilities = Capabilities(
        max_body_chars=MAX_TEXT,
        max_choices=MAX_CHOICES,
        max_buttons=MAX_CHOICES,
        max_button_title=MAX_BUTTON_TITLE,
        max_list_rows=0,
        max_row_title=0,
        max_row_description=0,
        supports_templates=False,
        session_window=None,
        rate_per_second=30.0,  # ~30 messages/s per bot in bulk, ~1/s per chat (pacing defaults)
    )

    def __init__(
        self,
        *,
        bot_token: str,
        bot_username: str = "",
        api_base: str = DEFAULT_API_BASE,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._token = bot_token
        self.bot_username = bot_username
        #: One lane: the bot is the sender Telegram paces.
        self.senders: tuple[str, ...] = (bot_username,) if bot_username else ()
        self._api_base = api_base.rstrip("/")
        self._timeout = timeout_seconds
        self.key = callback_key(bot_token)
        self._bot: Bot | None = None

    def _ensure_bot(self) -> Bot:
        """aiohttp sessions bind to the running loop, and aiogram is slow to import: both on first use."""
        if self._bot is None:
            from aiogram import Bot
            from aiogram.client.session.aiohttp import AiohttpSession
            from aiogram.client.telegram import TelegramAPIServer

            session = AiohttpSession(api=TelegramAPIServer.from_base(self._api_base), timeout=self._timeout)
            self._bot = Bot(self._token, session=session)
        return self._bot

    async def send(self, message: OutboundMessage) -> SendResult:
        """Text with the options as signed inline buttons; every failure raises a ChannelError."""
        from aiogram.exceptions import AiogramError
        from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions

        view = render_telegram(message)
        to = chat_id(message.to)
        markup = (
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text=label, callback_data=sign_callback(self.key, token))]
                    for label, token in view.buttons
                ]
            )
            if view.buttons
            else None
        )
        try:
            sent = await self._ensure_bot().send_message(
                chat_id=to,
                text=view.text,
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except (TimeoutError, AiogramError, OSError) as exc:
            raise map_error(exc) from exc
        return SendResult(provider=PROVIDER, provider_message_id=f"{to}:{sent.message_id}", text=view.text)

    async def answer_callback(self, callback_id: str, text: str | None = None) -> bool:
        """Stop the button's spinner (Telegram wants it within seconds); `text` shows as an alert."""
        from aiogram.exceptions import AiogramError

        try:
            await self._ensure_bot().answer_callback_query(callback_id, text=text, show_alert=bool(text))
        except (TimeoutError, AiogramError, OSError) as exc:
            # A retried update's query is already answered ("query is too old"): nothing to do.
            log.info("telegram callback not answered", extra={"error": type(map_error(exc)).__name__})
            return False
        return True

    async def show_choice(self, chat: str, message_id: int, text: str | None) -> bool:
        """The tapped message shows what was chosen and loses its buttons, so it cannot be tapped again."""
        from aiogram.exceptions import AiogramError
        from aiogram.types import LinkPreviewOptions

        bot = self._ensure_bot()
        try:
            if text:
                await bot.edit_message_text(
                    text=_cut(text, MAX_TEXT),
                    chat_id=chat_id(chat),
                    message_id=message_id,
                    reply_markup=None,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
            else:
                await bot.edit_message_reply_markup(chat_id=chat_id(chat), message_id=message_id, reply_markup=None)
        except (TimeoutError, AiogramError, ChannelError, OSError) as exc:
            # "message is not modified" on a retried update, or a message too old to edit.
            log.info("telegram message not edited", extra={"error": type(exc).__name__})
            return False
        return True

    async def aclose(self) -> None:
        """Close the aiohttp session (unclosed sessions leak sockets and warn)."""
        if self._bot is not None:
            await self._bot.session.close()
        self._bot = None


# ---------------------------------------------------------------- inbound


@dataclass(frozen=True)
class Tapped:
    """A button tap: `token` is the choice it carried, None when its callback_data was not ours (forged)."""

    event_id: str
    callback_id: str
    chat: str
    message_id: int | None
    token: str | None
    label: str
    text: str | None
    language: str | None
    received_at: dt.datetime

    def choice(self) -> InboundText:
        """The tap as the engine reads any channel's choice (only for a token we signed)."""
        return InboundText(
            provider=PROVIDER,
            event_id=self.event_id,
            channel=CHANNEL,
            sender=self.chat,
            text=None,
            choice_token=self.token,
            received_at=self.received_at,
        )


TelegramUpdate = InboundText | ChatLinked | Tapped


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not an object")
    return value


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where} is not an integer")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where} is not a string")
    return value


def _label(message: Mapping[str, Any], data: str) -> str:
    """The label of the button that carried `data`, read from the keyboard Telegram echoes back."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                return str(button.get("text") or "")
    return ""


def parse_update(payload: Any, key: bytes) -> TelegramUpdate | None:
    """An Update as a neutral event; None for kinds we do not act on (edits, group chats, member changes).

    `update_id` is the dedupe key. Raises ValueError, naming the field and never its value, when malformed.
    """
    update = _object(payload, "update")
    event_id = str(_int(update.get("update_id"), "update_id"))
    now = dt.datetime.now(dt.UTC)
    if "callback_query" in update:
        query = _object(update["callback_query"], "callback_query")
        message = _object(query.get("message") or {}, "callback_query.message")
        chat = _object(message.get("chat") or query.get("from"), "callback_query.message.chat")
        data = _str(query.get("data", ""), "callback_query.data")
        sender = _object(query.get("from"), "callback_query.from")
        raw_id = message.get("message_id")
        return Tapped(
            event_id=event_id,
            callback_id=_str(query.get("id"), "callback_query.id"),
            chat=str(_int(chat.get("id"), "callback_query.message.chat.id")),
            message_id=raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None,
            token=verify_callback(key, data),
            label=_label(message, data),
            text=message.get("text") if isinstance(message.get("text"), str) else None,
            language=sender.get("language_code") if isinstance(sender.get("language_code"), str) else None,
            received_at=now,
        )
    if "message" not in update:
        return None
    message = _object(update["message"], "message")
    chat = _object(message.get("chat"), "message.chat")
    if chat.get("type") != "private":
        return None  # a group would put one passenger's rebooking in front of others
    sender = str(_int(chat.get("id"), "message.chat.id"))
    text = message.get("text")
    if not isinstance(text, str):
        return None
    command = _COMMAND.fullmatch(text.strip())
    if command is not None and command.group(1).lower() == "start" and command.group(2):
        token = command.group(2)
        if not _START_TOKEN.fullmatch(token):
            raise ValueError("message.text carries a malformed start parameter")
        return ChatLinked(PROVIDER, event_id, CHANNEL, sender, token, now)
    if command is not None and command.group(1).lower() in COMMANDS:
        text = COMMANDS[command.group(1).lower()]
    return InboundText(
        provider=PROVIDER,
        event_id=event_id,
        channel=CHANNEL,
        sender=sender,
        text=text,
        choice_token=None,
        received_at=now,
    )
