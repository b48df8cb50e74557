"""Flight-status pushes: `POST /webhooks/flightstatus/{source}`, HMAC-signed, within a replay window, fail closed.

Each source (REBOOK_FLIGHTSTATUS__SOURCES) shares a secret with us. The provider signs the
timestamp and the raw body:

    X-Flightstatus-Timestamp: 1796544720              Unix seconds when it was sent
    X-Flightstatus-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

An unknown source, a source without a secret, a missing or wrong signature and a timestamp outside
the replay window all answer 403, alike (no hint which it was); the signature is compared in
constant time against every secret of the source (two while one is rotated out). A signed body
that is not a status document answers 400; otherwise each status becomes its updates
(`rebooking_core.ingest.flightstatus`), handed to the sink, and the answer (200) counts outcomes.
A replay inside the window carries the same event id or status time: intake applies it once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Final

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from rebooking_core.ingest.flightstatus import MalformedStatus, parse_status, to_updates
from rebooking_core.ingest.ports import UpdateSink

log = logging.getLogger(__name__)

PATH: Final = "/webhooks/flightstatus/{source}"
TIMESTAMP_HEADER: Final = "X-Flightstatus-Timestamp"
SIGNATURE_HEADER: Final = "X-Flightstatus-Signature"
#: Statuses one push may carry (`{"events": [...]}`).
MAX_EVENTS: Final = 100
FORGED: Final = "unknown source, or a missing, wrong or expired signature"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The header value a provider sends (and the tests' fake computes)."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed(secrets: tuple[str, ...], timestamp: str | None, signature: str | None, body: bytes, *, now: dt.datetime, window_s: float) -> bool:
    """True only for a fresh timestamp signed with one of `secrets`; everything else (no secret too) is False."""
    if not secrets or not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    if abs(now.timestamp() - int(timestamp)) > window_s:
        return False
    given = signature.encode()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(sign(secret, timestamp, body).encode(), given)
    return matched


def router(
    *,
    sink: UpdateSink,
    sources: Mapping[str, tuple[str, ...]],
    replay_window_s: float,
    clock: Callable[[], dt.datetime],
) -> APIRouter:
    api = APIRouter()

    @api.post(PATH)
    async def push(source: str, request: Request) -> JSONResponse:
        body = await request.body()
        secrets = sources.get(source, ())
        if not signed(
            secrets,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            now=clock(),
            window_s=replay_window_s,
        ):
            log.warning("flight-status push rejected: bad, missing or expired signature", extra={"source": source[:32]})
            raise HTTPException(403, FORGED)
        try:
            document: Any = json.loads(body)
        except ValueError:
            raise HTTPException(400, "not JSON") from None
        events = document.get("events") if isinstance(document, dict) and "events" in document else [document]
        if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
            raise HTTPException(400, f"events: must be a list of 1-{MAX_EVENTS} status documents")
        try:
            statuses = [parse_status(event) for event in events]
        except MalformedStatus as exc:
            raise HTTPException(400, f"malformed flight status: {exc}"[:200]) from None
        updates = [u for status in statuses for u in to_updates(status, source=f"status:{source}")]
        results = await sink.accept(updates) if updates else []
        return JSONResponse({"statuses": len(statuses), "updates": len(updates), "outcomes": dict(Counter(r.outcome for r in results))})

    return api
