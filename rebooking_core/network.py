"""An in-memory index of the flights and free seats in a time window, so option search is pure.

The snapshot is loaded once per batch (one query) and searched many times; its free counts are
a hint, not a promise: every seat is still taken by the atomic guarded UPDATE in
`rebooking_core.inventory`, and a batch decrements the snapshot as it holds seats so the next
booking in the same batch sees them gone.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.models import Flight, Inventory
from rebooking_core.types import FlightStatus

__all__ = ["Leg", "NetworkSnapshot", "load_network"]


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


class NetworkSnapshot:
    """Flights by origin and route, sorted by departure, with free seats per cabin."""

    def __init__(self, legs: Iterable[Leg], free: Mapping[tuple[int, str], int]) -> None:
        self._legs: dict[int, Leg] = {leg.flight_id: leg for leg in legs}
        self._free: dict[tuple[int, str], int] = {
            key: max(0, n) for key, n in free.items() if key[0] in self._legs
        }
        self.cabins: frozenset[str] = frozenset(cabin for _, cabin in self._free)
        by_origin: dict[str, list[Leg]] = defaultdict(list)
        by_route: dict[tuple[str, str], list[Leg]] = defaultdict(list)
        for leg in self._legs.values():
            by_origin[leg.origin].append(leg)
            by_route[(leg.origin, leg.destination)].append(leg)
        self._by_origin = {k: _sorted(v) for k, v in by_origin.items()}
        self._by_route = {k: _sorted(v) for k, v in by_route.items()}

    def __len__(self) -> int:
        return len(self._legs)

    def leg(self, flight_id: int) -> Leg:
        return self._legs[flight_id]

    def free(self, flight_id: int, cabin: str) -> int:
        return self._free.get((flight_id, cabin), 0)

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


async def load_network(
    session: AsyncSession, *, start: dt.datetime, end: dt.datetime
) -> NetworkSnapshot:
    """Load every operating flight departing in [start, end] with its free seats, in one query."""
    dep = func.coalesce(Flight.est_dep_utc, Flight.dep_utc)
    arr = func.coalesce(Flight.est_arr_utc, Flight.arr_utc)
    stmt = (
        select(
            Flight.id,
            Flight.carrier,
            Flight.number,
            Flight.service_date,
            Flight.origin,
            Flight.destination,
            dep.label("dep"),
            arr.label("arr"),
            Inventory.cabin,
            (Inventory.capacity - Inventory.sold - Inventory.held).label("free"),
        )
        .join(Inventory, Inventory.flight_id == Flight.id)
        .where(Flight.status != FlightStatus.CANCELLED.value, dep >= start, dep <= end)
    )
    legs: dict[int, Leg] = {}
    free: dict[tuple[int, str], int] = {}
    # Plain tuples: every batch of the fan-out loads a couple of thousand rows here.
    for fid, carrier, number, service_date, origin, destination, dep_at, arr_at, cabin, seats in await session.execute(stmt):
        if fid not in legs:
            legs[fid] = Leg(fid, carrier, number, service_date, origin, destination, dep_at, arr_at)
        free[(fid, cabin)] = int(seats)
    return NetworkSnapshot(legs.values(), free)
