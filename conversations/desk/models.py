"""Tables of the agent desk: queue cards, relays to the agent's thread, and agents' decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from conversations.provider_values import SLACK_ID_COLUMN
from infra.orm import Base, BigId, UTCDateTime


class QueueCard(Base):
    """One Slack message per disruption × routing channel, updated in place when `dirty`."""

    __tablename__ = "queue_cards"
    __table_args__ = (UniqueConstraint("disruption_id", "route", name="one_card_per_route"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    disruption_id: Mapped[int] = mapped_column(BigId)
    route: Mapped[str] = mapped_column(String(SLACK_ID_COLUMN))
    ts: Mapped[str | None] = mapped_column(String(32), default=None)
    dirty: Mapped[bool] = mapped_column(default=True)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    updates: Mapped[int] = mapped_column(Integer, default=0)


class AgentRelay(Base):
    """A passenger message waiting to be shown in the owning agent's Slack thread."""

    __tablename__ = "agent_relays"
    __table_args__ = (Index("ix_agent_relays_status", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    inbound_id: Mapped[int] = mapped_column(ForeignKey("inbound_messages.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class AgentDecision(Base):
    """What an agent decided for a passenger; one of each kind per escalation, so a retried click is a no-op."""

    __tablename__ = "agent_decisions"
    __table_args__ = (UniqueConstraint("escalation_id", "kind", name="one_decision_per_kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(BigId, index=True)
    kind: Mapped[str] = mapped_column(String(12))
    agent: Mapped[str] = mapped_column(String(SLACK_ID_COLUMN))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DeskNote(Base):
    """A note for the owning agent's passenger thread (the flight's story moved on), posted once with the card refreshed."""

    __tablename__ = "desk_notes"
    __table_args__ = (
        UniqueConstraint("escalation_id", "once", name="one_note_per_change"),
        Index("ix_desk_notes_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    #: What changed, so a re-run of the same change writes nothing (e.g. the disruption update's id).
    once: Mapped[str] = mapped_column(String(40))
    #: Catalog key of the note and its parameters (no personal data: a cause, a count, a time).
    key: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)


class AmountCheck(Base):
    """An agent's reply that names a money amount, checked against the rights engine's (`conversations.desk.amount_hold`).

    `matched` went out at once; `held` waits for the agent's confirmation (then `confirmed`, sent once).
    Every row stays as the audit of what was promised against what the engine computed.
    """

    __tablename__ = "amount_checks"
    __table_args__ = (
        UniqueConstraint("escalation_id", "once", name="one_check_per_reply"),
        Index("ix_amount_checks_held", "escalation_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(BigId)
    agent: Mapped[str] = mapped_column(String(SLACK_ID_COLUMN))
    #: The reply's idempotency key (the API's Idempotency-Key, the Slack message ts): one check per reply.
    once: Mapped[str] = mapped_column(String(160))
    #: The reply as written, encrypted (message text is personal data); sent as written once confirmed.
    text: Mapped[str] = mapped_column(String(8000))
    #: The amounts the reply names, as written after normalising ("EUR 600", "USD? 400"): no personal data.
    named: Mapped[str] = mapped_column(String(200))
    engine_amount: Mapped[int | None] = mapped_column(Integer, default=None)
    engine_currency: Mapped[str] = mapped_column(String(3), default="")
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
