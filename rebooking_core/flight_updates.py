"""What any ops feed says about one flight, in one shape: the API, IATA MVT/ASM and flight-status providers all
produce `FlightUpdate`s, and intake applies them to the flight's story whatever their source."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class UpdateKind(StrEnum):
    DELAY = "delay"
    #: A delay shortened, or the flight back on its schedule (`new_departure` = the schedule).
    DELAY_REDUCED = "delay_reduced"
    CANCELLATION = "cancellation"
    #: A cancelled flight flies again.
    REINSTATEMENT = "reinstatement"
    DIVERSION = "diversion"
    #: Another aircraft type; `capacity` gives the seats per cabin it has.
    EQUIPMENT = "equipment"
    #: A schedule change (new scheduled times), not an operational delay.
    TIME_CHANGE = "time_change"
    #: A new estimated arrival alone (MVT `EA`, a status's arrival estimate): connections and a late arrival follow it.
    ARRIVAL = "arrival"


@dataclass(frozen=True)
class FlightRef:
    """A flight as feeds name it: carrier, number and a date, by default the UTC date of its scheduled departure.

    IATA MVT and ASM in UTC mode and flight-status documents name the UTC date; ASM in LT mode and
    the ops API name the local date at the departure station (the schedule's service date): `local`.
    Intake resolves either to one flight (`conversations.intake.story.find_flight`).
    """

    carrier: str
    number: str
    date: dt.date
    local: bool = False


@dataclass(frozen=True)
class FlightUpdate:
    """One change to one flight; (`source`, `message_id`) makes it idempotent and `issued_at` orders it.

    Times are aware UTC datetimes. An update older than the last one applied for its flight is
    ignored; one that changes nothing is a no-op.
    """

    source: str
    message_id: str
    flight: FlightRef
    kind: UpdateKind
    issued_at: dt.datetime
    new_departure: dt.datetime | None = None
    new_arrival: dt.datetime | None = None
    #: Diversion: the airport (IATA code) the flight goes to instead.
    diverted_to: str | None = None
    #: Equipment change: seats per cabin code ("Y", "J") of the new aircraft.
    capacity: tuple[tuple[str, int], ...] = ()
    #: IATA delay codes with minutes, e.g. (("93", 45),), and free supplementary information.
    delay_codes: tuple[tuple[str, int], ...] = ()
    reason: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())
