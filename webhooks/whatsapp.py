"""WhatsApp Cloud API webhook: challenge on GET; on POST verify the signature before reading anything."""

from __future__ import annotations

import hmac
import json

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from channels.whatsapp import parse_webhook, verify_signature
from conversations.ports import InboundSink

PATH = "/webhooks/whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def load_payload(raw: bytes) -> object:
    """Strict JSON: NaN and Infinity are refused, and nesting past the recursion limit is a ValueError."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        # The decoder recurses per level; 5,000 levels of [ is malformed, not a crash.
        raise ValueError("payload is nested too deeply") from None


def router(*, sink: InboundSink, app_secret: str, verify_token: str) -> APIRouter:
    """Own the route (not pywa's server) so forged or unsigned calls get 401 before any parsing."""
    if not app_secret or not verify_token:
        raise ValueError("WhatsApp webhooks need an app secret and a verify token (fail closed)")
    api = APIRouter()

    @api.get(PATH)
    async def challenge(request: Request) -> Response:
        params = request.query_params
        mode = params.get("hub.mode", "")
        token = params.get("hub.verify_token", "")
        challenge_value = params.get("hub.challenge", "")
        if mode == "subscribe" and challenge_value and _same(token, verify_token):
            return PlainTextResponse(challenge_value)
        return PlainTextResponse("forbidden", status_code=403)

    @api.post(PATH)
    async def receive(request: Request) -> Response:
        raw = await request.body()
        if not verify_signature(app_secret, raw, request.headers.get(SIGNATURE_HEADER)):
            raise HTTPException(401, "invalid signature")
        try:
            events = parse_webhook(load_payload(raw))
        except ValueError as exc:
            # The parser names where the payload went wrong, never a value from it.
            raise HTTPException(400, f"malformed payload: {exc}"[:200]) from None
        await sink.accept(events)
        return JSONResponse({"status": "ok"})

    return api
