"""Scores alternatives for one booking; weights are a value so variants can be A/B tested.

A score is in "minutes of arrival delay" units, lower is better: arrival delay, plus a penalty
per stop, plus a penalty for a cabin change, plus the EU261 cost converted at a rate per euro,
minus a bonus for each of the passenger's loyalty preferences the option meets (preferred cabin,
departure window, non-stop: `rebooking_core.preferences`, docs/loyalty.md). Without preferences
the bonus is nothing, so a passenger the loyalty system knows nothing about ranks as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rebooking_core.options import Itinerary
from rebooking_core.preferences import (
    NO_PREFERENCES,
    Preferences,
    avoids_connections,
    departs_in_window,
    flies_preferred_cabin,
)

__all__ = [
    "DEFAULT_WEIGHTS",
    "LoyaltyWeights",
    "RankedOption",
    "RankingWeights",
    "arrival_delay_min",
    "preference_bonus",
    "rank",
    "score",
]


@dataclass(frozen=True)
class LoyaltyWeights:
    """Minutes-equivalent taken off an option's score per preference it meets (0 turns one off).

    An hour for the preferred cabin halves a cabin change's 120; 45 minutes for the departure
    window or a non-stop flight lets a preferred option win over one up to 45 minutes earlier,
    never over one that gets the passenger there hours sooner.
    """

    preferred_cabin: float = 60.0
    departure_window: float = 45.0
    nonstop: float = 45.0


@dataclass(frozen=True)
class RankingWeights:
    """Penalties in minutes-equivalent; `name` labels the variant in experiments."""

    name: str = "default"
    per_delay_minute: float = 1.0
    per_early_minute: float = 0.25
    per_stop: float = 60.0
    cabin_change: float = 120.0
    per_eu261_euro: float = 0.2
    loyalty: LoyaltyWeights = LoyaltyWeights()


DEFAULT_WEIGHTS = RankingWeights()


@dataclass(frozen=True)
class RankedOption:
    itinerary: Itinerary
    score: float
    arrival_delay_min: int
    eu261_eur: int


def arrival_delay_min(itinerary: Itinerary, original_arrival: dt.datetime) -> int:
    """Whole minutes late (negative when early) at the final destination."""
    return int((itinerary.arr_utc - original_arrival).total_seconds() // 60)


def preference_bonus(
    itinerary: Itinerary, preferences: Preferences, weights: LoyaltyWeights
) -> float:
    """What the passenger's preferences take off the score: 0 without preferences."""
    if not preferences:
        return 0.0
    return (
        (weights.preferred_cabin if flies_preferred_cabin(itinerary, preferences) else 0.0)
        + (weights.departure_window if departs_in_window(itinerary, preferences) else 0.0)
        + (weights.nonstop if avoids_connections(itinerary, preferences) else 0.0)
    )


def score(
    itinerary: Itinerary,
    *,
    original_arrival: dt.datetime,
    cabin: str,
    eu261_amount: int,
    weights: RankingWeights,
    preferences: Preferences = NO_PREFERENCES,
) -> float:
    """Lower is better; arriving early costs less than arriving late, but not nothing."""
    delay = arrival_delay_min(itinerary, original_arrival)
    lateness = delay * weights.per_delay_minute if delay >= 0 else -delay * weights.per_early_minute
    return (
        lateness
        + itinerary.stops * weights.per_stop
        + (weights.cabin_change if itinerary.cabin != cabin else 0.0)
        + eu261_amount * weights.per_eu261_euro
        - preference_bonus(itinerary, preferences, weights.loyalty)
    )


def _no_compensation(_: Itinerary) -> int:
    return 0


def rank(
    itineraries: Iterable[Itinerary],
    *,
    original_arrival: dt.datetime,
    cabin: str,
    weights: RankingWeights = DEFAULT_WEIGHTS,
    eu261_amount: Callable[[Itinerary], int] = _no_compensation,
    preferences: Preferences = NO_PREFERENCES,
) -> list[RankedOption]:
    """Best first; ties broken by arrival, departure and flight ids so the order is stable."""
    ranked = []
    for it in itineraries:
        eur = eu261_amount(it)
        ranked.append(
            RankedOption(
                itinerary=it,
                score=score(
                    it,
                    original_arrival=original_arrival,
                    cabin=cabin,
                    eu261_amount=eur,
                    weights=weights,
                    preferences=preferences,
                ),
                arrival_delay_min=arrival_delay_min(it, original_arrival),
                eu261_eur=eur,
            )
        )
    ranked.sort(
        key=lambda r: (r.score, r.itinerary.arr_utc, r.itinerary.dep_utc, r.itinerary.flight_ids)
    )
    return ranked
