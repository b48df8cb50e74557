"""Telegram webhook: the secret token checked in constant time first (fail closed), then one update handled.

Telegram does not sign updates; `X-Telegram-Bot-Api-Secret-Token` (setWebhook's `secret_token`) is the only
proof a call is Telegram's. A tap is answered at once (the app spins until `answerCallbackQuery`), then handed
to the engine as a choice, then the tapped message is edited to show it. A button whose data we did not sign is
answered with a refusal and applied nowhere. `/start <token>` binds the chat; every update is idempotent by
its `update_id` (the sinks claim it).
"""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

import locales
from channels.telegram import Tapped, TelegramChannel, parse_update
from conversations.optin.ports import ChatLinked, ChatLinkSink
from conversations.ports import InboundSink, InboundText
from webhooks.whatsapp import load_payload

log = logging.getLogger(__name__)

PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _same(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def router(*, sink: InboundSink, links: ChatLinkSink, bot: TelegramChannel, webhook_secret: str) -> APIRouter:
    """Own the route (aiogram's handler is aiohttp-only) so a wrong or missing secret is refused before parsing."""
    if not webhook_secret:
        raise ValueError("the Telegram webhook needs a secret token (fail closed)")
    api = APIRouter()

    @api.post(PATH)
    async def receive(request: Request) -> Response:
        if not _same(request.headers.get(SECRET_HEADER), webhook_secret):
            log.warning("telegram webhook rejected: bad or missing secret token")
            raise HTTPException(403, f"bad or missing {SECRET_HEADER}")
        raw = await request.body()
        try:
            update = parse_update(load_payload(raw), bot.key)
        except ValueError as exc:
            # The parser names the field, never its value (a chat id, a message).
            raise HTTPException(400, f"malformed update: {exc}"[:200]) from None
        if isinstance(update, Tapped):
            await _tapped(update)
        elif isinstance(update, ChatLinked):
            outcome = await links.link(update)
            log.info("telegram deep link", extra={"outcome": outcome.value})
        elif isinstance(update, InboundText):
            await sink.accept([update])
        return JSONResponse({"ok": True})

    async def _tapped(tap: Tapped) -> None:
        loc = locales.negotiate(tap.language)
        if tap.token is None:
            log.warning("telegram callback refused: callback_data not signed by us")
            await bot.answer_callback(tap.callback_id, locales.render("telegram.invalid_button", loc))
            return
        await bot.answer_callback(tap.callback_id)
        await sink.accept([tap.choice()])
        if tap.message_id is not None:
            chosen = locales.render("telegram.chosen", loc, choice=tap.label) if tap.label else ""
            shown = "\n\n".join(part for part in (tap.text, chosen) if part) or None
            await bot.show_choice(tap.chat, tap.message_id, shown)

    return api
