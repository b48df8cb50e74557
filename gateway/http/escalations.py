"""The agent desk over HTTP: list, read and work escalations without Slack, through the same use-cases Slack calls.

Every action is `AgentWorkflow.act` with a desk action (`conversations.desk.ports`), so an agent in
Slack and one on the API share one queue and one owner per escalation. The key needs the `agents`
scope; the agent is named by the `Rebook-Agent` header and recorded as `api:<name>` (a Slack
user id never starts so, so neither desk can pass for the other).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, case, func, select

from conversations.desk.agents import AgentWorkflow
from conversations.desk.cards import passenger_card
from conversations.desk.ports import (
    CloseCase,
    DeskAction,
    DeskReply,
    OfferRefund,
    RebookOption,
    ReturnToBot,
    SendVoucher,
    TakePassenger,
    WriteToPassenger,
)
from conversations.lifecycles import EscalationStatus
from conversations.models import Conversation, Escalation
from gateway.auth import AGENTS, OPS, ApiKey
from gateway.container import Container
from gateway.http.api import Wired, authenticate
from gateway.http.idempotency import IDEMPOTENT, KEY_PATTERN, MAX_KEY
from gateway.http.inputs import Line, PathId, QueryId, Text
from gateway.http.pagination import Page, PageRequest
from gateway.http.problems import responses
from rebooking_core.models import Booking, Disruption, Flight, OfferOption, SeatHold

log = logging.getLogger(__name__)

#: What an API agent's name may hold: no spaces, no `@` (not an e-mail address), short enough for the owner column.
AGENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$"
#: Prefix of an API agent's identity in `escalations.agent` (Slack stores its user ids as they are).
API_AGENT = "api:"
#: The longest reply an agent may write (the same bound as a broadcast's free text).
MAX_REPLY = 1024


def require_any(*scopes: str) -> Callable[[ApiKey], ApiKey]:
    """Keys holding any one of `scopes` (401 without a key, 403 without them)."""

    def check(key: Annotated[ApiKey, Depends(authenticate)]) -> ApiKey:
        if not key.scopes & set(scopes):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this API key lacks the {' or '.join(map(repr, scopes))} scope")
        return key

    return check


def require_agent(
    key: Annotated[ApiKey, Depends(require_any(AGENTS))],
    rebook_agent: Annotated[str, Header(pattern=AGENT_NAME, description="The agent acting, e.g. `alice`; stored as `api:alice`.")],
) -> str:
    """The acting agent: the name the desk front end sends for whoever is signed in to it."""
    return API_AGENT + rebook_agent


Agent = Annotated[str, Depends(require_agent)]


# ---- what the API shows ----


class FlightNamed(BaseModel):
    carrier: str
    number: str
    date: dt.date
    origin: str
    destination: str


class DisruptionNamed(BaseModel):
    id: int
    kind: str


class PassengerSummary(BaseModel):
    """Enough to pick a passenger from a queue; never a name, phone number or e-mail address."""

    tier: int
    language: str
    locator: str
    passengers: int
    channel: str | None
    conversation_status: str


class EscalationSummary(BaseModel):
    id: int
    conversation_id: int
    disruption_id: int
    status: str
    reason: str
    tier: int
    missed_connection: bool
    airport: str
    created_at: dt.datetime
    claimed_at: dt.datetime | None
    resolved_at: dt.datetime | None
    resolution: str | None
    #: `api:<name>` for an API agent, a Slack user id for a Slack one.
    owner: str | None
    #: When the seats held for the passenger's current options are let go (null: none held).
    hold_expires_at: dt.datetime | None
    disruption: DisruptionNamed
    flight: FlightNamed
    passenger: PassengerSummary


class EscalationPage(Page[EscalationSummary]):
    """One page of escalations in queue order."""


class OptionOut(BaseModel):
    number: int
    option_id: int
    flights: str
    departs_utc: dt.datetime
    arrives_utc: dt.datetime
    #: "held", "booked", "not held", or a released hold's status.
    seat_status: str
    seats_left: int


class TranscriptLineOut(BaseModel):
    at: dt.datetime
    #: "passenger", "bot" (a catalog key in brackets) or "agent".
    author: str
    text: str


class LoyaltyOut(BaseModel):
    """The loyalty programme's view of the passenger, as imported (or as the airline's loyalty system gives it)."""

    #: The programme's level name, e.g. "Senator" (the numeric `tier` orders the queue).
    status: str | None
    miles: int | None
    #: Free keys as the airline gives them; ranking uses cabin, time and avoid_connection (docs/loyalty.md).
    preferences: dict[str, str]


class EscalationCard(EscalationSummary):
    """What the Slack passenger card shows: the summary, the first name, loyalty, options and the latest transcript lines."""

    first_name: str
    #: Null when the programme knows nothing of the passenger, or once the passenger is erased.
    loyalty: LoyaltyOut | None
    options: list[OptionOut]
    transcript: list[TranscriptLineOut]


class ReplyIn(BaseModel):
    text: Text = Field(min_length=1, max_length=MAX_REPLY, description="Sent to the passenger as written, on their channel.")


class BookIn(BaseModel):
    option_id: int = Field(ge=1, le=2**63 - 1, description="An `option_id` of the card's options.")


# ---- reading ----

#: The queue's order, Slack's Take next's (tier, missed connection, oldest first; ids grow with time),
#: as ascending keys so one keyset cursor walks it.
QUEUE_KEY = (-Escalation.tier, case((Escalation.missed_connection.is_(True), 0), else_=1), Escalation.id)


def _queue_key(e: EscalationSummary) -> tuple[int, int, int]:
    return (-e.tier, 0 if e.missed_connection else 1, e.id)


def _select(where: list[ColumnElement[bool]]) -> Select[Escalation, Conversation, str, Flight, str]:
    return (
        select(Escalation, Conversation, Booking.locator, Flight, Disruption.kind)
        .join(Conversation, Conversation.id == Escalation.conversation_id)
        .join(Booking, Booking.id == Conversation.booking_id)
        .join(Flight, Flight.id == Conversation.flight_id)
        .join(Disruption, Disruption.id == Escalation.disruption_id)
        .where(*where)
    )


async def _summaries(c: Container, query: Select[Escalation, Conversation, str, Flight, str]) -> list[EscalationSummary]:
    """One summary per escalation row of `query`, with the expiry of the seats its passenger holds."""
    async with c.db.reading() as s:
        rows = (await s.execute(query)).all()
        offers = {conv.offer_id for _, conv, *_ in rows if conv.offer_id is not None}
        expiry = dict(
            (
                await s.execute(
                    select(OfferOption.offer_id, func.min(SeatHold.expires_at))
                    .join(SeatHold, SeatHold.option_id == OfferOption.id)
                    .where(OfferOption.offer_id.in_(offers), SeatHold.status == "held")
                    .group_by(OfferOption.offer_id)
                )
            ).all()
        )
    return [
        EscalationSummary(
            id=esc.id,
            conversation_id=conv.id,
            disruption_id=esc.disruption_id,
            status=esc.status,
            reason=esc.reason,
            tier=esc.tier,
            missed_connection=esc.missed_connection,
            airport=conv.origin,
            created_at=esc.created_at,
            claimed_at=esc.claimed_at,
            resolved_at=esc.resolved_at,
            resolution=esc.resolution,
            owner=esc.agent,
            hold_expires_at=expiry.get(conv.offer_id) if conv.offer_id is not None else None,
            disruption=DisruptionNamed(id=esc.disruption_id, kind=kind),
            flight=FlightNamed(
                carrier=flight.carrier, number=flight.number, date=flight.service_date, origin=flight.origin, destination=flight.destination
            ),
            passenger=PassengerSummary(
                tier=conv.tier,
                language=conv.locale,
                locator=locator,
                passengers=conv.passengers,
                channel=conv.channel,
                conversation_status=conv.status,
            ),
        )
        for esc, conv, locator, flight, kind in rows
    ]


async def escalation_card(c: Container, escalation_id: int) -> EscalationCard:
    """The summary plus what the Slack passenger card shows, read from the same view."""
    found = await _summaries(c, _select([Escalation.id == escalation_id]))
    if not found:
        raise HTTPException(404, f"no escalation {escalation_id}")
    async with c.db.reading() as s:
        esc = await s.get(Escalation, escalation_id)
        if esc is None:
            raise HTTPException(404, f"no escalation {escalation_id}")
        view = await passenger_card(s, esc)
    return EscalationCard(
        **found[0].model_dump(),
        first_name=view.first_name,
        loyalty=(
            LoyaltyOut(status=view.loyalty.status, miles=view.loyalty.miles, preferences=dict(view.loyalty.preferences))
            if view.loyalty is not None
            else None
        ),
        options=[OptionOut(**asdict(o)) for o in view.options],
        transcript=[TranscriptLineOut(**asdict(line)) for line in view.transcript],
    )


router = APIRouter(prefix="/v1/escalations", tags=["agents"], responses=responses(401, 403))
reading = [Depends(require_any(OPS, AGENTS))]


@router.get("", response_model=EscalationPage, dependencies=reading)
async def list_escalations(
    c: Wired,
    status: Annotated[Literal["open", "claimed", "resolved", "withdrawn", "closed"] | None, Query()] = None,
    reason: Annotated[str | None, Query(pattern=r"^[a-z_]{1,24}$", description="e.g. passenger_request, no_options, deadline")] = None,
    tier: Annotated[int | None, Query(ge=0, le=99)] = None,
    airport: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="The disrupted flight's departure airport (IATA).")] = None,
    disruption_id: QueryId = None,
    owner: Annotated[Line | None, Query(max_length=64, description="`api:<name>` or a Slack user id.")] = None,
    *,
    paging: PageRequest,
) -> EscalationPage:
    """In queue order (tier, missed connection, oldest first); filters combine; a cursor walks on."""
    where: list[ColumnElement[bool]] = []
    if status is not None:
        where.append(Escalation.status == status)
    if reason is not None:
        where.append(Escalation.reason == reason)
    if tier is not None:
        where.append(Escalation.tier == tier)
    if airport is not None:
        where.append(Conversation.origin == airport)
    if disruption_id is not None:
        where.append(Escalation.disruption_id == disruption_id)
    if owner is not None:
        where.append(Escalation.agent == owner)
    items, next_cursor = paging.cut(await _summaries(c, paging.keyset(_select(where), *QUEUE_KEY)), _queue_key)
    return EscalationPage(items=items, next_cursor=next_cursor)


@router.get("/{escalation_id}", response_model=EscalationCard, dependencies=reading, responses=responses(404))
async def get_escalation(escalation_id: PathId, c: Wired) -> EscalationCard:
    return await escalation_card(c, escalation_id)


# ---- acting ----


def _agents(c: Container) -> AgentWorkflow:
    if c.desk is None or c.desk.agents is None:
        raise HTTPException(503, "the agent desk is not wired")
    return c.desk.agents


async def _act(
    c: Container, action: DeskAction, escalation_id: int, agent: str, *, retried: Callable[[EscalationCard], bool]
) -> EscalationCard:
    """Run the action through the desk's use-case; a refusal becomes a problem, unless it is this act's own retry."""
    reply = await _agents(c).act(action)
    card = await escalation_card(c, escalation_id)
    if reply is None or retried(card):
        return card
    raise _refusal(reply, card, agent)


def _refusal(reply: DeskReply, card: EscalationCard, agent: str) -> HTTPException:
    """A DeskReply as the problem an API client gets: 404 unknown, 409 someone else's or finished, 422 a bad option."""
    eid = card.id
    if reply.code == "unknown":
        return HTTPException(404, f"no escalation {eid}")
    if reply.code == "stale_option":
        return HTTPException(422, "option_id is not one of the passenger's current options")
    if reply.code == "already_booked":
        return HTTPException(409, f"escalation {eid}: the passenger is already booked on another option")
    if reply.code == "amount_held":
        # conversations/desk/amount_hold.py: an amount in free text must be the rights engine's, or confirmed.
        confirm = f"/v1/escalations/{eid}/held/{reply.detail}/confirm"
        return HTTPException(
            409,
            f"escalation {eid}: the reply names an amount other than the compensation the rights engine computed for this "
            f"passenger (or it computed none); it is held, not sent. To send it as written: POST {confirm}",
            headers={"Location": confirm},
        )
    if reply.code == "nothing_held":
        return HTTPException(404, f"escalation {eid}: no reply of yours is held with that id (already sent, or never held)")
    if reply.code == "booking_failed":
        return HTTPException(409, f"escalation {eid}: the option could not be booked (seat gone); the passenger was offered fresh options")
    if card.status == EscalationStatus.CLAIMED and card.owner == agent:
        return HTTPException(409, f"escalation {eid}: the conversation is {card.passenger.conversation_status}, not with the agent")
    if card.status == EscalationStatus.CLAIMED:
        return HTTPException(409, f"escalation {eid} is owned by {card.owner}")
    if card.status == EscalationStatus.OPEN:
        return HTTPException(409, f"escalation {eid} is not claimed: claim it first")
    finished = f"escalation {eid} is already {card.status}" + (f" ({card.resolution})" if card.resolution else "")
    return HTTPException(409, finished + (f" by {card.owner}" if card.owner else ""))


