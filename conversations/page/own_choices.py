"""The passenger's own choices on the page (refund instead, keep my flight, a later date), through the engine like any reply.

Each is the event a tap or a typed answer on a channel becomes (`conversations.choices.event_for`
and `date_event`), applied under the conversation's lock: a second refund is acknowledged, a
choice the conversation does not offer is told so, and a date is searched only within range.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from conversations.choices import Extra, date_event, event_for, load_extras
from conversations.engine import (
    Decision,
    MakeOffer,
    MessageKind,
    RecordChoice,
    RepliedAfterChoice,
    Send,
    Status,
)
from conversations.page.links import conversation_of
from conversations.page.models import PageLink
from conversations.service import ConversationService

PAGE = "page"


class ChoiceOutcome(StrEnum):
    """What the page says after one of the passenger's own choices (its notice, by value)."""

    REFUND_RECORDED = "refund_recorded"
    KEPT = "kept"
    DATED = "dated"
    DATE_REFUSED = "date_refused"
    NOT_OFFERED = "not_offered"
    NOT_NOW = "not_now"


async def choose(
    service: ConversationService, link: PageLink, extra: Extra, *, now: dt.datetime
) -> ChoiceOutcome | None:
    """Apply `extra` for the link's booking; None when the link has no conversation."""
    async with service.db.transaction() as s:
        conv = await conversation_of(s, link)
        if conv is None:
            return None
        extras = await load_extras(
            s,
            conv.impact,
            conv.disruption_id,
            conv.flight_id,
            service.config.choices,
            today=now.date(),
        )
        closed_on = conv.choice if conv.status == Status.CLOSED.value else None
        conversation_id = conv.id
        s.expire(conv)  # the engine's locking read loads it afresh (a concurrent choice is seen)
        event = RepliedAfterChoice(PAGE, closed_on) if closed_on else event_for(extra, extras, PAGE)
        decisions = await service.handle(conversation_id, event, session=s)
    service.wake()
    return _outcome(decisions)


async def choose_date(
    service: ConversationService, link: PageLink, text: str, *, now: dt.datetime
) -> ChoiceOutcome | None:
    """Options on the date typed in the page's form (ISO from a date input, or as the passenger writes it)."""
    async with service.db.transaction() as s:
        conv = await conversation_of(s, link)
        if conv is None:
            return None
        extras = await load_extras(
            s,
            conv.impact,
            conv.disruption_id,
            conv.flight_id,
            service.config.choices,
            today=now.date(),
        )
        event = date_event(text, conv.locale, extras, PAGE, today=now.date())
        conversation_id = conv.id
        s.expire(conv)
        if event is None:
            return (
                ChoiceOutcome.DATE_REFUSED
                if Extra.LATER in extras.offered
                else ChoiceOutcome.NOT_OFFERED
            )
        decisions = await service.handle(conversation_id, event, session=s)
    service.wake()
    return _outcome(decisions)


def _outcome(decisions: list[Decision]) -> ChoiceOutcome:
    commands = [c for d in decisions for c in d.commands]
    sent = {c.kind for c in commands if isinstance(c, Send)}
    if any(isinstance(c, RecordChoice) for c in commands) and decisions[0].status is Status.CLOSED:
        return (
            ChoiceOutcome.REFUND_RECORDED
            if MessageKind.REFUND_RECORDED in sent
            else ChoiceOutcome.KEPT
        )
    if MessageKind.CHOICE_ALREADY in sent:
        return (
            ChoiceOutcome.REFUND_RECORDED
            if decisions[0].commands == (Send(MessageKind.CHOICE_ALREADY, (("choice", "refund"),)),)
            else ChoiceOutcome.KEPT
        )
    if any(isinstance(c, MakeOffer) for c in commands):
        return ChoiceOutcome.DATED
    if MessageKind.DATE_OUT_OF_RANGE in sent:
        return ChoiceOutcome.DATE_REFUSED
    if MessageKind.CHOICE_NOT_OFFERED in sent:
        return ChoiceOutcome.NOT_OFFERED
    return ChoiceOutcome.NOT_NOW
