"""SES bounces, complaints and deliveries, delivered by SNS to `POST /webhooks/ses`.

Verify the SNS signature first (fail closed: 403), then parse (400 if malformed), then hand over:
delivery receipts to the inbound sink (a failed one falls back to the next channel), verdicts on
addresses to the address sink. A subscription confirmation is confirmed by fetching its
SubscribeURL, which must be on an allowed SNS host too. Anything else valid is answered 200.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any, Final

import httpx
from fastapi import APIRouter, HTTPException, Request, Response

from channels.email import parse_ses_feedback
from channels.sns import Fetch, Forged, Malformed, Verifier, host_allowed
from conversations.ports import AddressRejected, AddressSink, DeliveryReceipt, InboundSink

log = logging.getLogger(__name__)

PATH: Final = "/webhooks/ses"
#: A certificate or a confirmation answer is small; anything bigger is not SNS.
MAX_FETCH_BYTES: Final = 64 * 1024


async def https_get(url: str) -> bytes:
    """The production fetch: one GET, no redirects (a redirect could leave the allowed host)."""
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
        answer = await client.get(url)
    if answer.status_code != 200 or len(answer.content) > MAX_FETCH_BYTES:
        raise Forged(f"fetching from SNS answered {answer.status_code}")
    return answer.content


def router(
    *,
    sink: InboundSink,
    addresses: AddressSink,
    verifier: Verifier,
    clock: Callable[[], dt.datetime],
    confirm: Fetch = https_get,
) -> APIRouter:
    api = APIRouter()

    @api.post(PATH)
    async def ses(request: Request) -> Response:
        try:
            message: Any = json.loads(await request.body())
        except ValueError:
            raise HTTPException(400, "not JSON") from None
        if not isinstance(message, dict) or not isinstance(message.get("Type"), str):
            raise HTTPException(400, "not an SNS message")
        try:
            await verifier.verify(message, now=clock())
        except Forged as exc:
            log.warning("ses webhook rejected: %s", exc)
            raise HTTPException(403, str(exc)) from None
        except Malformed as exc:
            raise HTTPException(400, str(exc)) from None
        kind = message["Type"]
        if kind == "SubscriptionConfirmation":
            url = str(message.get("SubscribeURL") or "")
            if not host_allowed(url, verifier.cert_hosts):
                raise HTTPException(403, "the SubscribeURL is not on an allowed SNS host")
            try:
                await confirm(url)
            except (Forged, httpx.HTTPError) as exc:
                log.warning("ses subscription not confirmed: %s", type(exc).__name__)
                raise HTTPException(502, "could not confirm the subscription") from None
            log.info("ses webhook: subscription to %s confirmed", message.get("TopicArn"))
            return Response(status_code=200)
        if kind != "Notification":
            return Response(status_code=200)
        try:
            notification = json.loads(str(message.get("Message")))
            events = parse_ses_feedback(notification, str(message["MessageId"]))
        except (ValueError, TypeError, AttributeError) as exc:
            raise HTTPException(400, f"malformed SES notification: {exc}"[:200]) from None
        receipts = [e for e in events if isinstance(e, DeliveryReceipt)]
        verdicts = [e for e in events if isinstance(e, AddressRejected)]
        if receipts:
            await sink.accept(list(receipts))
        if verdicts:
            await addresses.reject(verdicts)
        return Response(status_code=200)

    return api
