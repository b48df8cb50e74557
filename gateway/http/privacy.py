"""Data-subject endpoints: consent read/write, export (Art. 20) and erasure (Art. 17), each with its scope."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from consent import ledger, privacy
from consent.models import ConsentEvent, ConsentState
from conversations import idempotent_answers
from gateway.auth import CONSENT_READ, CONSENT_WRITE, DSR_ERASE, DSR_EXPORT, ApiKey
from gateway.http.api import Wired, authenticate, require_scope
from gateway.http.inputs import Line, PathId
from gateway.http.lookups import Email, Locator, Phone
from gateway.http.pagination import Page, PageRequest
from gateway.http.problems import responses
from infra import redis_erasure
from infra.orm import Base
from rebooking_core.lookup import BadLookup, passengers_matching
from rebooking_core.models import Booking, Passenger
from rebooking_core.types import ChannelName

Channel = Literal["whatsapp", "sms", "push", "email", "telegram"]
Purpose = Literal["service", "marketing"]
Reason = Annotated[Line | None, Query(max_length=160, description="why (recorded in the audit log)")]

router = APIRouter(prefix="/v1", tags=["privacy"], responses=responses(401, 403, 404))


class ConsentNow(BaseModel):
    channel: str
    purpose: str
    state: str
    updated_at: dt.datetime


class ConsentChange(BaseModel):
    channel: str
    purpose: str
    state: str
    source: str
    evidence: str | None
    legal_basis: str
    at: dt.datetime


class ConsentOut(BaseModel):
    passenger_id: int
    current: list[ConsentNow]
    history: list[ConsentChange]


class ConsentIn(BaseModel):
    state: Literal["granted", "withdrawn"]
    legal_basis: Line = Field(default="consent", max_length=24)
    reason: Line | None = Field(default=None, max_length=160)


class ConsentWritten(BaseModel):
    passenger_id: int
    channel: str
    purpose: str
    state: str
    changed: bool


class ExportBundle(BaseModel):
    """Everything held about a passenger: `tables` maps each personal table to its rows (see the export schema)."""

    format: str
    version: int
    passenger_id: int
    generated_at: str = Field(description="ISO 8601 date-time")
    tables: dict[str, list[dict[str, Any]]]


class TableErased(BaseModel):
    table: str
    action: str
    rows: int
    columns: list[str]


class Redacted(BaseModel):
    """Rows whose copy in another store (Slack) the desk redacts after the erasure commits."""

    store: str
    table: str
    rows: int


class ErasureReceipt(BaseModel):
    """What erasure changed where; `stores` counts entries removed outside the database (Redis)."""

    passenger_id: int
    erased_at: str = Field(description="ISO 8601 date-time")
    already_erased: bool
    tables: list[TableErased]
    stores: dict[str, int]
    redactions: list[Redacted]


def _actor(key: ApiKey) -> str:
    return f"ops_api:{key.key_id}"


async def _passenger(s: Any, passenger_id: int) -> Passenger:
    pax = await s.get(Passenger, passenger_id)
    if pax is None:
        raise HTTPException(404, f"no passenger {passenger_id}")
    return pax  # type: ignore[no-any-return]


@router.get("/passengers/{passenger_id}/consent", response_model=ConsentOut)
async def get_consent(
    passenger_id: PathId, c: Wired, key: Annotated[ApiKey, Depends(require_scope(CONSENT_READ))]
) -> ConsentOut:
    async with c.db.reading() as s:
        await _passenger(s, passenger_id)
        now = (
            await s.scalars(
                select(ConsentState)
                .where(ConsentState.passenger_id == passenger_id)
                .order_by(ConsentState.channel, ConsentState.purpose)
            )
        ).all()
        history = (
            await s.scalars(
                select(ConsentEvent).where(ConsentEvent.passenger_id == passenger_id).order_by(ConsentEvent.at, ConsentEvent.id)
            )
        ).all()
    return ConsentOut(
        passenger_id=passenger_id,
        current=[ConsentNow(channel=r.channel, purpose=r.purpose, state=r.state, updated_at=r.updated_at) for r in now],
        history=[
            ConsentChange(
                channel=e.channel,
                purpose=e.purpose,
                state=e.state,
                source=e.source,
                evidence=e.evidence,
                legal_basis=e.legal_basis,
                at=e.at,
            )
            for e in history
        ],
    )


@router.put("/passengers/{passenger_id}/consent/{channel}/{purpose}", response_model=ConsentWritten, responses=responses(409))
async def put_consent(
    passenger_id: PathId,
    channel: Channel,
    purpose: Purpose,
    body: ConsentIn,
    c: Wired,
    key: Annotated[ApiKey, Depends(require_scope(CONSENT_WRITE))],
) -> ConsentWritten:
    async with c.db.transaction() as s:
        pax = await _passenger(s, passenger_id)
        if pax.erased_at is not None and body.state == "granted":
            raise HTTPException(409, f"passenger {passenger_id} was erased; consent cannot be granted")
        changed = await ledger.record(
            s,
            passenger_id=passenger_id,
            channel=ChannelName(channel).value,
            purpose=purpose,
            granted=body.state == "granted",
            source="ops_api",
            evidence=key.key_id,
            legal_basis=body.legal_basis,
            actor=_actor(key),
            reason=body.reason,
            at=c.clock(),
        )
    if changed:
        c.wake()
    return ConsentWritten(passenger_id=passenger_id, channel=channel, purpose=purpose, state=body.state, changed=changed)


@router.get("/passengers/{passenger_id}/export", response_model=ExportBundle)
async def export_passenger(
    passenger_id: PathId, c: Wired, key: Annotated[ApiKey, Depends(require_scope(DSR_EXPORT))], reason: Reason = None
) -> dict[str, Any]:
    """Everything held about the passenger, as JSON matching `GET /v1/privacy/export-schema`."""
    async with c.db.transaction() as s:
        bundle = await privacy.export(s, Base.metadata, passenger_id, at=c.clock(), actor=_actor(key), reason=reason)
    if bundle is None:
        raise HTTPException(404, f"no passenger {passenger_id}")
    return bundle


@router.get("/privacy/export-schema", response_model=dict[str, Any], response_description="the JSON Schema of the export bundle")
async def export_schema(key: Annotated[ApiKey, Depends(require_scope(DSR_EXPORT))]) -> dict[str, Any]:
    return privacy.export_schema(Base.metadata)


@router.delete("/passengers/{passenger_id}", response_model=ErasureReceipt)
async def erase_passenger(
    passenger_id: PathId, c: Wired, key: Annotated[ApiKey, Depends(require_scope(DSR_ERASE))], reason: Reason = None
) -> dict[str, Any]:
    """Erase the passenger everywhere; the receipt lists what changed where. Repeating it is harmless."""
    async with c.db.transaction() as s:
        held = await privacy.collect(s, Base.metadata, passenger_id)
        if held is None:
            raise HTTPException(404, f"no passenger {passenger_id}")
        stores: dict[str, int] = {}
        if c.settings.redis_url:
            # Before the database forgets the identifiers that Redis entries are found by.
            stores["redis"] = await redis_erasure.scrub(
                c.settings.redis_url, passenger_id=passenger_id, identifiers=held.identifiers()
            )
        erased = await privacy.erase(s, Base.metadata, passenger_id, at=c.clock(), actor=_actor(key), reason=reason)
        # Answers kept for Idempotency-Keys may quote the passenger and name nobody: all go.
        forgotten = await idempotent_answers.forget_all(s)
    if erased is None:
        raise HTTPException(404, f"no passenger {passenger_id}")
    receipt, _ = erased
    body = receipt.as_json()
    body["stores"] = stores
    if forgotten:
        body["tables"].append({"table": "idempotent_answers", "action": "deleted", "rows": forgotten, "columns": []})
    return body


#: Any data-subject scope may find whom a request is about; what it may then do stays with its own scope.
LOOKUP_SCOPES = frozenset({CONSENT_READ, CONSENT_WRITE, DSR_EXPORT, DSR_ERASE})


def require_privacy_scope(key: Annotated[ApiKey, Depends(authenticate)]) -> ApiKey:
    if not key.scopes & LOOKUP_SCOPES:
        raise HTTPException(403, f"this API key lacks a data-subject scope ({', '.join(sorted(LOOKUP_SCOPES))})")
    return key


class PassengerFound(BaseModel):
    """Who matched: ids to export, erase or ask consent for (no name or address)."""

    passenger_id: int
    booking_id: int
    locator: str
    erased: bool


class PassengerPage(Page[PassengerFound]):
    """Passengers matching every criterion given, by id."""


@router.get("/passengers", response_model=PassengerPage, responses=responses(422))
async def find_passengers(
    c: Wired,
    key: Annotated[ApiKey, Depends(require_privacy_scope)],
    paging: PageRequest,
    locator: Locator = None,
    phone: Phone = None,
    email: Email = None,
) -> PassengerPage:
    """Find a data subject by booking locator, phone or e-mail (through the blind index); criteria combine."""
    try:
        matching = passengers_matching(locator=locator, phone=phone, email=email)
    except BadLookup as exc:
        raise HTTPException(422, str(exc)) from exc
    query = (
        select(Passenger.id, Passenger.booking_id, Booking.locator, Passenger.erased_at)
        .join(Booking, Booking.id == Passenger.booking_id)
        .where(Passenger.id.in_(matching))
    )
    async with c.db.reading() as s:
        rows = list((await s.execute(paging.keyset(query, Passenger.id))).all())
    shown, next_cursor = paging.cut(rows, lambda row: (row[0],))
    return PassengerPage(
        items=[PassengerFound(passenger_id=pid, booking_id=bid, locator=loc, erased=erased is not None) for pid, bid, loc, erased in shown],
        next_cursor=next_cursor,
    )
