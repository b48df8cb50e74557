"""Twilio SMS webhooks: verify the signature (fail closed), parse, hand to the sink, ack with TwiML."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from fastapi import APIRouter, HTTPException, Request, Response

from channels.sms import UnsupportedStatus, parse_inbound, parse_status, verify_signature
from conversations.ports import DeliveryReceipt, InboundSink, InboundText

log = logging.getLogger(__name__)

EMPTY_TWIML: Final = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SIGNATURE_HEADER: Final = "X-Twilio-Signature"

Parser = Callable[[dict[str, str]], InboundText | DeliveryReceipt]


def _twiml() -> Response:
    return Response(content=EMPTY_TWIML, media_type="text/xml")


def router(*, sink: InboundSink, auth_token: str, public_base_url: str) -> APIRouter:
    """Routes for inbound SMS and status callbacks; signatures are checked against the PUBLIC URL."""
    base = public_base_url.rstrip("/")
    api = APIRouter()

    async def handle(request: Request, parse: Parser) -> Response:
        async with request.form() as form:
            items = form.multi_items()
        fields = {k: v for k, v in items if isinstance(v, str)}
        url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        # A repeated key or a file part cannot be a Twilio SMS webhook: it fails verification.
        signed = len(fields) == len(items) and verify_signature(
            auth_token, url, fields, request.headers.get(SIGNATURE_HEADER)
        )
        if not signed:
            log.warning("twilio webhook rejected: bad or missing signature on %s", request.url.path)
            raise HTTPException(403, "bad or missing X-Twilio-Signature")
        try:
            event = parse(fields)
        except UnsupportedStatus:
            return _twiml()
        except ValueError as exc:
            # Parser messages name the field, never its value (a phone number, a message).
            log.warning("twilio webhook rejected as malformed: %s", exc)
            raise HTTPException(400, f"malformed Twilio payload: {exc}"[:200]) from None
        await sink.accept([event])
        return _twiml()

    @api.post("/webhooks/twilio/sms")
    async def inbound_sms(request: Request) -> Response:
        return await handle(request, parse_inbound)

    @api.post("/webhooks/twilio/status")
    async def status_callback(request: Request) -> Response:
        return await handle(request, parse_status)

    return api
