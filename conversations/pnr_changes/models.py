"""One row per PNR change sent (or to send) to a remote PSS: the booking intent and where it stands."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from infra.orm import Base, BigId, UTCDateTime


class PnrChangeRow(Base):
    """Written with the choice (state `sending`), then moved by the pump as the PSS answers; ids and flight codes only."""

    __tablename__ = "pnr_changes"
    __table_args__ = (Index("ix_pnr_changes_due", "state", "next_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(BigId, index=True)
    booking_id: Mapped[int] = mapped_column(BigId)
    offer_id: Mapped[int] = mapped_column(BigId)
    option_id: Mapped[int] = mapped_column(BigId)
    locator: Mapped[str] = mapped_column(String(6))
    #: The `PnrChange` as JSON (`rules.change_to_json`): what every send of this intent sends.
    change: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The same key on every call: the PSS changes the PNR once however often it is asked.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(10))
    #: Calls made (a send, or a status question and perhaps a send again).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the pump next takes it.
    next_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: A worker calling the PSS for it holds it until then; a lease found expired means the call's outcome is unknown.
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    #: The lease holder's token: only it may record the outcome.
    claim: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The PSS's reason for a refusal, or why the desk was called.
    reason: Mapped[str | None] = mapped_column(String(64), default=None)
    #: The ticket re-issue status the PSS reported with its confirmation.
    ticket: Mapped[str | None] = mapped_column(String(24), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
