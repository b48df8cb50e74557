"""Tables of care: the vouchers issued to waiting passengers, and the built-in hotel allotments with their reservations."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from infra.orm import Base, BigId, UTCDateTime

__all__ = ["CARE_VOUCHERS", "CareVoucher", "HotelReservation", "HotelRoom"]


class CareVoucher(Base):
    """One voucher a passenger is owed while waiting; the unique key makes a second sweep, worker or retry a no-op."""

    __tablename__ = "care_vouchers"
    __table_args__ = (
        UniqueConstraint(
            "passenger_id", "disruption_id", "kind", "threshold", name="one_voucher_per_threshold"
        ),
        Index("ix_care_vouchers_booking", "booking_id", "disruption_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    passenger_id: Mapped[int] = mapped_column(ForeignKey("passengers.id", ondelete="CASCADE"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    disruption_id: Mapped[int] = mapped_column(ForeignKey("disruptions.id"))
    #: meal, hotel or transfer (`rebooking_core.care.thresholds.CareKind`).
    kind: Mapped[str] = mapped_column(String(10))
    #: The wait it was issued for: "2h", "3h", "4h" (a meal after that long), "0h" (a cancellation), "overnight".
    threshold: Mapped[str] = mapped_column(String(10))
    regime: Mapped[str] = mapped_column(String(8))
    #: Random, unguessable, unique: what the passenger shows at the counter.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    basis: Mapped[str] = mapped_column(String(600))
    #: The hotel booked for a hotel voucher; None: no room was free, the airline's desk finds one.
    hotel: Mapped[str | None] = mapped_column(String(120), default=None)
    airport: Mapped[str] = mapped_column(String(3))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: issued, redeemed or void.
    state: Mapped[str] = mapped_column(String(10), default="issued")


class HotelRoom(Base):
    """Rooms one hotel near an airport gives the airline for one night; `taken` only grows by a guarded UPDATE."""

    __tablename__ = "hotel_rooms"
    __table_args__ = (
        UniqueConstraint("airport", "hotel", "night", name="one_allotment_per_night"),
        CheckConstraint("taken >= 0 AND taken <= rooms", name="no_overbooked_rooms"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    airport: Mapped[str] = mapped_column(String(3))
    hotel: Mapped[str] = mapped_column(String(120))
    night: Mapped[dt.date] = mapped_column(Date)
    rooms: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class HotelReservation(Base):
    """A reservation made under a caller's key, so asking again with the key books nothing more."""

    __tablename__ = "hotel_reservations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(96), unique=True)
    #: None: no room was free when the key was first asked.
    hotel_room_id: Mapped[int | None] = mapped_column(ForeignKey("hotel_rooms.id"), default=None)
    rooms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


CARE_VOUCHERS = cast(Table, CareVoucher.__table__)