def _mine(agent: str) -> Callable[[EscalationCard], bool]:
    return lambda card: card.status == EscalationStatus.CLAIMED and card.owner == agent


def _resolved_by(agent: str, *outcomes: str) -> Callable[[EscalationCard], bool]:
    """A repeated release or close: the escalation already ended that way in this agent's hands."""
    return lambda card: card.status == EscalationStatus.RESOLVED and card.owner == agent and card.resolution in outcomes


def _never(card: EscalationCard) -> bool:
    return False


ACTING = responses(404, 409, 422, 503)
#: The scope first, then the `Idempotency-Key` claim (a replay answers only an authorised request).
ACTS = [Depends(require_any(AGENTS)), IDEMPOTENT]


@router.post("/{escalation_id}/claim", response_model=EscalationCard, responses=ACTING, dependencies=ACTS)
async def claim(escalation_id: PathId, c: Wired, agent: Agent) -> EscalationCard:
    """Take the passenger over; exactly one agent (Slack or API) owns an escalation, and claiming again is a no-op."""
    log.info("agent api: claim", extra={"escalation": escalation_id})
    return await _act(c, TakePassenger(escalation_id, agent), escalation_id, agent, retried=_mine(agent))


@router.post("/{escalation_id}/reply", response_model=EscalationCard, status_code=status.HTTP_202_ACCEPTED, responses=ACTING, dependencies=ACTS)
async def reply(
    escalation_id: PathId,
    body: ReplyIn,
    c: Wired,
    agent: Agent,
    idempotency_key: Annotated[
        str,
        Header(
            min_length=1, max_length=MAX_KEY, pattern=KEY_PATTERN, description="Names this message: a retry with the same key sends it once."
        ),
    ],
) -> EscalationCard:
    """Queue free text for the passenger in the outbox (sent on their channel, consent checked at send time)."""
    log.info("agent api: reply", extra={"escalation": escalation_id})
    return await _act(c, WriteToPassenger(escalation_id, agent, body.text, idempotency_key), escalation_id, agent, retried=_never)


