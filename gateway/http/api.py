"""The ops API under /v1: disruptions in, status and inventory out; Bearer API keys."""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StringConstraints, model_validator
from sqlalchemy import func, select

from conversations.intake.ports import DisruptionRequest, FlightKey, UnknownFlight
from conversations.intake.story import InvalidUpdate, settle_finished
from conversations.intake.workflow import record_disruption
from conversations.models import Conversation, OutboxMessage
from gateway.auth import OPS, ApiKey
from gateway.container import Container
from gateway.http.idempotency import IDEMPOTENT
from gateway.http.inputs import Line, PathId
from gateway.http.pagination import Page, PageRequest
from gateway.http.problems import responses
from rebooking_core import airports, claims
from rebooking_core.flight_updates import UpdateKind
from rebooking_core.models import Disruption, DisruptionFlight, Flight, Inventory, Segment
from rebooking_core.types import DisruptionKind

bearer = HTTPBearer(auto_error=False)


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


Wired = Annotated[Container, Depends(container)]


def authenticate(
    c: Wired, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> ApiKey:
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer API key", headers={"WWW-Authenticate": "Bearer"})
    given = credentials.credentials.encode()
    found = None
    for key in c.settings.scoped_api_keys:
        if hmac.compare_digest(given, key.secret.encode()):
            found = key
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid API key", headers={"WWW-Authenticate": "Bearer"})
    return found


def require_scope(scope: str) -> Callable[[ApiKey], ApiKey]:
    """A dependency that lets through only keys holding `scope` (401 without a key, 403 without the scope)."""

    def check(key: Annotated[ApiKey, Depends(authenticate)]) -> ApiKey:
        if scope not in key.scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this API key lacks the {scope!r} scope")
        return key

    return check


def require_key(key: Annotated[ApiKey, Depends(require_scope(OPS))]) -> str:
    return key.secret


CARRIER = r"^[A-Z0-9]{2,3}$"
FLIGHT_NUMBER = r"^[0-9]{1,4}$"
#: A new departure further than this from the flight's date is a typo (and far enough out, a
#: date past year 9999 once shifted to UTC).
MAX_DELAY = dt.timedelta(days=30)


class FlightRef(BaseModel):
    carrier: str = Field(pattern=CARRIER)
    number: str = Field(pattern=FLIGHT_NUMBER)
    date: dt.date


#: The body field that came before the `Idempotency-Key` header; it still works, as the domain's own dedupe.
DEPRECATED_BODY_KEY = "Deprecated: send the Idempotency-Key header. Still honoured: a repeat with the same value changes nothing."

#: Flights one disruption may name (a tail swap, an airport closure).
MAX_FLIGHTS = 200


#: What each kind of the flight's story needs (fields named here and nowhere else), and may carry.
KIND_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cancelled": ((), ()),
    "delayed": (("new_departure",), ()),
    "diverted": (("diverted_to",), ("new_arrival",)),
    "equipment": (("capacity",), ()),
    "time_change": (("new_departure",), ("new_arrival",)),
    "reinstated": ((), ("new_departure", "new_arrival")),
}
#: The kinds only the flight's story knows, as its updates.
STORY_KINDS = {
    "diverted": UpdateKind.DIVERSION,
    "equipment": UpdateKind.EQUIPMENT,
    "time_change": UpdateKind.TIME_CHANGE,
    "reinstated": UpdateKind.REINSTATEMENT,
}


