"""The built-in hotel inventory: allotments from the settings, counted per night in `hotel_rooms`.

An airline lists its contracted hotels per airport with the rooms each gives it a night
(`REBOOK_CARE__HOTELS`). The first reservation for a night writes that night's counter for every
hotel at the airport (insert-ignore: later settings changes reach only nights not yet counted);
a reservation is one guarded ``UPDATE … SET taken = taken + n WHERE taken + n <= rooms``, so two
workers can never book more rooms than a hotel gives (the CHECK constraint is the last line), on
PostgreSQL and on SQLite alike. The key is written first: a second call with it, even concurrent,
waits on the unique key and returns the first call's answer without touching a counter.
The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from infra.db import insert_ignore
from rebooking_core.care.models import HotelReservation, HotelRoom
from rebooking_core.care.ports import HotelBooking

__all__ = ["Allotment", "TableHotels"]


@dataclass(frozen=True)
class Allotment:
    """Rooms `hotel` near `airport` gives the airline every night."""

    airport: str
    hotel: str
    rooms: int


class TableHotels:
    """`HotelInventory` on the database, inside the caller's transaction; hotels tried in the order listed."""

    def __init__(
        self, s: AsyncSession, allotments: Sequence[Allotment], *, now: dt.datetime
    ) -> None:
        self.s = s
        self.allotments = tuple(allotments)
        self.now = now

    async def reserve(
        self, airport: str, night: dt.date, rooms: int, key: str
    ) -> HotelBooking | None:
        if rooms <= 0:
            raise ValueError("rooms must be a positive number")
        if not await insert_ignore(
            self.s, HotelReservation, {"key": key, "rooms": rooms, "created_at": self.now}
        ):
            return await self._answered(key)
        await self._count_night(airport, night)
        candidates = await self.s.scalars(
            select(HotelRoom.id)
            .where(HotelRoom.airport == airport, HotelRoom.night == night)
            .order_by(HotelRoom.id)
        )
        for room_id in list(candidates):
            taken = await self.s.scalar(
                update(HotelRoom)
                .where(HotelRoom.id == room_id, HotelRoom.taken + rooms <= HotelRoom.rooms)
                .values(taken=HotelRoom.taken + rooms)
                .returning(HotelRoom.hotel)
            )
            if taken is not None:
                await self.s.execute(
                    update(HotelReservation)
                    .where(HotelReservation.key == key)
                    .values(hotel_room_id=room_id)
                )
                return HotelBooking(hotel=taken, airport=airport, night=night, rooms=rooms)
        return None

    async def _count_night(self, airport: str, night: dt.date) -> None:
        for a in self.allotments:
            if a.airport == airport and a.rooms > 0:
                await insert_ignore(
                    self.s,
                    HotelRoom,
                    {
                        "airport": airport,
                        "hotel": a.hotel,
                        "night": night,
                        "rooms": a.rooms,
                        "taken": 0,
                    },
                )

    async def _answered(self, key: str) -> HotelBooking | None:
        row = (
            await self.s.execute(
                select(HotelRoom.hotel, HotelRoom.airport, HotelRoom.night, HotelReservation.rooms)
                .join(HotelRoom, HotelRoom.id == HotelReservation.hotel_room_id)
                .where(HotelReservation.key == key)
            )
        ).first()
        return (
            None
            if row is None
            else HotelBooking(hotel=row[0], airport=row[1], night=row[2], rooms=row[3])
        )
