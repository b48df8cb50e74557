"""POST /v1/broadcasts and GET /v1/broadcasts/{id}: ops notices to a flight or an airport, with counts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from conversations.broadcasts.broadcaster import broadcast_counts
from conversations.broadcasts.ports import BroadcastCounts, BroadcastRefused, BroadcastRequested
from gateway.http.api import DEPRECATED_BODY_KEY, Wired, require_key
from gateway.http.idempotency import IDEMPOTENT
from gateway.http.inputs import Line, PathId, Text
from gateway.http.problems import responses

router = APIRouter(prefix="/v1", tags=["broadcasts"], responses=responses(401, 403))


class BroadcastIn(BaseModel):
    target: Line = Field(min_length=3, max_length=32, description="LH100, LH100/2026-06-01 or an airport code like FRA")
    message: Text = Field(min_length=1, max_length=1024, description="a broadcast.* catalog key, or free text")
    idempotency_key: Line | None = Field(default=None, max_length=128, description=DEPRECATED_BODY_KEY, json_schema_extra={"deprecated": True})


class BroadcastOut(BaseModel):
    id: int
    target: str
    targeted: int
    sent: int
    skipped_consent: int
    failed: int
    pending: int
    finished: bool


def _out(c: BroadcastCounts) -> BroadcastOut:
    return BroadcastOut(
        id=c.broadcast_id,
        target=c.target,
        targeted=c.targeted,
        sent=c.sent,
        skipped_consent=c.skipped_consent,
        failed=c.failed,
        pending=c.pending,
        finished=c.finished,
    )


@router.post("/broadcasts", status_code=status.HTTP_202_ACCEPTED, response_model=BroadcastOut,
             dependencies=[Depends(require_key), IDEMPOTENT], responses=responses(409, 503))
async def post_broadcast(body: BroadcastIn, c: Wired) -> BroadcastOut:
    request = BroadcastRequested(
        target=body.target, message=body.message, requested_by="api", idempotency_key=body.idempotency_key
    )
    try:
        if c.desk is None:
            raise HTTPException(503, "broadcasts are not wired")
        broadcast_id = await c.desk.broadcaster.start(request)
    except BroadcastRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    counts = await broadcast_counts(c.db, broadcast_id)
    if counts is None:
        raise HTTPException(500, "broadcast vanished")
    return _out(counts)


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastOut, dependencies=[Depends(require_key)], responses=responses(404))
async def get_broadcast(broadcast_id: PathId, c: Wired) -> BroadcastOut:
    counts = await broadcast_counts(c.db, broadcast_id)
    if counts is None:
        raise HTTPException(404, f"no broadcast {broadcast_id}")
    return _out(counts)
