"""Personal page links: only a hash of each token is kept, bound to one booking and one disruption."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from infra.orm import Base, BigId, UTCDateTime

#: A SHA-256 hex digest.
TOKEN_HASH_CHARS = 64


class PageLink(Base):
    """One link a message carried; erasure deletes the booking's links, which revokes them."""

    __tablename__ = "page_links"
    __table_args__ = (Index("ix_page_links_booking", "booking_id", "disruption_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_CHARS), unique=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    disruption_id: Mapped[int] = mapped_column(ForeignKey("disruptions.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: When a fresh link was last asked for with this one (expired links too): at most one resend a while.
    renewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
