"""Scores alternatives for one booking; weights are a value so variants can be A/B tested.

A score is in "minutes of arrival delay" units, lower is better: arrival delay, plus a penalty
per stop, plus a penalty for a cabin change, plus the EU261 cost converted at a rate per euro.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rebooking_core.options import Itinerary

__all__ = [
    "DEFAULT_WEIGHTS",
    "RankedOption",
    "RankingWeights",
    "arrival_delay_min",
    "rank",
    "score",
]


@dataclass(frozen=True)
class RankingWeights:
    """Penalties in minutes-equivalent; `name` labels the variant in experiments."""

    name: str = "default"
    per_delay_minute: float = 1.0
    per_early_minute: float = 0.25
    per_stop: float = 60.0
    cabin_change: float = 120.0
    per_eu261_euro: float = 0.2


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


def score(
    itinerary: Itinerary,
    *,
    original_arrival: dt.datetime,
    cabin: str,
    eu261_amount: int,
    weights: RankingWeights,
) -> float:
    """Lower is better; arriving early costs less than arriving late, but not nothing."""
    delay = arrival_delay_min(itinerary, original_arrival)
    lateness = delay * weights.per_delay_minute if delay >= 0 else -delay * weights.per_early_minute
    return (
        lateness
        + itinerary.stops * weights.per_stop
        + (weights.cabin_change if itinerary.cabin != cabin else 0.0)
        + eu261_amount * weights.per_eu261_euro
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
                ),
                arrival_delay_min=arrival_delay_min(it, original_arrival),
                eu261_eur=eur,
            )
        )
    ranked.sort(
        key=lambda r: (r.score, r.itinerary.arr_utc, r.itinerary.dep_utc, r.itinerary.flight_ids)
    )
    return ranked
