"""Delta imports of the schedule: add, change and remove flights by (carrier, number, date), whole file or nothing.

A changed flight takes the file's times, aircraft and seats per cabin. A capacity may not drop
below the seats already sold or held: the guarded UPDATE refuses it and the file with it, naming
the row. A row with `"status": "removed"` deletes a flight only when no booking has a segment on
it and no disruption or offer ever named it. A new time here does not disrupt anyone: delays and
retimings that move passengers come from the ops feeds (`rebook ingest`, `POST /v1/disruptions`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, column, delete, exists, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.importer import (
    FlightKey,
    ImportFailed,
    RecordList,
    _flight_label,
    _line_numbers,
    import_schedule,
)
from rebooking_core.models import (
    DisruptionFlight,
    DisruptionUpdate,
    Flight,
    Inventory,
    SeatHold,
    Segment,
)
from rebooking_core.records import ScheduleRecord

# Conversations belong to a layer the core may not import; this names the one column read here.
_conversations = table("conversations", column("flight_id"))


@dataclass(frozen=True)
class ScheduleUpsertReport:
    """Flights per outcome."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class _Stored:
    id: int
    origin: str
    destination: str
    dep_utc: dt.datetime
    arr_utc: dt.datetime
    aircraft: str
    capacity: dict[str, int]


async def upsert_schedule(
    session: AsyncSession, records: Sequence[ScheduleRecord]
) -> ScheduleUpsertReport:
    """Add, change or remove each flight; ImportFailed (nothing written, the caller rolls back) names the first bad row."""
    lines = _line_numbers(records)
    seen: dict[FlightKey, int] = {}
    for n, rec in zip(lines, records, strict=True):
        key = (rec.carrier, rec.number, rec.date)
        if key in seen:
            raise ImportFailed(n, f"flight {_flight_label(key)} already on line {seen[key]}")
        seen[key] = n
    stored = await _stored(session, set(seen))
    added: list[tuple[int, ScheduleRecord]] = []
    changed = removed = unchanged = 0
    for n, rec in zip(lines, records, strict=True):
        key = (rec.carrier, rec.number, rec.date)
        old = stored.get(key)
        if rec.status == "removed":
            if old is None:
                raise ImportFailed(n, f"status: no flight {_flight_label(key)} to remove")
            await _remove(session, n, key, old)
            removed += 1
        elif old is None:
            added.append((n, rec))
        elif _same(old, rec):
            unchanged += 1
        else:
            await _change(session, n, old, rec)
            changed += 1
    if added:
        await import_schedule(session, RecordList([r for _, r in added], [n for n, _ in added]))
    return ScheduleUpsertReport(
        added=len(added), changed=changed, removed=removed, unchanged=unchanged
    )


async def _stored(session: AsyncSession, keys: set[FlightKey]) -> dict[FlightKey, _Stored]:
    found: dict[FlightKey, _Stored] = {}
    dates = sorted({k[2] for k in keys})
    for first in range(0, len(dates), 5000):
        rows = await session.execute(
            select(Flight, Inventory.cabin, Inventory.capacity)
            .join(Inventory, Inventory.flight_id == Flight.id, isouter=True)
            .where(Flight.service_date.in_(dates[first : first + 5000]))
        )
        for flight, cabin, capacity in rows:
            key = (flight.carrier, flight.number, flight.service_date)
            if key not in keys:
                continue
            row = found.setdefault(
                key,
                _Stored(
                    flight.id,
                    flight.origin,
                    flight.destination,
                    flight.dep_utc,
                    flight.arr_utc,
                    flight.aircraft,
                    {},
                ),
            )
            if cabin is not None:
                row.capacity[cabin] = int(capacity)
    return found


def _capacity(rec: ScheduleRecord) -> dict[str, int]:
    return {"Y": rec.cabins.Y, "J": rec.cabins.J}


def _same(old: _Stored, rec: ScheduleRecord) -> bool:
    return (
        old.origin == rec.origin
        and old.destination == rec.destination
        and old.dep_utc == rec.departure.astimezone(dt.UTC)
        and old.arr_utc == rec.arrival.astimezone(dt.UTC)
        and old.aircraft == rec.aircraft
        and old.capacity == _capacity(rec)
    )


async def _has_segments(session: AsyncSession, flight_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(Segment.flight_id == flight_id))))


async def _change(session: AsyncSession, n: int, old: _Stored, rec: ScheduleRecord) -> None:
    """New times, aircraft and seats; a booked flight keeps its route (its passengers' itineraries depend on it)."""
    if (old.origin, old.destination) != (rec.origin, rec.destination) and await _has_segments(
        session, old.id
    ):
        raise ImportFailed(
            n,
            "origin: bookings hold segments on this flight, so its route cannot change (add a new flight)",
        )
    await session.execute(
        update(Flight)
        .where(Flight.id == old.id)
        .values(
            origin=rec.origin,
            destination=rec.destination,
            dep_utc=rec.departure.astimezone(dt.UTC),
            arr_utc=rec.arrival.astimezone(dt.UTC),
            aircraft=rec.aircraft,
        )
    )
    for cabin, seats in _capacity(rec).items():
        if old.capacity.get(cabin) == seats:
            continue
        if cabin not in old.capacity:
            session.add(Inventory(flight_id=old.id, cabin=cabin, capacity=seats, sold=0, held=0))
            continue
        # Guarded like every seat move: the new capacity must still hold what is sold and held.
        result = await session.execute(
            update(Inventory)
            .where(
                Inventory.flight_id == old.id,
                Inventory.cabin == cabin,
                Inventory.sold + Inventory.held <= seats,
            )
            .values(capacity=seats)
            .execution_options(synchronize_session=False)
        )
        if cast("CursorResult[Any]", result).rowcount != 1:
            taken = (
                await session.execute(
                    select(Inventory.sold, Inventory.held).where(
                        Inventory.flight_id == old.id, Inventory.cabin == cabin
                    )
                )
            ).one()
            raise ImportFailed(
                n,
                f"cabins.{cabin}: {seats} seats is fewer than the {taken.sold} sold and {taken.held} held on this flight",
            )
    await session.flush()


async def _remove(session: AsyncSession, n: int, key: FlightKey, old: _Stored) -> None:
    """Delete a flight nothing refers to; a booked, disrupted or offered one refuses the file."""
    if await _has_segments(session, old.id):
        raise ImportFailed(
            n, f"status: flight {_flight_label(key)} has booking segments; it cannot be removed"
        )
    for name, clause in (
        ("a disruption", exists().where(DisruptionFlight.flight_id == old.id)),
        ("a flight update", exists().where(DisruptionUpdate.flight_id == old.id)),
        ("a seat hold", exists().where(SeatHold.flight_id == old.id)),
        ("a conversation", exists().where(_conversations.c.flight_id == old.id)),
    ):
        if await session.scalar(select(clause)):
            raise ImportFailed(
                n, f"status: flight {_flight_label(key)} is named by {name}; it cannot be removed"
            )
    await session.execute(delete(Inventory).where(Inventory.flight_id == old.id))
    await session.execute(delete(Flight).where(Flight.id == old.id))
