"""EU261/2004 compensation for one itinerary, so ranking can weigh it and agents can quote it.

Rules implemented (Regulation (EC) No 261/2004 and CJEU case law):

- Scope (Art. 3(1)): departure from an EU/EEA/CH airport on any carrier, or arrival there from
  outside on an EU carrier.
- Amount (Art. 7(1)), by great-circle distance from the journey's first departure to its final
  destination: <= 1500 km EUR 250; intra-EU > 1500 km, or 1500-3500 km, EUR 400; else EUR 600.
- Extraordinary circumstances (Art. 5(3)): the reason codes in `EXTRAORDINARY_REASONS` -> 0.
  An unknown or missing reason is not extraordinary: the carrier bears the burden of proof.
- Cancellation notice (Art. 5(1)(c)): >= 14 days -> 0; 7-14 days with a rerouting departing
  <= 2 h earlier and arriving < 4 h later -> 0; < 7 days with a rerouting departing <= 1 h earlier
  and arriving < 2 h later -> 0.
- Rerouting (Art. 7(2)): arriving no more than 2 h (band 250) / 3 h (band 400) / 4 h (band 600)
  after the original arrival halves the amount.
- Delay (Sturgeon, C-402/07): compensation when the arrival delay is >= 3 h; for the EUR 600
  band a delay under 4 h is halved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType

from rebooking_core import airports
from rebooking_core.types import DisruptionKind

__all__ = ["EXTRAORDINARY_REASONS", "Eu261Outcome", "band_eur", "compensation", "is_extraordinary"]

#: Reason codes the carrier can invoke as extraordinary circumstances, with why.
#: Numeric codes are IATA delay codes (AHM 730); mnemonics are the ops feed's own.
EXTRAORDINARY_REASONS: MappingProxyType[str, str] = MappingProxyType(
    {
        # IATA 71-77: weather
        "71": "weather at departure",
        "72": "weather at destination",
        "73": "weather en route or at alternate",
        "75": "de-icing of aircraft",
        "76": "snow, ice, water or sand removal at airport",
        "77": "ground handling impaired by weather",
        # IATA 81-89: air traffic flow management, airport and state authorities
        "81": "ATFM: ATC en-route demand or capacity",
        "82": "ATFM: ATC staff or equipment en route",
        "83": "ATFM: restriction at destination airport",
        "84": "ATFM: weather at destination",
        "85": "mandatory security",
        "86": "immigration, customs, health",
        "87": "airport facilities",
        "88": "restrictions at destination airport",
        "89": "restrictions at departure airport, ATC",
        # IATA 98: industrial action outside the operating airline (own staff, 97, is not)
        "98": "industrial action outside own airline",
        # ops-feed mnemonics
        "WEAT": "weather",
        "WX": "weather",
        "ATC": "air traffic control",
        "ATFM": "air traffic flow management",
        "SEC": "security",
        "STRK-EXT": "strike outside the airline",
        "STRKX": "strike outside the airline",
        "BIRD": "bird strike (C-315/15 Peskova)",
        "POL": "political instability",
        "MED": "medical emergency on board",
        "VOLC": "volcanic ash",
        "AIRP": "airport closure",
    }
)

_FULL_DELAY = dt.timedelta(hours=3)
_LONG_HAUL_HALF_DELAY = dt.timedelta(hours=4)


@dataclass(frozen=True)
class Eu261Outcome:
    """`eligible` means compensation is owed; `basis` names the rule that decided it."""

    eligible: bool
    amount_eur: int
    basis: str


def is_extraordinary(reason_code: str | None) -> bool:
    return reason_code is not None and reason_code.strip().upper() in EXTRAORDINARY_REASONS


def in_scope(*, origin: str, destination: str, carrier_is_eu: bool) -> bool:
    """Art. 3(1): departures from the EU area, or arrivals there on an EU carrier."""
    if airports.get(origin).in_eu261_area:
        return True
    return carrier_is_eu and airports.get(destination).in_eu261_area


def band_eur(origin: str, destination: str) -> int:
    """The full Art. 7(1) amount for a journey."""
    km = airports.distance_km(origin, destination)
    if km <= 1500:
        return 250
    intra_eu = airports.get(origin).in_eu261_area and airports.get(destination).in_eu261_area
    if intra_eu or km <= 3500:
        return 400
    return 600


def _halving_limit(full: int) -> dt.timedelta:
    return dt.timedelta(hours={250: 2, 400: 3}.get(full, 4))


def _none(basis: str) -> Eu261Outcome:
    return Eu261Outcome(eligible=False, amount_eur=0, basis=basis)


def _owed(amount: int, basis: str) -> Eu261Outcome:
    return Eu261Outcome(eligible=True, amount_eur=amount, basis=basis)


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
    if not in_scope(origin=origin, destination=destination, carrier_is_eu=carrier_is_eu):
        return _none("out_of_scope")
    if is_extraordinary(reason_code):
        return _none("extraordinary")
    full = band_eur(origin, destination)
    kind = DisruptionKind(disruption_kind)
    if kind is DisruptionKind.DELAYED:
        return _delay(full, original_arrival, new_arrival)
    return _cancellation(
        full, original_arrival, new_arrival, notice, original_departure, new_departure
    )


def _delay(
    full: int, original_arrival: dt.datetime, new_arrival: dt.datetime | None
) -> Eu261Outcome:
    if new_arrival is not None and new_arrival - original_arrival < _FULL_DELAY:
        return _none("delay_under_3h")
    if (
        full == 600
        and new_arrival is not None
        and new_arrival - original_arrival < _LONG_HAUL_HALF_DELAY
    ):
        return _owed(full // 2, "delay_3h_4h_halved")
    return _owed(full, "delay_3h_plus")


def _cancellation(
    full: int,
    original_arrival: dt.datetime,
    new_arrival: dt.datetime | None,
    notice: dt.timedelta,
    original_departure: dt.datetime | None,
    new_departure: dt.datetime | None,
) -> Eu261Outcome:
    if notice >= dt.timedelta(days=14):
        return _none("notice_14d")
    if new_arrival is None:
        return _owed(full, "cancelled_no_reroute")
    late_by = new_arrival - original_arrival
    if original_departure is not None and new_departure is not None:
        early_by = original_departure - new_departure
        if notice >= dt.timedelta(days=7):
            if early_by <= dt.timedelta(hours=2) and late_by < dt.timedelta(hours=4):
                return _none("notice_7d_reroute")
        elif early_by <= dt.timedelta(hours=1) and late_by < dt.timedelta(hours=2):
            return _none("notice_under_7d_reroute")
    if late_by <= _halving_limit(full):
        return _owed(full // 2, "reroute_halved")
    return _owed(full, "cancelled")
