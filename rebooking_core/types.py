"""Enumerations shared across the domain, persisted as their string values."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class FlightStatus(StrEnum):
    SCHEDULED = "scheduled"
    DELAYED = "delayed"
    CANCELLED = "cancelled"


class SegmentStatus(StrEnum):
    """IATA action/status codes for a booked segment."""

    HK = "HK"  # holds confirmed
    HX = "HX"  # cancelled (by the carrier)
    TK = "TK"  # schedule change, confirmed
    UN = "UN"  # unable, flight not operating


class Tier(IntEnum):
    """Loyalty tier; the integer is the allocation priority weight."""

    NONE = 0
    SILVER = 1
    GOLD = 2
    PLATINUM = 3

    @classmethod
    def parse(cls, value: str) -> Tier:
        return cls[value.strip().upper()]


class Cabin(StrEnum):
    ECONOMY = "Y"
    BUSINESS = "J"


class DisruptionKind(StrEnum):
    CANCELLED = "cancelled"
    DELAYED = "delayed"


class HoldStatus(StrEnum):
    HELD = "held"
    COMMITTED = "committed"
    RELEASED = "released"


class ChannelName(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    PUSH = "push"
    EMAIL = "email"
    TELEGRAM = "telegram"


#: A push device's platform -> the service that reaches it, which is also its contact point's sender (its lane).
PUSH_SERVICES: dict[str, str] = {"ios": "apns", "android": "fcm"}
