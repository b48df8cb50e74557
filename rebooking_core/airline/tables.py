"""Tables of the built-in SQL store's ports: seat holds asked through `Inventory`, PNR requests through `Reservations`.

They exist so the built-in store answers a repeated idempotency key as a PSS would (same answer,
nothing done twice) and so `change_status` can tell a change it confirmed from one it never saw.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from infra.orm import Base, UTCDateTime

__all__ = ["PortHold", "PortRequest"]


class PortHold(Base):
    """A hold taken through the `Inventory` port; its seats sit in `inventory.held` while `status` is held."""

    __tablename__ = "airline_holds"
    __table_args__ = (CheckConstraint("seats > 0", name="seats_positive"),)

    reference: Mapped[str] = mapped_column(String(32), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    flight_id: Mapped[int] = mapped_column(ForeignKey("flights.id", ondelete="CASCADE"), index=True)
    cabin: Mapped[str] = mapped_column(String(1))
    seats: Mapped[int] = mapped_column(Integer)
    #: held, released (given back: by `release` or at expiry) or refused (the seats were not there).
    status: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PortRequest(Base):
    """A PNR change or refund asked through the `Reservations` port, once per idempotency key, with its answer."""

    __tablename__ = "airline_requests"

    idempotency_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    #: change or refund.
    kind: Mapped[str] = mapped_column(String(8))
    #: A `PnrState` value.
    state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    reference: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The PNR version the answer reported.
    version: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