class DisruptionIn(BaseModel):
    """One flight (`flight`) or several (`flights`: a tail swap, an airport closure), never both.

    `kind` and what it needs: `cancelled`; `delayed` with `new_departure`; `diverted` with `diverted_to`
    (and `new_arrival` there); `equipment` (another aircraft) with `capacity`, its seats per cabin (only
    the overflow moves, lowest priority first); `time_change` (a new schedule) with `new_departure` (and
    `new_arrival`); `reinstated` (a cancelled flight flies again; `new_departure` if late). A field
    another kind needs is refused. Times carry a zone. Flights are named by their local service date.
    """

    flight: FlightRef | None = None
    flights: list[FlightRef] | None = Field(default=None, min_length=1, max_length=MAX_FLIGHTS)
    kind: Literal["cancelled", "delayed", "diverted", "equipment", "time_change", "reinstated"]
    new_departure: dt.datetime | None = Field(default=None, description="delayed, time_change (required); reinstated (late)")
    new_arrival: dt.datetime | None = Field(default=None, description="diverted, time_change, reinstated (optional)")
    diverted_to: str | None = Field(default=None, pattern=r"^[A-Z]{3}$", description="diverted: the airport (IATA code) it goes to")
    capacity: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z]$")], Annotated[int, Field(ge=0, le=999)]] | None = Field(
        default=None, min_length=1, max_length=8, description='equipment: seats per cabin of the new aircraft, e.g. {"Y": 140}'
    )
    reason: Line | None = Field(default=None, max_length=8)
    idempotency_key: Line | None = Field(default=None, max_length=128, description=DEPRECATED_BODY_KEY, json_schema_extra={"deprecated": True})

    @model_validator(mode="after")
    def one_way_to_name_flights(self) -> DisruptionIn:
        if (self.flight is None) == (self.flights is None):
            raise ValueError("name the flight with either `flight` or `flights`")
        needs, may = KIND_FIELDS[self.kind]
        for name in needs:
            if getattr(self, name) is None:
                raise ValueError(f"a {self.kind} disruption needs {name}")
        for name in ("new_departure", "new_arrival", "diverted_to", "capacity"):
            if getattr(self, name) is not None and name not in needs + may:
                raise ValueError(f"{name} does not belong to a {self.kind} disruption")
        if self.diverted_to is not None and not airports.exists(self.diverted_to):
            raise ValueError(f"diverted_to: unknown airport {self.diverted_to}")
        return self

    def named(self) -> list[FlightRef]:
        return [self.flight] if self.flight is not None else list(self.flights or [])


class DisruptionAccepted(BaseModel):
    id: int
    created: bool


class ClaimTotal(BaseModel):
    """Compensation claims of the disruption under one regime and status, and their sum."""

    regime: str
    currency: str
    status: str
    claims: int
    amount: int


class DisruptionStatus(BaseModel):
    id: int
    kind: str
    status: str
    reason: str | None
    created_at: dt.datetime
    impacted: int
    bookings: int
    notified: int
    accepted: int
    booked: int
    escalated: int
    opted_out: int
    pending: int
    offered: int
    #: Compensation claims by regime, currency and status (see GET /v1/claims).
    claims: list[ClaimTotal] = []


router = APIRouter(prefix="/v1", dependencies=[Depends(require_scope(OPS))], tags=["ops"], responses=responses(401, 403))


@router.post(
    "/disruptions", status_code=status.HTTP_202_ACCEPTED, response_model=DisruptionAccepted, responses=responses(404, 409),
    dependencies=[IDEMPOTENT],
)
async def post_disruption(body: DisruptionIn, c: Wired) -> DisruptionAccepted:
    flight = ",".join(f"{f.carrier}{f.number}/{f.date.isoformat()}" for f in body.named()[:5])
    with c.tracing.span("POST /v1/disruptions", flight=flight, kind=body.kind):
        return await _record_disruption(body, c)


async def _record_disruption(body: DisruptionIn, c: Container) -> DisruptionAccepted:
    """Runs inside the disruption's root span: its jobs, sends and bookings join that trace."""
    if body.kind == "delayed" and body.new_departure is None:
        raise HTTPException(422, "a delay needs new_departure")
    if body.new_departure is not None and body.new_departure.tzinfo is None:
        raise HTTPException(422, "new_departure must carry a time zone (e.g. …Z)")
    if body.new_arrival is not None and body.new_arrival.tzinfo is None:
        raise HTTPException(422, "new_arrival must carry a time zone (e.g. …Z)")
    named = body.named()
    if len({(f.carrier, f.number, f.date) for f in named}) != len(named):
        raise HTTPException(422, "a flight is named twice")
    if body.new_departure is not None and any(abs(body.new_departure.date() - f.date) > MAX_DELAY for f in named):
        raise HTTPException(422, f"new_departure must be within {MAX_DELAY.days} days of the flight's date")
    request = DisruptionRequest(
        flights=tuple(FlightKey(f.carrier, f.number, f.date) for f in named),
        kind=DisruptionKind.DELAYED if body.kind == "delayed" else DisruptionKind.CANCELLED,
        new_departure=body.new_departure,
        reason=body.reason,
        idempotency_key=body.idempotency_key,
        update=STORY_KINDS.get(body.kind),
        new_arrival=body.new_arrival,
        diverted_to=body.diverted_to,
        capacity=tuple(sorted((body.capacity or {}).items())),
    )
    try:
        recorded = await record_disruption(c.db, request, clock=c.clock, service=c.service)
    except UnknownFlight as exc:
        raise HTTPException(404, str(exc)) from exc
    except InvalidUpdate as exc:
        raise HTTPException(422, str(exc)) from exc
    if recorded.created:
        await c.tracing.remember(c.db, recorded.disruption_id)
    if recorded.created or recorded.fanout:
        await c.jobs.disruption_recorded(recorded.disruption_id)
    return DisruptionAccepted(id=recorded.disruption_id, created=recorded.created)


