"""Compensation claims over the ops API: a page of claims (or every one as CSV), filtered by disruption, status and regime."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Select, select

from gateway.auth import OPS
from gateway.container import Container
from gateway.http.api import Wired, require_scope
from gateway.http.inputs import QueryId
from gateway.http.pagination import Page, PageRequest, Paging
from gateway.http.problems import responses
from rebooking_core.models import Claim

router = APIRouter(prefix="/v1", dependencies=[Depends(require_scope(OPS))], tags=["claims"], responses=responses(401, 403))

ClaimState = Literal["owed", "not_owed", "paid", "disputed"]
Regime = Literal["eu261", "uk261", "appr", "none"]
#: The CSV's columns, in order (also the JSON item's fields).
COLUMNS = ("id", "disruption_id", "passenger_id", "booking_id", "status", "regime", "amount", "currency", "reason", "basis", "created_at", "updated_at")
#: Rows read per query while a CSV streams.
CSV_BATCH = 1000


class ClaimOut(BaseModel):
    """One passenger's claim for one disruption; passenger and booking are null once the passenger was erased."""

    id: int
    disruption_id: int
    passenger_id: int | None
    booking_id: int | None
    status: ClaimState
    regime: Regime
    amount: int
    currency: str
    reason: str
    basis: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ClaimPage(Page[ClaimOut]):
    """A page of claims, oldest first."""


def _filtered(disruption: int | None, status: str | None, regime: str | None) -> Select[tuple[Claim]]:
    query = select(Claim)
    if disruption is not None:
        query = query.where(Claim.disruption_id == disruption)
    if status is not None:
        query = query.where(Claim.status == status)
    if regime is not None:
        query = query.where(Claim.regime == regime)
    return query


def _out(claim: Claim) -> ClaimOut:
    return ClaimOut.model_validate({name: getattr(claim, name) for name in COLUMNS})


@router.get(
    "/claims",
    response_model=ClaimPage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "A page of claims, or all of them as CSV"}, **responses(422)},
)
async def list_claims(
    c: Wired,
    paging: PageRequest,
    disruption: Annotated[QueryId, Query(description="Only this disruption's claims.")] = None,
    status: Annotated[ClaimState | None, Query()] = None,
    regime: Annotated[Regime | None, Query()] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="csv: every matching claim as CSV (as `Accept: text/csv`).")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> ClaimPage | StreamingResponse:
    """Oldest first, filters combined; `?format=csv` or `Accept: text/csv` streams every matching claim, unpaged."""
    query = _filtered(disruption, status, regime)
    if format == "csv" or (format is None and accept is not None and "text/csv" in accept):
        return StreamingResponse(
            _csv(c, query),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="claims.csv"'},
        )
    async with c.db.reading() as s:
        rows = list((await s.scalars(paging.keyset(query, Claim.id))).all())
    shown, next_cursor = paging.cut(rows, lambda claim: (claim.id,))
    return ClaimPage(items=[_out(claim) for claim in shown], next_cursor=next_cursor)


async def _csv(c: Container, query: Select[tuple[Claim]]) -> AsyncIterator[str]:
    """The header, then the claims in id order, a batch per short read."""
    yield _line(COLUMNS)
    paging = Paging(after=None, limit=CSV_BATCH)
    while True:
        async with c.db.reading() as s:
            rows = list((await s.scalars(paging.keyset(query, Claim.id))).all())
        shown, _ = paging.cut(rows, lambda claim: (claim.id,))
        for claim in shown:
            yield _line([_cell(getattr(claim, name)) for name in COLUMNS])
        if len(rows) <= CSV_BATCH:
            return
        paging = Paging(after=(shown[-1].id,), limit=CSV_BATCH)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def _line(values: tuple[str, ...] | list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()
