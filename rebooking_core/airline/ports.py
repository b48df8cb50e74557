"""What rebook asks of the airline's systems, as plain Protocols and frozen values (no SQL, no HTTP).

The built-in SQL store implements all three for the embedded default; `HttpPss` implements them
against the REST contract in `docs/pss.openapi.yaml`. Seat safety never rests on a remote answer:
rebook's own counters decide what may be offered and held; the PSS is told, and a refusal turns
into a fresh offer, never into a booking rebook claims and the PSS lacks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

__all__ = [
    "Availability",
    "FlightKey",
    "Inventory",
    "Loyalty",
    "LoyaltyProfile",
    "PnrChange",
    "PnrOutcome",
    "PnrSegment",
    "PnrState",
    "PnrView",
    "PssUnavailable",
    "RefundOutcome",
    "RefundRequest",
    "RemoteHold",
    "Reservations",
]


class PssUnavailable(Exception):
    """The airline's system did not answer in time or answered 5xx: the outcome is unknown, ask again later."""


@dataclass(frozen=True)
class FlightKey:
    """A flight as the PSS names it: carrier, number and local departure date."""

    carrier: str
    number: str
    date: dt.date


@dataclass(frozen=True)
class Availability:
    flight: FlightKey
    cabin: str
    seats: int


@dataclass(frozen=True)
class RemoteHold:
    """A seat hold the PSS granted, released by its reference or lapsing at `expires_at`."""

    reference: str
    flight: FlightKey
    cabin: str
    seats: int
    expires_at: dt.datetime


@dataclass(frozen=True)
class PnrSegment:
    flight: FlightKey
    cabin: str
    #: The IATA action/status code: HK confirmed, HX cancelled, and so on.
    status: str = "HK"


@dataclass(frozen=True)
class PnrChange:
    """Replace `cancel` by `sell` on one PNR; `version` is the PNR version the change was planned on (None: any).

    The version is the one `Reservations.read` reported for this PNR (each implementation keeps its
    own: the built-in store counts segment rows, a remote PSS sends its own); a stale one is REFUSED.
    """

    locator: str
    cancel: tuple[PnrSegment, ...]
    sell: tuple[PnrSegment, ...]
    passengers: int
    version: int | None = None


class PnrState(StrEnum):
    CONFIRMED = "confirmed"
    #: Accepted, to be confirmed later (ask again with `change_status`).
    PENDING = "pending"
    #: Refused for good (no seat, PNR changed since `version`, ticket cannot be re-issued).
    REFUSED = "refused"
    #: The PSS has never seen this idempotency key (a call lost before it arrived).
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PnrOutcome:
    state: PnrState
    version: int | None = None
    #: The ticket re-issue status as the PSS reports it ("reissued", "pending", "not_required"...).
    ticket: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class PnrView:
    locator: str
    version: int
    segments: tuple[PnrSegment, ...]
    passengers: int
    #: The ticket re-issue status, when the PSS reports one (as in `PnrOutcome.ticket`).
    ticket: str | None = None


@dataclass(frozen=True)
class RefundRequest:
    """A refund asked for the unused part of a PNR; `basis` names the rule that grants it (e.g. EU261 Art. 8(1)(a))."""

    locator: str
    segments: tuple[PnrSegment, ...]
    basis: str
    passengers: int


@dataclass(frozen=True)
class RefundOutcome:
    """CONFIRMED: accepted, to be paid by the airline's own process; PENDING: under review; REFUSED: not refundable."""

    state: PnrState
    reference: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class LoyaltyProfile:
    """What the loyalty system knows of a passenger; `preferences` are free keys (e.g. "seat": "aisle")."""

    tier: int
    status: str | None = None
    miles: int | None = None
    preferences: Mapping[str, str] = field(default_factory=dict)


class Inventory(Protocol):
    """Seats per flight and cabin, and holds on them."""

    async def availability(self, flights: Sequence[FlightKey]) -> list[Availability]: ...

    async def hold(
        self,
        flight: FlightKey,
        cabin: str,
        seats: int,
        *,
        expires_at: dt.datetime,
        idempotency_key: str,
    ) -> RemoteHold | None:
        """None when the seats are not there."""

    async def release(self, reference: str) -> None: ...


class Reservations(Protocol):
    """PNRs: change segments (cancel HX, sell HK, ticket re-issue), refund, read."""

    async def change(self, change: PnrChange, *, idempotency_key: str) -> PnrOutcome:
        """Raises `PssUnavailable` when the outcome is unknown; the same key never changes the PNR twice."""

    async def change_status(self, locator: str, idempotency_key: str) -> PnrOutcome:
        """What became of the change sent with this key (UNKNOWN: it never arrived)."""

    async def refund(self, request: RefundRequest, *, idempotency_key: str) -> RefundOutcome: ...

    async def read(self, locator: str) -> PnrView | None: ...


class Loyalty(Protocol):
    async def profile(self, passenger_id: int) -> LoyaltyProfile | None: ...
