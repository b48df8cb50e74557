"""Alternative itineraries from a network snapshot: direct flights and one-stop connections.

Pure: it reads the snapshot and returns candidates; nothing is held here. A candidate needs
`seats` free seats in one cabin on every leg, because a booking is moved whole or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rebooking_core.network import Leg, NetworkSnapshot, Schedule

__all__ = ["Itinerary", "find_itineraries"]


@dataclass(frozen=True)
class Itinerary:
    """One way to get from the rebooking point to the destination, in one cabin."""

    legs: tuple[Leg, ...]
    cabin: str
    cabin_change: bool = False

    @property
    def flight_ids(self) -> tuple[int, ...]:
        return tuple(leg.flight_id for leg in self.legs)

    @property
    def dep_utc(self) -> dt.datetime:
        return self.legs[0].dep_utc

    @property
    def arr_utc(self) -> dt.datetime:
        return self.legs[-1].arr_utc

    @property
    def stops(self) -> int:
        return len(self.legs) - 1

    @property
    def origin(self) -> str:
        return self.legs[0].origin

    @property
    def destination(self) -> str:
        return self.legs[-1].destination


def find_itineraries(
    snapshot: NetworkSnapshot,
    *,
    origin: str,
    destination: str,
    not_before: dt.datetime,
    seats: int,
    cabin: str,
    window: dt.timedelta = dt.timedelta(hours=48),
    mct: dt.timedelta = dt.timedelta(minutes=45),
    max_connection: dt.timedelta = dt.timedelta(hours=6),
    exclude_flight_ids: frozenset[int] = frozenset(),
) -> list[Itinerary]:
    """Candidates in `cabin`; only if there are none, candidates in another cabin (cabin_change)."""
    if seats <= 0:
        raise ValueError("seats must be a positive number")
    found = _search(
        snapshot,
        origin,
        destination,
        not_before,
        seats,
        cabin,
        window,
        mct,
        max_connection,
        exclude_flight_ids,
    )
    if found:
        return found
    fallback: list[Itinerary] = []
    for other in sorted(snapshot.cabins - {cabin}):
        fallback.extend(
            Itinerary(legs=it.legs, cabin=it.cabin, cabin_change=True)
            for it in _search(
                snapshot,
                origin,
                destination,
                not_before,
                seats,
                other,
                window,
                mct,
                max_connection,
                exclude_flight_ids,
            )
        )
    return sorted(fallback, key=_order)


def _search(
    snapshot: NetworkSnapshot,
    origin: str,
    destination: str,
    not_before: dt.datetime,
    seats: int,
    cabin: str,
    window: dt.timedelta,
    mct: dt.timedelta,
    max_connection: dt.timedelta,
    exclude: frozenset[int],
) -> list[Itinerary]:
    routes: tuple[tuple[Leg, ...], ...] = snapshot.schedule.remember(
        ("routes", origin, destination, not_before, window, mct, max_connection, exclude),
        lambda: _routes(snapshot.schedule, origin, destination, not_before, window, mct, max_connection, exclude),
    )
    free, within = snapshot.free, snapshot.within
    return [
        Itinerary(legs=legs, cabin=cabin)
        for legs in routes
        if all(within(leg) and free(leg.flight_id, cabin) >= seats for leg in legs)
    ]


def _routes(
    schedule: Schedule,
    origin: str,
    destination: str,
    not_before: dt.datetime,
    window: dt.timedelta,
    mct: dt.timedelta,
    max_connection: dt.timedelta,
    exclude: frozenset[int],
) -> tuple[tuple[Leg, ...], ...]:
    """Every direct flight and one-stop connection whatever the seats, in the order options are shown."""
    found: list[tuple[Leg, ...]] = []
    for first in schedule.departures(origin, not_before, not_before + window):
        if first.flight_id in exclude:
            continue
        if first.destination == destination:
            found.append((first,))
            continue
        if first.destination == origin:
            continue
        onward = schedule.departures(
            first.destination,
            first.arr_utc + mct,
            first.arr_utc + max_connection,
            destination=destination,
        )
        found.extend((first, second) for second in onward if second.flight_id not in exclude)
    return tuple(sorted(found, key=_route_order))


def _route_order(legs: tuple[Leg, ...]) -> tuple[dt.datetime, int, dt.datetime, tuple[int, ...]]:
    return (legs[-1].arr_utc, len(legs) - 1, legs[0].dep_utc, tuple(leg.flight_id for leg in legs))


def _order(it: Itinerary) -> tuple[dt.datetime, int, dt.datetime, tuple[int, ...]]:
    return _route_order(it.legs)
