"""Events for the airline's systems, written by the transaction that makes the change they report.

Every layer that changes something an airline subscribes to (a disruption, a conversation,
consent, an erasure) records one row here through `record`: it is queued on the session and
inserted at commit with the transaction's other queued rows (`infra.commit_rows`, one statement
on PostgreSQL), so an event exists exactly when its change does. The outbound webhooks
(`gateway.outbound`) route each row to the subscriptions that want it and deliver it signed.
Rows hold ids and codes only: never a name, an address or a message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import JSON, Index, String, Table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from infra.commit_rows import insert_at_commit
from infra.orm import Base, BigId, UTCDateTime

__all__ = ["EVENTS", "EventType", "OutboundEvent", "record"]


class EventType(StrEnum):
    """Every event a subscription may ask for; docs/webhooks.md says what each carries."""

    DISRUPTION_CREATED = "disruption.created"
    DISRUPTION_UPDATED = "disruption.updated"
    DISRUPTION_SETTLED = "disruption.settled"
    OFFER_SENT = "offer.sent"
    OPTION_CHOSEN = "option.chosen"
    BOOKING_CONFIRMED = "booking.confirmed"
    BOOKING_FAILED = "booking.failed"
    CONVERSATION_ESCALATED = "conversation.escalated"
    AGENT_DECIDED = "agent.decided"
    REFUND_REQUESTED = "refund.requested"
    CONSENT_CHANGED = "consent.changed"
    PASSENGER_ERASED = "passenger.erased"


class OutboundEvent(Base):
    """One event; `routed_at` is set once the worker has queued it for every subscription that wants it."""

    __tablename__ = "outbound_events"
    __table_args__ = (
        Index("ix_outbound_events_routing", "routed_at", "id"),
        Index("ix_outbound_events_occurred", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: Events of one key are delivered to a subscription in the order they were written ("conversation:12").
    ordering_key: Mapped[str] = mapped_column(String(40))
    passenger_id: Mapped[int | None] = mapped_column(BigId, default=None, index=True)
    booking_id: Mapped[int | None] = mapped_column(BigId, default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    routed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


EVENTS = cast(Table, OutboundEvent.__table__)


def record(
    session: AsyncSession | Session,
    kind: EventType,
    *,
    at: dt.datetime,
    key: str,
    data: Mapping[str, Any],
    passenger_id: int | None = None,
    booking_id: int | None = None,
) -> None:
    """Queue the event for this transaction's commit (nothing is written if it rolls back)."""
    insert_at_commit(
        session,
        EVENTS,
        {
            "type": kind.value,
            "occurred_at": at,
            "ordering_key": key[:40],
            "passenger_id": passenger_id,
            "booking_id": booking_id,
            "data": dict(data),
        },
    )
