"""Tables of the built-in PSS adapter: schedule, inventory, bookings, disruptions, holds."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
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

from infra.orm import Base, BigId, EncryptedString, UTCDateTime


class Flight(Base):
    __tablename__ = "flights"
    __table_args__ = (
        UniqueConstraint("carrier", "number", "service_date", name="flight_key"),
        Index("ix_flights_origin_dep", "origin", "dep_utc"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    carrier: Mapped[str] = mapped_column(String(3))
    number: Mapped[str] = mapped_column(String(5))
    service_date: Mapped[dt.date] = mapped_column(Date)
    origin: Mapped[str] = mapped_column(String(3))
    destination: Mapped[str] = mapped_column(String(3))
    dep_utc: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    arr_utc: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    est_dep_utc: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    est_arr_utc: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    status: Mapped[str] = mapped_column(String(12), default="scheduled")
    aircraft: Mapped[str] = mapped_column(String(4), default="320")


class Inventory(Base):
    """Seat counters per flight and cabin; the CHECK is the last line against overselling."""

    __tablename__ = "inventory"
    __table_args__ = (
        CheckConstraint("sold >= 0 AND held >= 0 AND sold + held <= capacity", name="no_oversell"),
    )

    flight_id: Mapped[int] = mapped_column(ForeignKey("flights.id", ondelete="CASCADE"), primary_key=True)
    cabin: Mapped[str] = mapped_column(String(1), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    locator: Mapped[str] = mapped_column(String(6), unique=True)
    group_name: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The PSS's version of the PNR (0: loaded without one); an upsert applies only a newer one.
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: SHA-256 of the imported record (version left out): an upsert of the same content is `unchanged`.
    content_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class Passenger(Base):
    __tablename__ = "passengers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    given_name: Mapped[str | None] = mapped_column(EncryptedString(512))
    family_name: Mapped[str | None] = mapped_column(EncryptedString(512))
    tier: Mapped[int] = mapped_column(Integer, default=0)
    language: Mapped[str] = mapped_column(String(8), default="en")
    ssr: Mapped[str | None] = mapped_column(String(16), default=None)
    is_contact: Mapped[bool] = mapped_column(default=False)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    #: The loyalty programme's level name, miles balance and travel preferences (docs/loyalty.md): kept out of logs.
    loyalty_status: Mapped[str | None] = mapped_column(String(32), default=None)
    miles: Mapped[int | None] = mapped_column(BigInteger, default=None)
    preferences: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)


class ContactPoint(Base):
    """Where a passenger can be reached; the address is encrypted, its blind index is searchable."""

    __tablename__ = "contact_points"
    __table_args__ = (
        Index("ix_contact_lookup", "channel", "address_hash"),
        Index("ix_contact_bsuid", "channel", "bsuid_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    passenger_id: Mapped[int] = mapped_column(ForeignKey("passengers.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(12))
    address: Mapped[str | None] = mapped_column(EncryptedString(512))
    address_hash: Mapped[str | None] = mapped_column(String(64))
    preference: Mapped[int] = mapped_column(Integer, default=0)
    #: Our number (or account) the passenger last wrote to: answers go from it (a sender pool's stickiness).
    sender: Mapped[str | None] = mapped_column(String(64), default=None)
    #: WhatsApp's business-scoped user id: a user who hides their number is reachable by it alone.
    bsuid: Mapped[str | None] = mapped_column(EncryptedString(512), default=None)
    bsuid_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    #: The parent BSUID and the username, as Meta sent them (personal data like the number).
    parent_bsuid: Mapped[str | None] = mapped_column(EncryptedString(512), default=None)
    username: Mapped[str | None] = mapped_column(EncryptedString(512), default=None)
    #: A push device's platform (`ios`, `android`: APNs or FCM, named again by `sender`) and the app it runs.
    platform: Mapped[str | None] = mapped_column(String(8), default=None)
    app_id: Mapped[str | None] = mapped_column(String(128), default=None)


class Segment(Base):
    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_flight_status", "flight_id", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    flight_id: Mapped[int] = mapped_column(ForeignKey("flights.id"))
    cabin: Mapped[str] = mapped_column(String(1), default="Y")
    seq: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(2), default="HK")
    replaced_by_option: Mapped[int | None] = mapped_column(BigId, default=None)


class Disruption(Base):
    __tablename__ = "disruptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(8), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default="received")
    new_dep_utc: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    assessed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    offered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    impacted_passengers: Mapped[int] = mapped_column(Integer, default=0)
    batches_total: Mapped[int] = mapped_column(Integer, default=0)
    batches_done: Mapped[int] = mapped_column(Integer, default=0)
    #: W3C traceparent of the request that recorded it, so later sends and bookings join its trace.
    trace_context: Mapped[str | None] = mapped_column(String(64), default=None)


class DisruptionFlight(Base):
    __tablename__ = "disruption_flights"

    disruption_id: Mapped[int] = mapped_column(ForeignKey("disruptions.id", ondelete="CASCADE"), primary_key=True)
    flight_id: Mapped[int] = mapped_column(ForeignKey("flights.id"), primary_key=True)
    #: Equipment change: seats per cabin the new aircraft has, kept until the overflow has moved off.
    capacity: Mapped[dict[str, int] | None] = mapped_column(JSON, default=None)


class DisruptionUpdate(Base):
    """Every flight update intake saw, once per (source, message id): the dedupe key and the flight's order of events."""

    __tablename__ = "disruption_updates"
    __table_args__ = (
        UniqueConstraint("source", "message_id", name="one_update_per_message"),
        Index("ix_disruption_updates_flight", "flight_id", "issued_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(128))
    flight_id: Mapped[int] = mapped_column(ForeignKey("flights.id"))
    disruption_id: Mapped[int | None] = mapped_column(ForeignKey("disruptions.id", ondelete="SET NULL"), default=None)
    kind: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: applied, unchanged (a no-op) or stale (older than the last applied for the flight).
    outcome: Mapped[str] = mapped_column(String(12))


class SeatHold(Base):
    """Seats set aside for one offered option of one booking, until chosen or expired."""

    __tablename__ = "seat_holds"
    __table_args__ = (Index("ix_holds_status_expiry", "status", "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    option_id: Mapped[int] = mapped_column(BigId, index=True)
    flight_id: Mapped[int] = mapped_column(ForeignKey("flights.id"))
    cabin: Mapped[str] = mapped_column(String(1))
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="held")
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Offer(Base):
    """A set of options proposed to one booking for one disruption; superseded by a fresher one."""

    __tablename__ = "offers"
    __table_args__ = (Index("ix_offers_booking", "booking_id", "disruption_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    disruption_id: Mapped[int] = mapped_column(ForeignKey("disruptions.id"))
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    seats: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    accepted_option_id: Mapped[int | None] = mapped_column(BigId, default=None)


class OfferOption(Base):
    __tablename__ = "offer_options"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    flight_ids: Mapped[list[int]] = mapped_column(JSON)
    cabin: Mapped[str] = mapped_column(String(1))
    dep_utc: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    arr_utc: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    arrival_delay_min: Mapped[int] = mapped_column(Integer)
    stops: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column()
    eu261_eur: Mapped[int] = mapped_column(Integer, default=0)
    eu261_basis: Mapped[str] = mapped_column(String(32), default="")


def row_dict(obj: Any) -> dict[str, Any]:
    """Plain dict of a mapped row's columns (for exports and debugging)."""
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


#: Tables a fan-out batch writes in bulk, for Core INSERTs (the ORM's bulk path costs ~20 µs of Python a row).
OFFERS = cast(Table, Offer.__table__)
OFFER_OPTIONS = cast(Table, OfferOption.__table__)
SEAT_HOLDS = cast(Table, SeatHold.__table__)


class Claim(Base):
    """A passenger's compensation claim for one disruption: owed, not owed (with the reason), paid or disputed.

    One per passenger and disruption (the unique key makes a second event a no-op); the regime,
    amount and legal basis come from `rebooking_core.rights`. Erasure unlinks the passenger and
    booking and keeps the amounts (see docs/claims.md).
    """

    __tablename__ = "claims"
    __table_args__ = (
        UniqueConstraint("disruption_id", "passenger_id", name="one_claim_per_passenger"),
        Index("ix_claims_disruption_status", "disruption_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    disruption_id: Mapped[int] = mapped_column(ForeignKey("disruptions.id"))
    passenger_id: Mapped[int | None] = mapped_column(ForeignKey("passengers.id"), default=None)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), default=None, index=True)
    status: Mapped[str] = mapped_column(String(12))
    regime: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="")
    reason: Mapped[str] = mapped_column(String(32))
    basis: Mapped[str] = mapped_column(String(600))
    #: The operating carrier's licence and APPR size when the claim was made, so a booking can settle it alone.
    licence: Mapped[str] = mapped_column(String(8))
    carrier_size: Mapped[str] = mapped_column(String(8))
    #: The option the booking was confirmed on when the claim was last decided (none: as it stood), for the worker's sweep.
    decided_option_id: Mapped[int | None] = mapped_column(BigId, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


CLAIMS = cast(Table, Claim.__table__)


import rebooking_core.care.models  # noqa: E402, F401  (register the care tables with every import of the models)


class RefundRequestRow(Base):
    """A passenger's choice of a refund instead of rerouting: recorded here, sent to the airline's Reservations port.

    One per booking and disruption (`idempotency_key`); no money moves through rebook, the airline
    refunds to the original payment (see docs/choices.md and `rebooking_core.refunds`).
    """

    __tablename__ = "refund_requests"
    __table_args__ = (Index("ix_refund_requests_state", "state", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    disruption_id: Mapped[int] = mapped_column(ForeignKey("disruptions.id"))
    conversation_id: Mapped[int | None] = mapped_column(BigId, default=None)
    passengers: Mapped[int] = mapped_column(Integer)
    #: The cancelled (HX) segments' ids, in journey order.
    segment_ids: Mapped[list[int]] = mapped_column(JSON)
    #: The rights engine's legal basis, or the airline policy that allowed the refund.
    basis: Mapped[str] = mapped_column(String(600))
    state: Mapped[str] = mapped_column(String(12), default="requested")
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    reference: Mapped[str | None] = mapped_column(String(64), default=None)
    reason: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
