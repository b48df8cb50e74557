"""Current consent per passenger × channel × purpose, and its append-only history."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
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
    evidence: Mapped[str | None] = mapped_column(String(128), default=None)
    legal_basis: Mapped[str] = mapped_column(String(24), default="contract")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