@router.post(
    "/{escalation_id}/held/{check_id}/confirm", response_model=EscalationCard, status_code=status.HTTP_202_ACCEPTED, responses=ACTING, dependencies=ACTS
)
async def confirm_held_reply(escalation_id: PathId, check_id: PathId, c: Wired, agent: Agent) -> EscalationCard:
    """Send a reply that was held because it names an amount the rights engine did not compute: once, as written, audited."""
    log.info("agent api: confirm held reply", extra={"escalation": escalation_id, "check": check_id})
    refused = await _agents(c).confirm_held(escalation_id, agent, check_id)
    card = await escalation_card(c, escalation_id)
    if refused is not None:
        raise _refusal(refused, card, agent)
    return card


@router.post("/{escalation_id}/book", response_model=EscalationCard, responses=ACTING, dependencies=ACTS)
async def book(escalation_id: PathId, body: BookIn, c: Wired, agent: Agent) -> EscalationCard:
    """Book one of the card's options (seat moved atomically); the same booking again is a no-op, never a second seat."""
    log.info("agent api: book", extra={"escalation": escalation_id})

    def rebooked(card: EscalationCard) -> bool:
        return card.owner == agent and any(o.option_id == body.option_id and o.seat_status == "booked" for o in card.options)

    return await _act(c, RebookOption(escalation_id, body.option_id, agent), escalation_id, agent, retried=rebooked)


