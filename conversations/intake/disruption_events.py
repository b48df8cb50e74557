"""Outbound events of a disruption's life: created, updated by its flight's story, settled — each with its change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from infra.event_log import EventType, record
from rebooking_core.models import Disruption, Flight


def disruption_key(disruption_id: int) -> str:
    """The ordering key of a disruption's events."""
    return f"disruption:{disruption_id}"


def _flights(flights: Iterable[Flight]) -> list[dict[str, str]]:
    return [{"carrier": f.carrier, "number": f.number, "date": f.service_date.isoformat()} for f in flights]


def _state(disruption: Disruption) -> dict[str, object]:
    return {
        "disruption_id": disruption.id,
        "kind": disruption.kind,
        "reason": disruption.reason,
        "new_departure": disruption.new_dep_utc.isoformat() if disruption.new_dep_utc else None,
    }


def created(
    s: AsyncSession,
    disruption_id: int,
    *,
    kind: str,
    reason: str | None,
    new_departure: dt.datetime | None,
    flights: Sequence[Flight],
    now: dt.datetime,
) -> None:
    """A new disruption of these flights (from the ops API or a feed)."""
    record(
        s,
        EventType.DISRUPTION_CREATED,
        at=now,
        key=disruption_key(disruption_id),
        data={
            "disruption_id": disruption_id,
            "kind": kind,
            "reason": reason,
            "new_departure": new_departure.isoformat() if new_departure else None,
            "flights": _flights(flights),
        },
    )


def updated(s: AsyncSession, disruption: Disruption, flight: Flight, update: str, now: dt.datetime) -> None:
    """The live disruption moved on: `update` is what happened to `flight` (delay, cancellation, reinstatement…)."""
    record(
        s,
        EventType.DISRUPTION_UPDATED,
        at=now,
        key=disruption_key(disruption.id),
        data={**_state(disruption), "update": update, "flight": _flights([flight])[0]},
    )


def settled(s: AsyncSession, disruption_ids: Iterable[int], now: dt.datetime) -> None:
    """Every conversation of these disruptions is over (booked, closed or opted out)."""
    for disruption_id in disruption_ids:
        record(s, EventType.DISRUPTION_SETTLED, at=now, key=disruption_key(disruption_id), data={"disruption_id": disruption_id})
