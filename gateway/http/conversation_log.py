"""The conversation log over HTTP: one conversation with every message in and out, and conversations found by booking or person."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from conversations.engine import Status
from conversations.message_log import conversation_log
from conversations.models import Conversation
from gateway.auth import OPS
from gateway.http.api import Wired, require_scope
from gateway.http.inputs import PathId, QueryId
from gateway.http.lookups import Email, Locator, Phone
from gateway.http.pagination import Page, PageRequest
from gateway.http.problems import responses
from rebooking_core.lookup import BadLookup, bookings_matching
from rebooking_core.models import Booking, Disruption, Offer, OfferOption

router = APIRouter(prefix="/v1", dependencies=[Depends(require_scope(OPS))], tags=["conversations"], responses=responses(401, 403))


class ReachedOut(BaseModel):
    """A state the hand-over reached and when: sent (handed over), delivered, read, failed."""

    state: Literal["sent", "delivered", "read", "failed"]
    at: dt.datetime


class DeliveryOut(BaseModel):
    """One hand-over to a provider and the state its receipts moved it to (queued, sent, delivered, read, failed)."""

    channel: str
    provider: str
    provider_message_id: str | None
    status: str
    error_code: str | None
    reason_class: str | None
    at: dt.datetime
    updated_at: dt.datetime
    history: list[ReachedOut] = Field(
        description="each state reached, in time order; a receipt arriving late still records its time (never after a later"
        " state's), a repeated one changes nothing; a send refused at hand-over shows only `failed`"
    )


class MessageOut(BaseModel):
    """A message in (`passenger`) or out (`bot`, `agent:<name>`, `broadcast`); `text` as sent or as the channel showed it."""

    direction: Literal["in", "out"]
    id: int
    at: dt.datetime
    channel: str | None
    sender: str
    kind: str = Field(description="out: the message key (offer, booked, …); in: what it was read as (OptionChosen, keyword:stop, …)")
    text: str | None
    provider_message_id: str | None
    status: str | None = Field(description="out: the outbox state (pending, sending, sent, failed, dead, cancelled)")
    sent_at: dt.datetime | None
    choice: str | None = Field(description="in: the button or list row tapped")
    deliveries: list[DeliveryOut]


class OptionOut(BaseModel):
    id: int
    rank: int
    cabin: str
    departure: dt.datetime
    arrival: dt.datetime
    arrival_delay_min: int
    stops: int


class OfferOut(BaseModel):
    """The conversation's current offer; an option's `id` is what `POST /v1/sandbox/replies` taps."""

    id: int
    status: str
    expires_at: dt.datetime
    options: list[OptionOut]


class ConversationSummary(BaseModel):
    id: int
    status: str
    disruption_id: int
    booking_id: int
    locator: str
    passenger_id: int | None
    channel: str | None
    locale: str
    created_at: dt.datetime
    updated_at: dt.datetime


class ConversationPage(Page[ConversationSummary]):
    """Conversations, newest first."""


class ConversationOut(ConversationSummary):
    disruption_kind: str
    passengers: int
    escalation_reason: str | None
    offer: OfferOut | None
    messages: list[MessageOut]


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, responses=responses(404))
async def get_conversation(conversation_id: PathId, c: Wired) -> ConversationOut:
    """The conversation's state, booking and disruption, its current offer and every message in and out, oldest first."""
    async with c.db.reading() as s:
        found = (
            await s.execute(
                select(Conversation, Booking.locator, Disruption.kind)
                .join(Booking, Booking.id == Conversation.booking_id)
                .join(Disruption, Disruption.id == Conversation.disruption_id)
                .where(Conversation.id == conversation_id)
            )
        ).first()
        if found is None:
            raise HTTPException(404, f"no conversation {conversation_id}")
        conv, locator, kind = found
        messages = await conversation_log(s, conv)
        offer = await s.get(Offer, conv.offer_id) if conv.offer_id is not None else None
        options = (
            (await s.scalars(select(OfferOption).where(OfferOption.offer_id == offer.id).order_by(OfferOption.rank))).all()
            if offer is not None
            else []
        )
    return ConversationOut(
        **_summary(conv, locator).model_dump(),
        disruption_kind=kind,
        passengers=conv.passengers,
        escalation_reason=conv.escalation_reason,
        offer=OfferOut(id=offer.id, status=offer.status, expires_at=offer.expires_at, options=[_option(o) for o in options])
        if offer is not None
        else None,
        messages=[MessageOut(**dataclasses.asdict(m)) for m in messages],
    )


@router.get("/conversations", response_model=ConversationPage, responses=responses(422))
async def list_conversations(
    c: Wired,
    paging: PageRequest,
    locator: Locator = None,
    phone: Phone = None,
    email: Email = None,
    disruption: QueryId = None,
    status: Annotated[Status | None, Query(description="The conversation's state.")] = None,
) -> ConversationPage:
    """Newest first; filters combine. Phone and e-mail are matched through their blind index, never decrypted."""
    query = select(Conversation, Booking.locator).join(Booking, Booking.id == Conversation.booking_id)
    if locator is not None or phone is not None or email is not None:
        try:
            query = query.where(Conversation.booking_id.in_(bookings_matching(locator=locator, phone=phone, email=email)))
        except BadLookup as exc:
            raise HTTPException(422, str(exc)) from exc
    if disruption is not None:
        query = query.where(Conversation.disruption_id == disruption)
    if status is not None:
        query = query.where(Conversation.status == status.value)
    async with c.db.reading() as s:
        rows = list((await s.execute(paging.keyset(query, Conversation.id, descending=True))).all())
    shown, next_cursor = paging.cut(rows, lambda row: (row[0].id,))
    return ConversationPage(items=[_summary(conv, loc) for conv, loc in shown], next_cursor=next_cursor)


def _summary(conv: Conversation, locator: str) -> ConversationSummary:
    return ConversationSummary(
        id=conv.id,
        status=conv.status,
        disruption_id=conv.disruption_id,
        booking_id=conv.booking_id,
        locator=locator,
        passenger_id=conv.passenger_id,
        channel=conv.channel,
        locale=conv.locale,
        created_at=conv.created_at,
        updated_at=conv.updated_at,
    )


def _option(o: OfferOption) -> OptionOut:
    return OptionOut(
        id=o.id, rank=o.rank, cabin=o.cabin, departure=o.dep_utc, arrival=o.arr_utc, arrival_delay_min=o.arrival_delay_min, stops=o.stops
    )
