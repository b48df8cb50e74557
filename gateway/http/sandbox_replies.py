"""`POST /v1/sandbox/replies`: answer as a passenger would, through the inbound path every webhook uses (sandbox only)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.sandbox import PROVIDER
from conversations.models import Conversation
from conversations.outbox.rendering import choice_token
from conversations.ports import InboundText
from gateway.auth import OPS
from gateway.container import Container
from gateway.http.api import Wired, require_scope
from gateway.http.idempotency import IDEMPOTENT
from gateway.http.inputs import ID_MAX, ID_MIN, Line, Text
from gateway.http.problems import responses
from rebooking_core.models import ContactPoint, OfferOption

#: WhatsApp's longest text; an SMS is at most 1,600 characters.
MAX_TEXT = 4096
#: A provider's message id as stored (`conversations.provider_values.MAX_PROVIDER_ID`).
MAX_MESSAGE_ID = 255

#: The channels whose replies the sandbox can play (e-mail replies are not read, by design).
ANSWERABLE = ("sms", "whatsapp")

router = APIRouter(prefix="/v1/sandbox", dependencies=[Depends(require_scope(OPS))], tags=["sandbox"], responses=responses(401, 403))


class ReplyIn(BaseModel):
    """Who answers (an address, or a conversation's passenger) on which channel, with what (a text, or an option tapped)."""

    channel: Literal["sms", "whatsapp", "email"] | None = Field(
        default=None, description="Default with `conversation_id`: the channel the conversation last used, else the passenger's first."
    )
    from_: Line | None = Field(default=None, alias="from", max_length=256, description="The passenger's address (E.164 for SMS and WhatsApp).")
    conversation_id: int | None = Field(default=None, ge=ID_MIN, le=ID_MAX, description="Answer as this conversation's passenger.")
    text: Text | None = Field(default=None, min_length=1, max_length=MAX_TEXT, description="What the passenger writes.")
    option_id: int | None = Field(
        default=None, ge=ID_MIN, le=ID_MAX, description="The option tapped (`offer.options[].id` of GET /v1/conversations/{id})."
    )
    message_id: str | None = Field(
        default=None,
        pattern=r"^[\x21-\x7e]+$",
        max_length=MAX_MESSAGE_ID,
        description="The provider's message id: a second reply with the same id changes nothing (default: a fresh one).",
    )

    @model_validator(mode="after")
    def one_sender_one_answer(self) -> ReplyIn:
        if (self.from_ is None) == (self.conversation_id is None):
            raise ValueError("name the passenger with either `from` or `conversation_id`")
        if self.from_ is not None and self.channel is None:
            raise ValueError("`from` needs its `channel`")
        if (self.text is None) == (self.option_id is None):
            raise ValueError("answer with either `text` or `option_id`")
        return self


class ReplyAccepted(BaseModel):
    message_id: str
    channel: str


@router.post(
    "/replies", status_code=status.HTTP_202_ACCEPTED, response_model=ReplyAccepted, dependencies=[IDEMPOTENT], responses=responses(404, 409, 422)
)
async def post_reply(body: ReplyIn, c: Wired) -> ReplyAccepted:
    """Handed to the inbound router as the channel's webhook would hand it; the answer goes out through the outbox."""
    if body.channel == "email":
        raise HTTPException(422, "replies to e-mail are not read: an e-mailed passenger chooses on their page (/p/…)")
    async with c.db.reading() as s:
        channel, sender, bsuid = await _sender(s, body)
        text, token = await _answer(s, body, channel)
    message_id = body.message_id or _fresh_id(c)
    await c.inbound.accept(
        [
            InboundText(
                provider=PROVIDER,
                event_id=message_id,
                channel=channel,
                sender=sender,
                sender_bsuid=bsuid,
                text=text,
                choice_token=token,
                received_at=c.clock(),
            )
        ]
    )
    return ReplyAccepted(message_id=message_id, channel=channel)


async def _sender(s: AsyncSession, body: ReplyIn) -> tuple[str, str, str]:
    """The channel, and the address (or, on WhatsApp, the BSUID alone) the passenger writes from."""
    if body.from_ is not None and body.channel is not None:
        return body.channel, body.from_, ""
    conv = await s.get(Conversation, body.conversation_id)
    if conv is None:
        raise HTTPException(404, f"no conversation {body.conversation_id}")
    wanted = [body.channel] if body.channel else [conv.channel] if conv.channel in ANSWERABLE else list(ANSWERABLE)
    contacts = (
        await s.scalars(
            select(ContactPoint)
            .where(ContactPoint.passenger_id == conv.passenger_id, ContactPoint.channel.in_(wanted))
            .order_by(ContactPoint.preference, ContactPoint.id)
        )
    ).all()
    contact = next((c for c in contacts if c.address or c.bsuid), None)
    if contact is None:
        raise HTTPException(422, f"conversation {conv.id}'s passenger has no {' or '.join(wanted)} address")
    return contact.channel, contact.address or "", "" if contact.address else contact.bsuid or ""


async def _answer(s: AsyncSession, body: ReplyIn, channel: str) -> tuple[str | None, str | None]:
    """A text as written; a tapped option as the channel carries it back: its number on SMS, its button id on WhatsApp."""
    if body.option_id is None:
        return body.text, None
    option = await s.get(OfferOption, body.option_id)
    if option is None:
        raise HTTPException(422, f"no option {body.option_id}")
    if channel == "sms":
        return str(option.rank), None
    return None, choice_token(option.offer_id, option.id)


def _fresh_id(c: Container) -> str:
    if c.sandbox is None:
        raise HTTPException(404, "not the sandbox")
    return c.sandbox.next_id("in")

