"""A local fake of the Telegram Bot API (`POST /bot<token>/<method>`) that refuses what the real one refuses.

It answers sendMessage, answerCallbackQuery, editMessageText, editMessageReplyMarkup and getMe with
Telegram's shapes (`{"ok": true, "result": ...}` / `{"ok": false, "error_code", "description"}`),
enforces the limits a real bot meets (text 1-4096 UTF-16 units, callback_data 1-64 bytes, a callback
query answered once, an edit that changes nothing), knows which chats exist and which blocked the bot,
and can be told to fail (429 with `parameters.retry_after`, 5xx). It also builds the updates Telegram
would post to a webhook for what a user does in the app (start with a deep link, type, tap a button).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TOKEN = "123456789:AAFakeTokenForTheLocalBotApi_0123456"
BOT_ID = 123456789
BOT_USERNAME = "RebookTestBot"


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class Sent:
    """A message the bot sent, as it stands in the chat now (edits change it)."""

    chat: int
    message_id: int
    text: str
    keyboard: list[list[dict[str, Any]]]
    edits: int = 0


class BotApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class FakeBotApi:
    token: str = TOKEN
    #: Chats the bot has never seen (sendMessage: "chat not found").
    unknown_chats: set[int] = field(default_factory=lambda: {12345})
    blocked_chats: set[int] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], Sent] = field(default_factory=dict)
    #: Callback query ids handed out in updates, and those already answered.
    queries: set[str] = field(default_factory=set)
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    _failures: list[BotApiError] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _updates: itertools.count[int] = field(default_factory=lambda: itertools.count(700_000_001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------ scripting

    def fail_next(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        with self._lock:
            self._failures.append(BotApiError(status, description, parameters))

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def last_message(self, chat: int) -> Sent:
        return max((m for m in self.messages.values() if m.chat == chat), key=lambda m: m.message_id)

    # ------------------------------------------------------------ updates a user causes

    def _user(self, chat: int, language: str) -> dict[str, Any]:
        return {"id": chat, "is_bot": False, "first_name": "Passenger", "language_code": language}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"update_id": next(self._updates), **body}

    def text_update(self, chat: int, text: str, *, language: str = "en", chat_type: str = "private") -> dict[str, Any]:
        """The user typed `text` (a deep link's Start button sends `/start <token>`)."""
        message = {
            "message_id": next(self._ids),
            "from": self._user(chat, language),
            "chat": {"id": chat, "type": chat_type, "first_name": "Passenger"},
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self._update({"message": message})

    def tap_update(self, sent: Sent, data: str, *, language: str = "en") -> dict[str, Any]:
        """The user tapped a button of `sent` whose callback_data is `data` (a forged client may send any)."""
        query_id = str(next(self._ids) * 7919)
        with self._lock:
            self.queries.add(query_id)
        message = {
            "message_id": sent.message_id,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Rebook", "username": BOT_USERNAME},
            "chat": {"id": sent.chat, "type": "private", "first_name": "Passenger"},
            "date": int(time.time()),
            "text": sent.text,
            "reply_markup": {"inline_keyboard": sent.keyboard},
        }
        return self._update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self._user(sent.chat, language),
                    "message": message,
                    "chat_instance": "-1",
                    "data": data,
                }
            }
        )

    # ------------------------------------------------------------ the API

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/bot{token}/{method}")
        async def call(token: str, method: str, request: Request) -> JSONResponse:
            params = await _params(request)
            with self._lock:
                self.calls.append(Call(method, params))
                try:
                    if token != self.token:
                        raise BotApiError(401, "Unauthorized")
                    if self._failures:
                        raise self._failures.pop(0)
                    result = self._answer(method, params)
                except BotApiError as err:
                    body: dict[str, Any] = {"ok": False, "error_code": err.status, "description": err.description}
                    if err.parameters:
                        body["parameters"] = err.parameters
                    return JSONResponse(body, status_code=err.status)
            return JSONResponse({"ok": True, "result": result})

        return api

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Rebook", "username": BOT_USERNAME}
        if method == "sendMessage":
            return self._send(params)
        if method == "answerCallbackQuery":
            query = str(params.get("callback_query_id", ""))
            if query not in self.queries or query in self.answered:
                raise BotApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            if len(str(params.get("text") or "")) > 200:
                raise BotApiError(400, "Bad Request: MESSAGE_TOO_LONG")
            self.answered[query] = params
            return True
        if method in ("editMessageText", "editMessageReplyMarkup"):
            return self._edit(method, params)
        raise BotApiError(404, "Not Found: method not found")

    def _chat(self, params: dict[str, Any]) -> int:
        try:
            chat = int(str(params.get("chat_id")))
        except ValueError:
            raise BotApiError(400, "Bad Request: chat not found") from None
        if chat in self.unknown_chats:
            raise BotApiError(400, "Bad Request: chat not found")
        if chat in self.blocked_chats:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _send(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        text = _text(params)
        keyboard = _keyboard(params)
        sent = Sent(chat, next(self._ids), text, keyboard)
        self.messages[(chat, sent.message_id)] = sent
        return _message(sent)

    def _edit(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        sent = self.messages.get((chat, int(params.get("message_id") or 0)))
        if sent is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        text = _text(params) if method == "editMessageText" else sent.text
        keyboard = _keyboard(params)
        if text == sent.text and keyboard == sent.keyboard:
            raise BotApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same",
            )
        sent.text, sent.keyboard, sent.edits = text, keyboard, sent.edits + 1
        return _message(sent)


async def _params(request: Request) -> dict[str, Any]:
    """aiogram posts multipart form data, nested objects as JSON strings; JSON bodies are read too."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _text(params: dict[str, Any]) -> str:
    text = str(params.get("text") or "")
    if not text.strip():
        raise BotApiError(400, "Bad Request: message text is empty")
    if _utf16(text) > 4096:
        raise BotApiError(400, "Bad Request: message is too long")
    return text


def _keyboard(params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    raw = params.get("reply_markup")
    if raw in (None, ""):
        return []
    markup = json.loads(raw) if isinstance(raw, str) else raw
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        raise BotApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if sum(len(row) for row in rows) > 100:
        raise BotApiError(400, "Bad Request: too many inline keyboard buttons")
    for row in rows:
        for button in row:
            if not str(button.get("text") or "").strip():
                raise BotApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return rows


def _message(sent: Sent) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": sent.message_id,
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Rebook", "username": BOT_USERNAME},
        "chat": {"id": sent.chat, "type": "private", "first_name": "Passenger"},
        "date": int(time.time()),
        "text": sent.text,
    }
    if sent.keyboard:
        message["reply_markup"] = {"inline_keyboard": sent.keyboard}
    return message
