"""Conversation state, outbox, deliveries, inbound dedupe and escalations."""

from __future__ import annotations

import datetime as dt
from enum import IntEnum
from typing import Any, cast

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

import conversations.pnr_changes.models  # noqa: F401  (registers pnr_changes with the conversation tables)
from conversations.provider_values import (
    ERROR_CODE_COLUMN,
    EVENT_ID_COLUMN,
    MAX_PROVIDER_ID,
    SLACK_ID_COLUMN,
    TEXT_COLUMN,
)
from infra.orm import Base, BigId, EncryptedString, UTCDateTime


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("disruption_id", "booking_id", name="one_per_booking"),
        Index("ix_conversations_timer", "timer_at"),
        Index("ix_conversations_contact", "passenger_id", "status"),
        #: The conversation log found by booking locator (and a purged booking's conversations found).
        Index("ix_conversations_booking", "booking_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    disruption_id: Mapped[int] = mapped_column(ForeignKey("disruptions.id"), index=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    flight_id: Mapped[int] = mapped_column(ForeignKey("flights.id"))
    origin: Mapped[str] = mapped_column(String(3), default="")
    passenger_id: Mapped[int | None] = mapped_column(ForeignKey("passengers.id", ondelete="SET NULL"))
    passengers: Mapped[int] = mapped_column(Integer, default=1)
    tier: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    version: Mapped[int] = mapped_column(Integer, default=0)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    channel: Mapped[str | None] = mapped_column(String(12), default=None)
    offer_id: Mapped[int | None] = mapped_column(BigId, default=None)
    booked_option_id: Mapped[int | None] = mapped_column(BigId, default=None)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    timer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    timer_kind: Mapped[str | None] = mapped_column(String(12), default=None)
    impact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    escalation_reason: Mapped[str | None] = mapped_column(String(24), default=None)
    window_open_until: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    first_offer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    first_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    chosen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    booked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    #: The passenger's own choice instead of an offered flight: "refund" or "keep" (conversations/choices.py).
    choice: Mapped[str | None] = mapped_column(String(8), default=None)


#: Written out, not bound: a prepared statement's generic plan can use a partial index only when the
#: query repeats its predicate in literals.
OUTBOX_READY = "status IN ('pending', 'sending')"
#: A push no one has opened yet (APNs and FCM send no receipts; the app's open or action marks it read).
PUSH_UNSEEN = "channel = 'push' AND status = 'sent'"


class Priority(IntEnum):
    """Where a message stands in its lane: what answers a passenger's or an agent's act goes first."""

    ANSWER = 0
    FIRST_WAVE = 1
    BROADCAST = 2


class OutboxMessage(Base):
    """One logical message to a passenger, committed with the state change that caused it."""

    __tablename__ = "outbox"
    #: Only rows still to send: every message passes through pending and sending, and an index on
    #: status would fill with dead entries faster than vacuum clears them (migration 0006).
    __table_args__ = (
        Index(
            "ix_outbox_lanes", "lane", "priority", "id", postgresql_where=text(OUTBOX_READY), sqlite_where=text(OUTBOX_READY)
        ),
        Index(
            "ix_outbox_open_by_conversation",
            "conversation_id",
            "id",
            postgresql_where=text(OUTBOX_READY),
            sqlite_where=text(OUTBOX_READY),
        ),
        #: A passenger's broadcast notices, for their conversation log; conversation rows (no passenger_id) stay out of it.
        Index(
            "ix_outbox_notices_by_passenger",
            "passenger_id",
            postgresql_where=text("passenger_id IS NOT NULL"),
            sqlite_where=text("passenger_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: None for a broadcast notice, which goes to a passenger outside any conversation.
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    passenger_id: Mapped[int | None] = mapped_column(ForeignKey("passengers.id", ondelete="CASCADE"), default=None)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), default=None, index=True)
    #: (channel:sender) the row is queued on; None until routed, and again when it falls back.
    lane: Mapped[str | None] = mapped_column(String(80), default=None)
    #: Lower goes first in its lane: answers, then first-wave notices, then broadcasts (`Priority`).
    priority: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    idempotency_key: Mapped[str] = mapped_column(String(96), unique=True)
    key: Mapped[str] = mapped_column(String(48))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    offer_id: Mapped[int | None] = mapped_column(BigId, default=None)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    channel: Mapped[str | None] = mapped_column(String(12), default=None)
    tried_channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(String(64), default=None)


class Delivery(Base):
    """One hand-over of an outbox message to one provider, tracked by its receipts."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_provider_id", "provider", "provider_message_id"),
        #: Pushes handed over and not yet opened or acted on: the fallback sweep's only read (migration 0015).
        Index("ix_deliveries_push_unseen", "created_at", postgresql_where=text(PUSH_UNSEEN), sqlite_where=text(PUSH_UNSEEN)),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    #: None for a broadcast notice (see `OutboxMessage.conversation_id`).
    conversation_id: Mapped[int | None] = mapped_column(BigId, index=True)
    channel: Mapped[str] = mapped_column(String(12))
    provider: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(MAX_PROVIDER_ID), default=None)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    error_code: Mapped[str | None] = mapped_column(String(ERROR_CODE_COLUMN), default=None)
    reason_class: Mapped[str | None] = mapped_column(String(10), default=None)
    segments: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The delivery history (migration 0020): when a receipt first said so; sent is the hand-over, `created_at`.
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    #: A handed-over message a receipt (or the unseen-push sweep) failed; None on one refused at hand-over (it never went).
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    #: What went, as the channel rendered it at send time (the conversation log); PII, like what passengers write.
    text: Mapped[str | None] = mapped_column(EncryptedString(TEXT_COLUMN), default=None)


class InboundMessage(Base):
    """What a passenger wrote or tapped, kept for the conversation log and the agent transcript; the text is PII."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(12))
    text: Mapped[str | None] = mapped_column(EncryptedString(TEXT_COLUMN))
    interpreted_as: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    provider: Mapped[str | None] = mapped_column(String(16), default=None)
    #: The provider's id of the message (a WhatsApp id embeds the number: erasure blanks it).
    provider_message_id: Mapped[str | None] = mapped_column(String(EVENT_ID_COLUMN), default=None)
    #: The button or list row tapped, as the channel carried it back (`opt:<offer>:<option>`).
    choice: Mapped[str | None] = mapped_column(String(MAX_PROVIDER_ID), default=None)


class ProcessedEvent(Base):
    """Provider event ids already handled, so a retried webhook changes nothing."""

    __tablename__ = "processed_events"

    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(EVENT_ID_COLUMN), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Escalation(Base):
    __tablename__ = "escalations"
    __table_args__ = (Index("ix_escalations_queue", "disruption_id", "route", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    disruption_id: Mapped[int] = mapped_column(BigId, index=True)
    reason: Mapped[str] = mapped_column(String(24))
    tier: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    route: Mapped[str | None] = mapped_column(String(SLACK_ID_COLUMN), default=None)
    missed_connection: Mapped[bool] = mapped_column(default=False, server_default=false())
    agent: Mapped[str | None] = mapped_column(String(SLACK_ID_COLUMN), default=None)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    resolution: Mapped[str | None] = mapped_column(String(16), default=None)
    card_ts: Mapped[str | None] = mapped_column(String(32), default=None)


import conversations.broadcasts.models  # noqa: E402, F401  (register the broadcast table with every import of the models)
import conversations.desk.models  # noqa: E402, F401  (register the desk tables with every import of the models)
import conversations.idempotent_answers  # noqa: E402, F401  (register the kept API answers with every import of the models)
import conversations.page.models  # noqa: E402, F401  (register the page links with every import of the models)

#: The tables that Core statements and `insert_at_commit` write to directly.
#: Bulk writes of many rows go through these too: the ORM's bulk paths cost ~20 µs of Python a row.
OUTBOX = cast(Table, OutboxMessage.__table__)
INBOUND_MESSAGES = cast(Table, InboundMessage.__table__)
CONVERSATIONS = cast(Table, Conversation.__table__)
ESCALATIONS = cast(Table, Escalation.__table__)
