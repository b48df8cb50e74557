"""What a conversation's decisions tell the airline's systems: one outbound event per fact, in the decision's transaction.

`announce` reads a decision and the event it answered, and records (`infra.event_log`) the facts
a subscriber may want: an offer sent, an option chosen, a booking confirmed or failed, a hand-over
to an agent, an agent's decision. It is called at the two places a decision is made (the service's
loop and the fan-out's bulk first offers), so every path — a reply, the page, an agent, a timer —
reports the same way. Payloads carry ids and codes only (not even the agent's id).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.engine import (
    AgentBooked,
    AgentOfferedRefund,
    AgentReleased,
    AgentSentVoucher,
    Book,
    BookingConfirmed,
    BookingFailed,
    Change,
    ChangeConfirmed,
    Decision,
    Escalate,
    Event,
    MessageKind,
    OffersReady,
    OptionChosen,
    Protected,
    RecordChoice,
    Send,
    TimerFired,
)
from conversations.models import Conversation
from infra.event_log import EventType, record

#: Messages that carry a new offer's options.
OFFER_MESSAGES = frozenset({MessageKind.OFFER, MessageKind.OFFER_REFRESHED, MessageKind.OFFER_SEAT_GONE, MessageKind.OFFER_UPDATED})


def conversation_key(conversation_id: int) -> str:
    """The ordering key of a conversation's events."""
    return f"conversation:{conversation_id}"


def announce(s: AsyncSession, conv: Conversation, event: Event, decision: Decision, now: dt.datetime) -> None:
    """Record the outbound events this decision amounts to (none for an event the state ignores)."""
    for kind, data in _facts(conv, event, decision):
        emit(s, conv, kind, now, **data)


def emit(s: AsyncSession, conv: Conversation, kind: EventType, now: dt.datetime, **data: Any) -> None:
    """One event about this conversation, with the ids every conversation event carries."""
    record(
        s,
        kind,
        at=now,
        key=conversation_key(conv.id),
        passenger_id=conv.passenger_id,
        booking_id=conv.booking_id,
        data={"disruption_id": conv.disruption_id, "conversation_id": conv.id, "booking_id": conv.booking_id, **data},
    )


def _facts(conv: Conversation, event: Event, decision: Decision) -> list[tuple[EventType, dict[str, Any]]]:
    facts: list[tuple[EventType, dict[str, Any]]] = []
    for command in decision.commands:
        match command:
            case Send(kind=kind) if kind in OFFER_MESSAGES and isinstance(event, OffersReady):
                facts.append(
                    (
                        EventType.OFFER_SENT,
                        {
                            "offer_id": event.offer_id,
                            "option_ids": list(event.option_ids),
                            "expires_at": event.expires_at.isoformat(),
                            "reason": event.reason.value,
                        },
                    )
                )
            case Book(offer_id=offer_id, option_id=option_id) | Change(offer_id=offer_id, option_id=option_id):
                facts.append((EventType.OPTION_CHOSEN, {"offer_id": offer_id, "option_id": option_id, **_chooser(event)}))
            case Escalate(reason=reason):
                facts.append((EventType.CONVERSATION_ESCALATED, {"reason": reason, "tier": conv.tier}))
            # The passenger's own choices (conversations/choices.py): a refund is its own event, keeping the flight a choice.
            case RecordChoice(choice="refund", basis=basis):
                facts.append((EventType.REFUND_REQUESTED, {"basis": basis, "by": "passenger", "channel": getattr(event, "channel", "")}))
            case RecordChoice(choice=choice):
                facts.append((EventType.OPTION_CHOSEN, {"choice": choice, "offer_id": conv.offer_id, "by": "passenger", "channel": getattr(event, "channel", "")}))
    match event:
        case BookingConfirmed(option_id=option_id) | ChangeConfirmed(option_id=option_id) | Protected(option_id=option_id):
            facts.append((EventType.BOOKING_CONFIRMED, {"option_id": option_id, "offer_id": conv.offer_id}))
        case BookingFailed(reason=reason):
            facts.append((EventType.BOOKING_FAILED, {"reason": reason, "offer_id": conv.offer_id}))
        case AgentBooked(option_id=option_id):
            facts.append((EventType.AGENT_DECIDED, {"decision": "rebook", "option_id": option_id}))
        case AgentOfferedRefund():
            facts.append((EventType.AGENT_DECIDED, {"decision": "refund"}))
        case AgentSentVoucher(amount=amount, currency=currency):
            facts.append((EventType.AGENT_DECIDED, {"decision": "voucher", "amount": amount, "currency": currency}))
        case AgentReleased(refunded=refunded):
            facts.append((EventType.AGENT_DECIDED, {"decision": "closed_refunded" if refunded else "returned_to_bot"}))
    if decision.transition.endswith(f"ignores {type(event).__name__}"):
        return []
    return facts


def _chooser(event: Event) -> dict[str, Any]:
    """Who chose: the passenger (and on which channel), an agent, or the deadline's protection policy."""
    if isinstance(event, OptionChosen):
        return {"by": "passenger", "channel": event.channel}
    if isinstance(event, AgentBooked):
        return {"by": "agent"}
    if isinstance(event, TimerFired):
        return {"by": "deadline"}
    return {"by": "engine"}
