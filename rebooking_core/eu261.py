"""EU261/2004 compensation for one itinerary, so ranking can weigh it and agents can quote it.

The rules live in `rebooking_core.rights` (EU261 beside UK261 and the APPR); this module keeps
the calls the rest of the code and tools outside the package make: `compensation(...)` answers
with EU261 alone, whichever regime would decide first, and `Eu261Outcome.basis` stays the short
reason code (`legal_basis` carries the legal basis text).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType

from rebooking_core.rights import eu261 as rules
from rebooking_core.rights.facts import Incident, Journey, Licence, Reroute
from rebooking_core.rights.outcome import Control
from rebooking_core.types import DisruptionKind

__all__ = ["EXTRAORDINARY_REASONS", "Eu261Outcome", "band_eur", "compensation", "is_extraordinary"]

#: Reason codes the carrier can invoke as extraordinary circumstances, each with its citation.
EXTRAORDINARY_REASONS: MappingProxyType[str, str] = rules.EXTRAORDINARY


@dataclass(frozen=True)
class Eu261Outcome:
    """`eligible` means compensation is owed; `basis` names the rule that decided it."""

    eligible: bool
    amount_eur: int
    basis: str
    legal_basis: str = ""


def is_extraordinary(reason_code: str | None) -> bool:
    return rules.EU261.control(reason_code)[0] is Control.EXTRAORDINARY


def _journey(origin: str, destination: str, carrier_is_eu: bool) -> Journey:
    return Journey(origin, destination, Licence.EU if carrier_is_eu else Licence.OTHER)


def in_scope(*, origin: str, destination: str, carrier_is_eu: bool) -> bool:
    """Art. 3(1): departures from the EU area, or arrivals there on an EU carrier."""
    return rules.EU261.scope(_journey(origin, destination, carrier_is_eu)) is not None


def band_eur(origin: str, destination: str) -> int:
    """The full Art. 7(1) amount for a journey."""
    return rules.EU261.full_amount(origin, destination)


def compensation(
    *,
    origin: str,
    destination: str,
    carrier_is_eu: bool,
    disruption_kind: DisruptionKind | str,
    reason_code: str | None,
    original_arrival: dt.datetime,
    new_arrival: dt.datetime | None,
    notice: dt.timedelta,
    original_departure: dt.datetime | None = None,
    new_departure: dt.datetime | None = None,
) -> Eu261Outcome:
    """What the passenger is owed if moved to an itinerary arriving at `new_arrival` (None: not rerouted)."""
    incident = Incident(
        kind=DisruptionKind(disruption_kind),
        reason_code=reason_code,
        scheduled_arrival=original_arrival,
        notice=notice,
        scheduled_departure=original_departure,
    )
    reroute = None if new_arrival is None else Reroute(arrival=new_arrival, departure=new_departure)
    outcome = rules.EU261.assess(_journey(origin, destination, carrier_is_eu), incident, reroute)
    return Eu261Outcome(eligible=outcome.eligible, amount_eur=outcome.amount, basis=outcome.reason, legal_basis=outcome.basis)
