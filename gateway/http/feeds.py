"""IATA ops feeds over HTTP: `POST /v1/feeds/mvt` and `/v1/feeds/asm` (text/plain, a key with the `feeds` scope).

A body holds one or more messages (Type B envelopes optional). A malformed one refuses the whole
body with 422 naming the line and field, before anything is applied; otherwise each update goes to
its flight's story in order (`StoryIntake`) and the answer lists what became of each: applied,
unchanged, stale, duplicate (the same message posted again changes nothing), or refused
(unknown_flight, invalid). A body that gave exactly one update answers a refusal as its problem
(404 unknown flight, 422 invalid) so that a one-message integration sees it as an error.
The flight-status webhook's router is built here too, from REBOOK_FLIGHTSTATUS__SOURCES.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from gateway.auth import FEEDS
from gateway.container import Container
from gateway.http.api import Wired, require_scope
from gateway.http.idempotency import IDEMPOTENT
from gateway.http.problems import FieldError, problem, responses
from gateway.worker.flightstatus import StoryIntake
from rebooking_core.flight_updates import FlightUpdate
from rebooking_core.ingest import asm, mvt
from rebooking_core.ingest.ports import FeedResult
from rebooking_core.ingest.typeb import MalformedMessage
from webhooks import flightstatus as flightstatus_hooks

#: Messages one request may carry: each update is its own transaction, and the caller waits for all.
MAX_MESSAGES: Final = 500

TEXT_BODY: Final[dict[str, Any]] = {
    "requestBody": {"required": True, "content": {"text/plain": {"schema": {"type": "string", "example": "MVT\nRB391/06.GREBA.LHR\nED061130\nDL93/0045\n"}}}}
}


class FeedOutcome(BaseModel):
    message_id: str
    flight: str
    kind: str
    outcome: str
    disruption_id: int | None = None
    detail: str | None = None


class FeedAnswer(BaseModel):
    #: Messages (ASM: flight dates of sub-messages) read, and how many of them gave no update.
    messages: int
    ignored: int
    updates: list[FeedOutcome]


router = APIRouter(prefix="/v1/feeds", dependencies=[Depends(require_scope(FEEDS))], tags=["feeds"], responses=responses(401, 403))


@router.post("/mvt", response_model=FeedAnswer, responses=responses(404, 409, 415), openapi_extra=TEXT_BODY, dependencies=[IDEMPOTENT])
async def post_mvt(request: Request, c: Wired) -> FeedAnswer | Response:
    """AHM 780 MVT/MVA and AHM 781 DIV messages."""
    return await _ingest(request, c, _read_mvt)


@router.post("/asm", response_model=FeedAnswer, responses=responses(404, 409, 415), openapi_extra=TEXT_BODY, dependencies=[IDEMPOTENT])
async def post_asm(request: Request, c: Wired) -> FeedAnswer | Response:
    """SSIM chapter 5 ASM messages (CNL, TIM, EQT, RIN, RPL; NEW ignored)."""
    return await _ingest(request, c, _read_asm)


#: (messages read, how many gave no update, the updates)
Read = tuple[int, int, list[FlightUpdate]]
Reader = Callable[[str, dt.datetime], Read]


def _read_mvt(text: str, received: dt.datetime) -> Read:
    per_message = [mvt.to_update(m) for m in mvt.read(text, received=received)]
    return len(per_message), per_message.count(None), [u for u in per_message if u is not None]


def _read_asm(text: str, received: dt.datetime) -> Read:
    per_change = [asm.to_updates(change) for change in asm.read(text, received=received)]
    return len(per_change), sum(1 for u in per_change if not u), [u for updates in per_change for u in updates]


READERS: Final[dict[str, Reader]] = {"mvt": _read_mvt, "asm": _read_asm}


async def _ingest(request: Request, c: Container, read: Reader) -> FeedAnswer | Response:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "text/plain":
        raise HTTPException(415, "send the messages as text/plain")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "the body is not UTF-8 text") from None
    try:
        messages, ignored, updates = read(text, c.clock())
    except MalformedMessage as exc:
        return problem(422, str(exc), errors=[FieldError(loc=["body", f"line {exc.line}", exc.field], msg=exc.detail[:200], type="malformed_message")])
    if messages > MAX_MESSAGES:
        raise HTTPException(422, f"at most {MAX_MESSAGES} messages per request; this body holds {messages}")
    results = await StoryIntake(c).accept(updates)
    if len(results) == 1 and results[0].refused:
        only = results[0]
        raise HTTPException(404 if only.outcome == "unknown_flight" else 422, only.detail or only.outcome)
    return FeedAnswer(messages=messages, ignored=ignored, updates=[_outcome(r) for r in results])


def _outcome(r: FeedResult) -> FeedOutcome:
    f = r.update.flight
    return FeedOutcome(
        message_id=r.update.message_id,
        flight=f"{f.carrier}{f.number}/{f.date.isoformat()}",
        kind=r.update.kind.value,
        outcome=r.outcome,
        disruption_id=r.disruption_id,
        detail=r.detail,
    )


def flightstatus_router(c: Container) -> APIRouter:
    """`POST /webhooks/flightstatus/{source}` for the sources in REBOOK_FLIGHTSTATUS__SOURCES."""
    settings = c.settings.flightstatus
    return flightstatus_hooks.router(
        sink=StoryIntake(c),
        sources={name: source.secrets for name, source in settings.sources.items()},
        replay_window_s=settings.replay_window_s,
        clock=c.clock,
    )

