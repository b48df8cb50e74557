"""What the ops API, the CLI and the job queue say to intake: a disruption request, what recording it gave, a fan-out step."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rebooking_core.flight_updates import UpdateKind
from rebooking_core.types import DisruptionKind


class UnknownFlight(LookupError):
    pass


@dataclass(frozen=True)
class FlightKey:
    carrier: str
    number: str
    date: dt.date


@dataclass(frozen=True)
class DisruptionRequest:
    flights: tuple[FlightKey, ...]
    kind: DisruptionKind
    new_departure: dt.datetime | None = None
    reason: str | None = None
    idempotency_key: str | None = None
    #: A kind of the flight's story beyond cancelled and delayed (diverted, equipment, time change,
    #: reinstated): applied to each flight as a feed update would be, with these fields.
    update: UpdateKind | None = None
    new_arrival: dt.datetime | None = None
    diverted_to: str | None = None
    capacity: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Recorded:
    disruption_id: int
    created: bool
    #: An update of the flight's live disruption added bookings to offer: kick its fan-out too.
    fanout: bool = False


@dataclass(frozen=True)
class Step:
    """One link of a disruption's fan-out chain: how many were offered, and whether to go on."""

    offered: int
    more: bool
