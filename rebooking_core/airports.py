"""Airports from `airportsdata`: coordinates, countries and time zones, plus distances."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import airportsdata

from rebooking_core.rights import territory as territories

#: Country codes whose airports are EU261 territory (member states, outermost regions filed under
#: their own code, the EEA and Switzerland); `Airport.in_eu261_area` also knows the exceptions.
EU261_COUNTRIES = frozenset(code for code, where in territories.COUNTRIES.items() if where is territories.Territory.EU)


@dataclass(frozen=True)
class Airport:
    iata: str
    name: str
    city: str
    country: str
    tz: str
    lat: float
    lon: float

    @property
    def territory(self) -> territories.Territory:
        """Where passenger-rights law places the airport (see `rebooking_core.rights.territory`)."""
        return territories.of(self.iata, self.country)

    @property
    def in_eu261_area(self) -> bool:
        return self.territory is territories.Territory.EU


@cache
def _table() -> dict[str, dict[str, object]]:
    table: dict[str, dict[str, object]] = dict(airportsdata.load("IATA"))  # type: ignore[arg-type]
    return table


def preload() -> int:
    """Read the airport table ahead of the first EU261 check that needs it; how many airports it holds."""
    return len(_table())


@cache
def get(iata: str) -> Airport:
    row = _table().get(iata.upper())
    if row is None:
        raise KeyError(f"unknown airport {iata!r}")
    return Airport(
        iata=str(row["iata"]),
        name=str(row["name"]),
        city=str(row["city"]),
        country=str(row["country"]),
        tz=str(row["tz"]),
        lat=float(row["lat"]),  # type: ignore[arg-type]
        lon=float(row["lon"]),  # type: ignore[arg-type]
    )


def exists(iata: str) -> bool:
    return iata.upper() in _table()


def distance_km(a: str, b: str) -> float:
    """Great-circle distance, the measure EU261 bands use."""
    pa, pb = get(a), get(b)
    lat1, lon1, lat2, lon2 = map(math.radians, (pa.lat, pa.lon, pb.lat, pb.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))