async def disruption_status(c: Container, disruption_id: int) -> DisruptionStatus:
    async with c.db.transaction() as s:
        await settle_finished(s)
    async with c.db.reading() as s:
        d = await s.get(Disruption, disruption_id)
        if d is None:
            raise HTTPException(404, f"no disruption {disruption_id}")
        by_status = dict(
            (
                await s.execute(
                    select(Conversation.status, func.sum(Conversation.passengers))
                    .where(Conversation.disruption_id == disruption_id)
                    .group_by(Conversation.status)
                )
            ).all()
        )
        bookings = (
            await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.disruption_id == disruption_id))
        ) or 0
        notified = (
            await s.scalar(
                select(func.coalesce(func.sum(Conversation.passengers), 0)).where(
                    Conversation.disruption_id == disruption_id, Conversation.first_sent_at.is_not(None)
                )
            )
        ) or 0
        accepted = (
            await s.scalar(
                select(func.coalesce(func.sum(Conversation.passengers), 0)).where(
                    Conversation.disruption_id == disruption_id, Conversation.chosen_at.is_not(None)
                )
            )
        ) or 0
        claim_totals = await claims.totals(s, disruption_ids=[disruption_id])

    def count(*names: str) -> int:
        return int(sum(by_status.get(n, 0) or 0 for n in names))

    return DisruptionStatus(
        id=d.id,
        kind=d.kind,
        status=d.status,
        reason=d.reason,
        created_at=d.created_at,
        impacted=d.impacted_passengers,
        bookings=int(bookings),
        notified=int(notified),
        accepted=int(accepted),
        booked=count("booked"),
        escalated=count("escalated", "agent"),
        opted_out=count("opted_out"),
        pending=count("pending"),
        offered=count("offered"),
        claims=[ClaimTotal(regime=t.regime, currency=t.currency, status=t.status, claims=t.claims, amount=t.amount) for t in claim_totals],
    )


class FlightNamed(BaseModel):
    carrier: str
    number: str
    date: dt.date


class DisruptionSummary(BaseModel):
    """One disruption in a list: counters count passengers, not events or bookings."""

    id: int
    kind: str
    status: str
    reason: str | None
    created_at: dt.datetime
    flights: list[FlightNamed]
    impacted: int
    pending: int
    offered: int
    booked: int
    escalated: int
    opted_out: int
    closed: int


class DisruptionPage(Page[DisruptionSummary]):
    """Disruptions, newest first."""


FLIGHT_CODE = r"^[A-Z0-9]{2,3}[0-9]{1,4}$"


@router.get("/disruptions", response_model=DisruptionPage)
async def list_disruptions(
    c: Wired,
    flight: Annotated[str | None, Query(pattern=FLIGHT_CODE, description="Carrier and number, e.g. LH100.")] = None,
    date: Annotated[dt.date | None, Query(description="A flight's scheduled date.")] = None,
    status: Annotated[Literal["received", "offering", "settled"] | None, Query()] = None,
    *,
    page: PageRequest,
) -> DisruptionPage:
    """Newest first; filters combine; a cursor walks back through older disruptions."""
    async with c.db.transaction() as s:
        await settle_finished(s)
    async with c.db.reading() as s:
        query = select(Disruption)
        if flight is not None or date is not None:
            hit = select(DisruptionFlight.disruption_id).join(Flight, Flight.id == DisruptionFlight.flight_id)
            if flight is not None:
                carrier, number = _split_flight(flight)
                hit = hit.where(Flight.carrier == carrier, Flight.number == number)
            if date is not None:
                hit = hit.where(Flight.service_date == date)
            query = query.where(Disruption.id.in_(hit))
        if status is not None:
            query = query.where(Disruption.status == status)
        rows, next_cursor = page.cut(
            list((await s.scalars(page.keyset(query, Disruption.id, descending=True))).all()), lambda d: (d.id,)
        )
        ids = [d.id for d in rows]
        named: dict[int, list[FlightNamed]] = {i: [] for i in ids}
        for disruption_id, carrier, number, day in await s.execute(
            select(DisruptionFlight.disruption_id, Flight.carrier, Flight.number, Flight.service_date)
            .join(Flight, Flight.id == DisruptionFlight.flight_id)
            .where(DisruptionFlight.disruption_id.in_(ids))
            .order_by(Flight.dep_utc, Flight.id)
        ):
            named[disruption_id].append(FlightNamed(carrier=carrier, number=number, date=day))
        counts: dict[int, dict[str, int]] = {i: {} for i in ids}
        for disruption_id, state, passengers in await s.execute(
            select(Conversation.disruption_id, Conversation.status, func.sum(Conversation.passengers))
            .where(Conversation.disruption_id.in_(ids))
            .group_by(Conversation.disruption_id, Conversation.status)
        ):
            counts[disruption_id][state] = int(passengers or 0)

    def summary(d: Disruption) -> DisruptionSummary:
        n = counts[d.id]
        return DisruptionSummary(
            id=d.id,
            kind=d.kind,
            status=d.status,
            reason=d.reason,
            created_at=d.created_at,
            flights=named[d.id],
            impacted=sum(n.values()),
            pending=n.get("pending", 0),
            offered=n.get("offered", 0) + n.get("confirming", 0),
            booked=n.get("booked", 0),
            escalated=n.get("escalated", 0) + n.get("agent", 0),
            opted_out=n.get("opted_out", 0),
            closed=n.get("closed", 0),
        )

    return DisruptionPage(items=[summary(d) for d in rows], next_cursor=next_cursor)


