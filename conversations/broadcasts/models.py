"""The broadcasts table: one row per ops notice; its messages are outbox rows, its counts read from them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from conversations.provider_values import SLACK_ID_COLUMN
from infra.orm import Base, BigId, UTCDateTime


class Broadcast(Base):
    """An ops notice to everyone on a flight or at an airport; counts come from its recipients."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    target: Mapped[str] = mapped_column(String(32))
    message_key: Mapped[str | None] = mapped_column(String(48), default=None)
    text: Mapped[str | None] = mapped_column(String(1024), default=None)
    requested_by: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(10), default="sending")
    slack_channel: Mapped[str | None] = mapped_column(String(SLACK_ID_COLUMN), default=None)
    slack_ts: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
