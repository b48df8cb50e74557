"""The hotel-inventory port: where a stranded passenger sleeps. The built-in table is `rebooking_core.care.hotels`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

__all__ = ["HotelBooking", "HotelInventory"]


@dataclass(frozen=True)
class HotelBooking:
    """Rooms booked at a named hotel for one night."""

    hotel: str
    airport: str
    night: dt.date
    rooms: int


class HotelInventory(Protocol):
    """Books rooms near an airport; the same `key` asked again returns the first answer and books nothing more."""

    async def reserve(
        self, airport: str, night: dt.date, rooms: int, key: str
    ) -> HotelBooking | None:
        """The booking, or None when no hotel there has `rooms` free that night."""
        ...
