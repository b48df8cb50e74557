"""Current consent per passenger × channel × purpose, and its append-only history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from infra.orm import Base, BigId, UTCDateTime


class ConsentState(Base):
    __tablename__ = "consent_state"

    passenger_id: Mapped[int] = mapped_column(ForeignKey("passengers.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(12), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(12), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ConsentEvent(Base):
    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    passenger_id: Mapped[int] = mapped_column(ForeignKey("passengers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(12))
    purpose: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(16))
    #: A provider event id or error code, cleaned to fit (conversations.provider_values.EVENT_ID_COLUMN).
    evidence: Mapped[str | None] = mapped_column(String(320), default=None)
    legal_basis: Mapped[str] = mapped_column(String(24), default="contract")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One link of the append-only, hash-chained audit log; holds ids and codes, never PII."""

    __tablename__ = "audit_log"

    __table_args__ = (Index("ix_audit_log_unsealed", "id", postgresql_where=text("seq IS NULL"), sqlite_where=text("seq IS NULL")),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: seq, prev_hash and hash are given by the sealer, in commit order (NULL until then).
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    passenger_id: Mapped[int | None] = mapped_column(BigInteger, index=True, default=None)
    subject: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(160), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
