"""Tables of the outbound webhooks: the airline's endpoints and each event's delivery to each of them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from infra.crypto import sealed_length
from infra.orm import Base, BigId, EncryptedString, UTCDateTime

#: Characters of a secret: `whsec_` and the base64 of 32 random bytes.
SECRET_CHARS = 6 + 44
MAX_URL = 2048


class WebhookSubscription(Base):
    """An endpoint, the events it wants, whether payloads may carry personal data, and its circuit."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(MAX_URL))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    pii: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Shown once when created; kept encrypted under the PII keys (rotated with them).
    secret: Mapped[str] = mapped_column(EncryptedString(sealed_length(SECRET_CHARS)))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The circuit: failed attempts in a row, since when, and why it opened (the endpoint gets nothing while open).
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    disabled_reason: Mapped[str | None] = mapped_column(String(16), default=None)


class WebhookDelivery(Base):
    """One event on its way to one endpoint: pending until a 2xx (`delivered`) or the last retry (`dead`)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "subscription_id", "ordering_key", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbound_events.id", ondelete="CASCADE"), index=True)
    ordering_key: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: A worker sending it holds it until then; a crashed worker's delivery is tried again after.
    leased_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    last_status: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    last_error: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
