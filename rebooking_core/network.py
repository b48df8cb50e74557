"""An in-memory index of the flights and free seats in a time window, so option search is pure.

The snapshot is loaded once per batch and searched many times; its free counts are a hint, not
a promise: every seat is still taken by the atomic guarded UPDATE in `rebooking_core.inventory`,
and a batch decrements the snapshot as it holds seats so the next booking in the same batch sees
them gone. The legs themselves (a `Schedule`) are kept across batches while the database still
shows the same times for them (`ScheduleCache`). Loading them is `rebooking_core.network_store`'s.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Leg:
    """One flight as an itinerary sees it: its key and its best-known (estimated) times."""

    flight_id: int
    carrier: str
    number: str
    service_date: dt.date
    origin: str
    destination: str
    dep_utc: dt.datetime
    arr_utc: dt.datetime


class Schedule:
    """The legs of one window indexed by origin and route: everything a search needs but the seats.

    Snapshots of the same window share it while none of its legs changes (see `ScheduleCache`),
    and with it `routes`, a memo of searches that holds exactly as long as the legs do.
    """

    #: Searches remembered per schedule before the memo starts over (a few thousand per disruption).
    MAX_ROUTES = 50_000

    def __init__(
        self,
        legs: Iterable[Leg],
        *,
        window: tuple[dt.datetime, dt.datetime] | None = None,
        times: Mapping[int, tuple[object, object]] | None = None,
    ) -> None:
        self.legs: dict[int, Leg] = {leg.flight_id: leg for leg in legs}
        self.window = window
        #: Each leg's departure and arrival as the database stored them: what `network_store.load_network` compares.
        self.times = dict(times or {})
        self.routes: dict[Hashable, Any] = {}
        by_origin: dict[str, list[Leg]] = defaultdict(list)
        by_route: dict[tuple[str, str], list[Leg]] = defaultdict(list)
        for leg in self.legs.values():
            by_origin[leg.origin].append(leg)
            by_route[(leg.origin, leg.destination)].append(leg)
        self._by_origin = {k: _sorted(v) for k, v in by_origin.items()}
        self._by_route = {k: _sorted(v) for k, v in by_route.items()}

    def departures(
        self,
        origin: str,
        start: dt.datetime,
        end: dt.datetime,
        *,
        destination: str | None = None,
    ) -> list[Leg]:
        """Legs leaving `origin` (for `destination`, if given) with start <= departure <= end."""
        legs = (
            self._by_origin.get(origin, [])
            if destination is None
            else self._by_route.get((origin, destination), [])
        )
        lo = bisect_left(legs, start, key=_dep)
        hi = bisect_right(legs, end, key=_dep)
        return legs[lo:hi]

    def remember(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The memoised result of a search that depends on the legs alone."""
        found = self.routes.get(key)
        if found is None:
            if len(self.routes) >= self.MAX_ROUTES:
                self.routes.clear()
            found = self.routes[key] = compute()
        return found


class NetworkSnapshot:
    """Flights departing in [earliest, latest] by origin and route, with free seats per cabin."""

    def __init__(
        self,
        legs: Iterable[Leg] | Schedule,
        free: Mapping[tuple[int, str], int],
        *,
        earliest: dt.datetime | None = None,
        latest: dt.datetime | None = None,
    ) -> None:
        self.schedule = legs if isinstance(legs, Schedule) else Schedule(legs)
        self.earliest = earliest
        self.latest = latest
        # Legs of the schedule outside the window keep their seats here: every search checks `within`.
        self._legs = self.schedule.legs
        self._free: dict[tuple[int, str], int] = {
            key: n if n > 0 else 0 for key, n in free.items() if key[0] in self._legs
        }
        self.cabins: frozenset[str] = frozenset(cabin for _, cabin in self._free)

    def __len__(self) -> int:
        return sum(1 for leg in self._legs.values() if self.within(leg))

    def within(self, leg: Leg) -> bool:
        """Whether the leg departs inside this snapshot's window (its schedule may hold more)."""
        return (self.earliest is None or leg.dep_utc >= self.earliest) and (
            self.latest is None or leg.dep_utc <= self.latest
        )

    def leg(self, flight_id: int) -> Leg:
        return self._legs[flight_id]

    def free(self, flight_id: int, cabin: str) -> int:
        return self._free.get((flight_id, cabin), 0)

    def take(self, flight_id: int, cabin: str, seats: int) -> None:
        """Count seats as gone after the database granted them to someone in this batch."""
        key = (flight_id, cabin)
        self._free[key] = max(0, self._free.get(key, 0) - seats)

    def give_back(self, flight_id: int, cabin: str, seats: int) -> None:
        key = (flight_id, cabin)
        if flight_id in self._legs:
            self._free[key] = self._free.get(key, 0) + seats

    def mark_short(self, flight_id: int, cabin: str, seats: int) -> None:
        """The database refused `seats` here: stop offering that many for the rest of the batch."""
        key = (flight_id, cabin)
        self._free[key] = min(self._free.get(key, 0), max(0, seats - 1))


def _dep(leg: Leg) -> dt.datetime:
    return leg.dep_utc


def _sorted(legs: list[Leg]) -> list[Leg]:
    return sorted(legs, key=lambda leg: (leg.dep_utc, leg.flight_id))


class ScheduleCache:
    """One process's recent schedules by window, newest last.

    A load still reads every leg's times and seats in its window (one query of plain columns);
    only when they match a cached schedule's is that schedule reused, so a flight cancelled,
    retimed or added since is never missed. What it saves is building the legs and their
    indexes again, and every search already made on them.
    """

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._schedules: list[Schedule] = []

    def covering(self, start: dt.datetime, end: dt.datetime) -> Schedule | None:
        for schedule in reversed(self._schedules):
            if schedule.window is not None and schedule.window[0] <= start and end <= schedule.window[1]:
                return schedule
        return None

    def keep(self, schedule: Schedule, replaces: Schedule | None) -> None:
        others = [s for s in self._schedules if s is not replaces]
        self._schedules = others[max(0, len(others) - self.size + 1) :] + [schedule]
