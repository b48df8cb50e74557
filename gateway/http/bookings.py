"""`/v1/bookings/{locator}`: one PNR kept in step with the PSS (scope `ops`).

`PUT` takes one booking record of the import schema (docs/data-formats.md) with its `version` and
applies it as `rebook import bookings --mode upsert` does, in one transaction with the
re-assessment of its live conversations: 201 added, 200 changed, cancelled or unchanged, 409 when
the version is not newer than the stored one. `GET` shows the booking's ids, version and segments;
no names or contact details (the data-subject routes under /v1/passengers show those).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.booking_changes import upsert_and_reassess
from gateway.auth import OPS
from gateway.http.api import Wired, require_scope
from gateway.http.idempotency import IDEMPOTENT
from gateway.http.problems import responses
from rebooking_core.booking_upsert import Outcome
from rebooking_core.importer import ImportFailed, parse_bookings
from rebooking_core.models import Booking, Flight, Passenger, Segment
from rebooking_core.records import SEAT_TAKING_STATUSES, BookingRecord

LocatorPath = Annotated[
    str,
    Path(pattern=r"^[A-Z0-9]{6}$", description="The booking's record locator (PNR), uppercase."),
]


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The record's JSON Schema with its `$defs` written in place: an OpenAPI request body cannot point into them."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.removeprefix("#/$defs/")])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return dict(walk(schema))


_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _inline(BookingRecord.model_json_schema())}},
    }
}


class PassengerRef(BaseModel):
    id: int
    is_contact: bool


class SegmentOut(BaseModel):
    seq: int
    carrier: str
    number: str
    date: dt.date
    cabin: str
    status: str = Field(description="HK/TK hold a seat; HX/UN do not.")


class BookingOut(BaseModel):
    id: int
    locator: str
    version: int = Field(description="The PSS's version last applied (0: loaded without one).")
    status: Literal["active", "cancelled"] = Field(
        description="cancelled: no segment holds a seat."
    )
    passengers: list[PassengerRef]
    segments: list[SegmentOut]


Applied = Literal["added", "changed", "cancelled", "unchanged"]


class BookingUpserted(BookingOut):
    outcome: Applied
    conversations_closed: int = Field(
        description="Live conversations closed because the disrupted flight left the booking."
    )


router = APIRouter(
    prefix="/v1/bookings",
    dependencies=[Depends(require_scope(OPS))],
    tags=["bookings"],
    responses=responses(401, 403),
)


async def _view(s: AsyncSession, booking: Booking) -> BookingOut:
    people = await s.execute(
        select(Passenger.id, Passenger.is_contact)
        .where(Passenger.booking_id == booking.id)
        .order_by(Passenger.id)
    )
    legs = await s.execute(
        select(
            Segment.seq,
            Flight.carrier,
            Flight.number,
            Flight.service_date,
            Segment.cabin,
            Segment.status,
        )
        .join(Flight, Flight.id == Segment.flight_id)
        .where(Segment.booking_id == booking.id)
        .order_by(Segment.seq, Segment.id)
    )
    segments = [
        SegmentOut(seq=q, carrier=c, number=n, date=d, cabin=cab, status=st)
        for q, c, n, d, cab, st in legs
    ]
    active = any(seg.status in SEAT_TAKING_STATUSES for seg in segments)
    return BookingOut(
        id=booking.id,
        locator=booking.locator,
        version=booking.version,
        status="active" if active else "cancelled",
        passengers=[PassengerRef(id=i, is_contact=bool(contact)) for i, contact in people],
        segments=segments,
    )


@router.get("/{locator}", response_model=BookingOut, responses=responses(404))
async def get_booking(locator: LocatorPath, c: Wired) -> BookingOut:
    """The booking's ids, version and segments in travel order."""
    async with c.db.reading() as s:
        booking = (await s.scalars(select(Booking).where(Booking.locator == locator))).first()
        if booking is None:
            raise HTTPException(404, f"no booking {locator}")
        return await _view(s, booking)


def _record(locator: str, body: bytes) -> BookingRecord:
    """The body as one import row: the importer's strict checks, errors named by field (no personal data echoed)."""
    try:
        line = json.dumps(json.loads(body), ensure_ascii=False)
    except (ValueError, RecursionError):
        raise HTTPException(400, "body: not JSON") from None
    try:
        (record,) = parse_bookings([line])
    except ImportFailed as exc:
        raise HTTPException(422, exc.message) from None
    except ValueError:
        raise HTTPException(422, "body: one booking record") from None
    if record.locator != locator:
        raise HTTPException(422, f"locator: the body names {record.locator}, the path {locator}")
    if record.version is None:
        raise HTTPException(422, "version: required (the PSS's version of the PNR)")
    return record


@router.put(
    "/{locator}",
    response_model=BookingUpserted,
    responses={
        **responses(400, 404, 409, 413),
        201: {"model": BookingUpserted, "description": "added"},
    },
    openapi_extra=_BODY,
    dependencies=[IDEMPOTENT],
)
async def put_booking(
    locator: LocatorPath, request: Request, response: Response, c: Wired
) -> BookingUpserted:
    """Add, change or cancel the booking by its version, as `rebook import bookings --mode upsert` does for one row."""
    record = _record(locator, await request.body())
    async with c.db.transaction() as s:
        try:
            report, closed = await upsert_and_reassess(
                c.service, s, [record], actor="ops_api", subject=f"booking:{locator}"
            )
        except ImportFailed as exc:
            raise HTTPException(422, exc.message) from None
        _, outcome, booking_id = report.rows[0]
        booking = await s.get(Booking, booking_id)
        if booking is None:
            raise HTTPException(404, f"no booking {locator}")
        if outcome is Outcome.STALE:
            raise HTTPException(
                409,
                f"version {record.version} is not newer than the stored version {booking.version}",
            )
        view = await _view(s, booking)
    if closed:
        c.wake()
    if outcome is Outcome.ADDED:
        response.status_code = status.HTTP_201_CREATED
    return BookingUpserted(
        **view.model_dump(), outcome=cast(Applied, outcome.value), conversations_closed=closed
    )
