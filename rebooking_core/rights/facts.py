"""What a regime needs to know: the journey, what happened to it, and what the passenger was moved to."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from rebooking_core.types import DisruptionKind

__all__ = ["CarrierSize", "Incident", "Journey", "Licence", "Reroute"]


class Licence(StrEnum):
    """Who licensed the operating carrier of the disrupted flight: it decides arrival-based scope."""

    EU = "eu"  # an EU, EEA or Swiss operating licence: a 'Community carrier' (Reg. 261/2004 Art. 2(c))
    UK = "uk"  # a CAA licence: a 'UK air carrier' (UK261 Art. 2(m))
    CA = "ca"
    OTHER = "other"


class CarrierSize(StrEnum):
    """APPR s. 1(1): large = 2 million passengers or more in each of the two preceding calendar years."""

    LARGE = "large"
    SMALL = "small"


@dataclass(frozen=True)
class Journey:
    """One journey booked as a unit: first departure, final destination, connecting airports between.

    Distances run from `origin` to `destination` whatever the route (C-559/16 Bossen); scope is
    decided for the journey as a whole (C-537/17 Wegener; UK261 Art. 3(1A)).
    """

    origin: str
    destination: str
    carrier: Licence
    via: tuple[str, ...] = ()
    carrier_size: CarrierSize = CarrierSize.LARGE


@dataclass(frozen=True)
class Incident:
    """What happened: cancelled or delayed, why, when the journey was due, and how early the passenger was told.

    `scheduled_arrival` is at the final destination (delays count there: C-11/11 Folkerts);
    `scheduled_departure` is of the disrupted flight, `station` the airport where the passenger
    waits for it (its local date decides whether a night's stay is needed; default: the origin).
    """

    kind: DisruptionKind
    reason_code: str | None
    scheduled_arrival: dt.datetime
    notice: dt.timedelta = dt.timedelta(0)
    scheduled_departure: dt.datetime | None = None
    station: str = ""


@dataclass(frozen=True)
class Reroute:
    """Where the passenger now stands: the new (or delayed) departure and arrival at the final destination."""

    arrival: dt.datetime
    departure: dt.datetime | None = None
