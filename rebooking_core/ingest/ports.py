"""What every feed adapter (IATA text, flight-status webhooks and pollers) asks of the layers around it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rebooking_core.flight_updates import FlightRef, FlightUpdate
from rebooking_core.ingest.flightstatus import FlightStatus


@dataclass(frozen=True)
class FeedResult:
    """What became of one update: intake's outcome (applied, unchanged, stale, duplicate) or why it was refused."""

    update: FlightUpdate
    #: applied | unchanged | stale | duplicate | unknown_flight | invalid
    outcome: str
    disruption_id: int | None = None
    detail: str | None = None

    @property
    def refused(self) -> bool:
        return self.outcome in ("unknown_flight", "invalid")


class UpdateSink(Protocol):
    """Takes feed updates to the flights' stories, one at a time in the order given."""

    async def accept(self, updates: Sequence[FlightUpdate]) -> list[FeedResult]: ...


class StatusSource(Protocol):
    """A flight-status provider asked for one flight's status (None: it does not know the flight)."""

    async def status(self, flight: FlightRef) -> FlightStatus | None: ...
