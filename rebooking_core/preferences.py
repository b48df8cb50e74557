"""A loyalty profile's travel preferences as ranking reads them: the few an itinerary can meet, and whether it does.

A profile's preferences are free keys (`LoyaltyProfile.preferences`, the import's `preferences`);
ranking understands three of them and ignores the rest (a seat or meal preference is the
airport's business, not the choice of a flight):

- ``cabin``: ``Y`` or ``J``, the cabin the passenger would rather fly when theirs is full;
- ``time``: ``morning``, ``afternoon``, ``evening`` or ``night``, local time at the departure airport;
- ``avoid_connection``: ``yes``, a non-stop flight over one with a change of plane.

`normalised` keeps only those, in one canonical, hashable form, so bookings whose profiles differ
only in what ranking ignores still share one search in a fan-out batch (`offers.RankingCache`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo

from rebooking_core import airports
from rebooking_core.options import Itinerary

__all__ = [
    "NO_PREFERENCES",
    "DepartureWindow",
    "Preferences",
    "avoids_connections",
    "departs_in_window",
    "flies_preferred_cabin",
    "local_hour",
    "normalised",
]

#: Sorted (key, value) pairs of the preferences ranking understands.
Preferences = tuple[tuple[str, str], ...]
NO_PREFERENCES: Preferences = ()


class DepartureWindow(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"
    NIGHT = "night"


#: Local departure hours [from, to) of each window; night wraps past midnight.
WINDOW_HOURS: Mapping[DepartureWindow, tuple[int, int]] = {
    DepartureWindow.MORNING: (5, 12),
    DepartureWindow.AFTERNOON: (12, 18),
    DepartureWindow.EVENING: (18, 23),
    DepartureWindow.NIGHT: (23, 5),
}
_WINDOWS = frozenset(w.value for w in DepartureWindow)
_CABINS = frozenset({"Y", "J"})
_YES = frozenset({"yes", "true", "1"})


def normalised(preferences: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Preferences:
    """The understood preferences, canonical (upper-case cabin, lower-case words); unknown keys and values dropped."""
    if not preferences:
        return NO_PREFERENCES
    pairs = preferences.items() if isinstance(preferences, Mapping) else preferences
    kept: dict[str, str] = {}
    for key, raw in pairs:
        value = str(raw).strip()
        if key == "cabin" and value.upper() in _CABINS:
            kept["cabin"] = value.upper()
        elif key == "time" and value.lower() in _WINDOWS:
            kept["time"] = value.lower()
        elif key == "avoid_connection" and value.lower() in _YES:
            kept["avoid_connection"] = "yes"
    return tuple(sorted(kept.items()))


def _get(preferences: Preferences, key: str) -> str | None:
    return next((v for k, v in preferences if k == key), None)


def flies_preferred_cabin(itinerary: Itinerary, preferences: Preferences) -> bool:
    return _get(preferences, "cabin") == itinerary.cabin


def avoids_connections(itinerary: Itinerary, preferences: Preferences) -> bool:
    """A non-stop itinerary for a passenger who would rather not change planes."""
    return itinerary.stops == 0 and _get(preferences, "avoid_connection") == "yes"


@cache
def _zone(iata: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(airports.get(iata).tz)
    except (KeyError, ValueError):
        return None


def local_hour(at: dt.datetime, iata: str) -> int | None:
    """The hour on the airport's clock; None for an airport the table does not know."""
    zone = _zone(iata)
    return at.astimezone(zone).hour if zone is not None else None


def departs_in_window(itinerary: Itinerary, preferences: Preferences) -> bool:
    window = _get(preferences, "time")
    if window is None:
        return False
    hour = local_hour(itinerary.dep_utc, itinerary.origin)
    if hour is None:
        return False
    start, end = WINDOW_HOURS[DepartureWindow(window)]
    return start <= hour < end if start < end else hour >= start or hour < end