def _split_flight(code: str) -> tuple[str, str]:
    """LH100 → (LH, 100); a three-character carrier code ends in a letter (EZY1234)."""
    if len(code) > 3 and code[2].isalpha():
        return code[:3], code[3:]
    return code[:2], code[2:]


@router.get("/disruptions/{disruption_id}", response_model=DisruptionStatus, responses=responses(404))
async def get_disruption(disruption_id: PathId, c: Wired) -> DisruptionStatus:
    return await disruption_status(c, disruption_id)


class FlightOut(BaseModel):
    carrier: str
    number: str
    date: dt.date
    origin: str
    destination: str
    departure: dt.datetime
    arrival: dt.datetime
    estimated_departure: dt.datetime | None
    status: str
    booked_passengers: int


class FlightPage(Page[FlightOut]):
    """A day's flights by scheduled departure."""


@router.get("/flights", response_model=FlightPage)
async def list_flights(date: dt.date, c: Wired, page: PageRequest) -> FlightPage:
    async with c.db.reading() as s:
        query = page.keyset(select(Flight).where(Flight.service_date == date), Flight.dep_utc, Flight.id)
        flights, next_cursor = page.cut(list((await s.scalars(query)).all()), lambda f: (f.dep_utc, f.id))
        sold = dict(
            (
                await s.execute(
                    select(Inventory.flight_id, func.sum(Inventory.sold))
                    .where(Inventory.flight_id.in_([f.id for f in flights]))
                    .group_by(Inventory.flight_id)
                )
            ).all()
        )
    items = [
        FlightOut(
            carrier=f.carrier,
            number=f.number,
            date=f.service_date,
            origin=f.origin,
            destination=f.destination,
            departure=f.dep_utc,
            arrival=f.arr_utc,
            estimated_departure=f.est_dep_utc,
            status=f.status,
            booked_passengers=int(sold.get(f.id, 0) or 0),
        )
        for f in flights
    ]
    return FlightPage(items=items, next_cursor=next_cursor)


class CabinInventory(BaseModel):
    cabin: str
    capacity: int
    sold: int
    held: int
    available: int


class FlightInventory(BaseModel):
    carrier: str
    number: str
    date: dt.date
    status: str
    cabins: list[CabinInventory]
    segments_confirmed: int


@router.get("/flights/{carrier}/{number}/{date}/inventory", response_model=FlightInventory, responses=responses(404))
async def flight_inventory(
    carrier: Annotated[str, Path(pattern=CARRIER)], number: Annotated[str, Path(pattern=FLIGHT_NUMBER)], date: dt.date, c: Wired
) -> FlightInventory:
    async with c.db.reading() as s:
        flight = (
            await s.scalars(
                select(Flight).where(Flight.carrier == carrier, Flight.number == number, Flight.service_date == date)
            )
        ).first()
        if flight is None:
            raise HTTPException(404, f"no flight {carrier}{number} on {date.isoformat()}")
        rows = (await s.scalars(select(Inventory).where(Inventory.flight_id == flight.id).order_by(Inventory.cabin))).all()
        confirmed = await s.scalar(
            select(func.count()).select_from(Segment).where(Segment.flight_id == flight.id, Segment.status == "HK")
        )
    return FlightInventory(
        carrier=carrier,
        number=number,
        date=date,
        status=flight.status,
        cabins=[
            CabinInventory(cabin=r.cabin, capacity=r.capacity, sold=r.sold, held=r.held, available=r.capacity - r.sold - r.held)
            for r in rows
        ],
        segments_confirmed=int(confirmed or 0),
    )


async def outbox_depth(c: Container) -> int:
    async with c.db.reading() as s:
        return int(
            await s.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"]))
            )
            or 0
        )