@router.post("/{escalation_id}/refund", response_model=EscalationCard, responses=ACTING, dependencies=ACTS)
async def refund(escalation_id: PathId, c: Wired, agent: Agent) -> EscalationCard:
    """Tell the passenger a refund is offered, once per escalation (no money moves here)."""
    log.info("agent api: refund", extra={"escalation": escalation_id})
    return await _act(c, OfferRefund(escalation_id, agent), escalation_id, agent, retried=_never)


@router.post("/{escalation_id}/voucher", response_model=EscalationCard, responses=ACTING, dependencies=ACTS)
async def voucher(escalation_id: PathId, c: Wired, agent: Agent) -> EscalationCard:
    """Give the configured voucher, once per escalation (no money moves here)."""
    log.info("agent api: voucher", extra={"escalation": escalation_id})
    return await _act(c, SendVoucher(escalation_id, agent), escalation_id, agent, retried=_never)


@router.post("/{escalation_id}/release", response_model=EscalationCard, responses=ACTING, dependencies=ACTS)
async def release(escalation_id: PathId, c: Wired, agent: Agent) -> EscalationCard:
    """Return the passenger to the bot (fresh options unless booked or refunded); the escalation is resolved."""
    log.info("agent api: release", extra={"escalation": escalation_id})
    return await _act(c, ReturnToBot(escalation_id, agent), escalation_id, agent, retried=_resolved_by(agent, "returned", "booked", "refunded"))


@router.post("/{escalation_id}/close", response_model=EscalationCard, responses=ACTING, dependencies=ACTS)
async def close(escalation_id: PathId, c: Wired, agent: Agent) -> EscalationCard:
    """End the case: the conversation closes (a booking stays booked), held seats go back, the bot stays silent."""
    log.info("agent api: close", extra={"escalation": escalation_id})
    return await _act(c, CloseCase(escalation_id, agent), escalation_id, agent, retried=_resolved_by(agent, "closed", "booked", "refunded"))
