"""The body of a delivery: `{"type", "timestamp", "data"}`, and the personal data a subscription's scope allows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.models import Booking, Passenger


def message_id(event_id: int) -> str:
    """The `webhook-id` of an event: the same on every attempt, every replay and every endpoint."""
    return f"evt_{event_id}"


def body(kind: str, occurred_at: dt.datetime, data: Mapping[str, Any], *, locator: str | None = None, pii: bool = False) -> bytes:
    """Compact JSON, exactly the bytes that are signed; `pii` subscriptions get the booking's `locator` too."""
    shown = dict(data)
    if pii and "booking_id" in shown:
        shown["locator"] = locator
    payload = {"type": kind, "timestamp": occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"), "data": shown}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


async def locators(s: AsyncSession, booking_ids: Iterable[int]) -> dict[int, str]:
    """Locators of these bookings, except those with an erased passenger: a locator is personal data in practice."""
    wanted = sorted(set(booking_ids))
    if not wanted:
        return {}
    erased = select(Passenger.booking_id).where(Passenger.booking_id.in_(wanted), Passenger.erased_at.is_not(None))
    rows = await s.execute(select(Booking.id, Booking.locator).where(Booking.id.in_(wanted), Booking.id.not_in(erased)))
    return {int(i): str(loc) for i, loc in rows.all()}
