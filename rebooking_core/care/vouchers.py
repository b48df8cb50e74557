"""Issue care vouchers exactly once: one row per passenger, disruption, kind and threshold, written insert-ignore.

The unique key (`one_voucher_per_threshold`) is what makes a timer firing twice, two workers
sweeping at once or a retried batch harmless: the loser's INSERT does nothing (on PostgreSQL it
waits for the winner's commit first), so it neither books a hotel room nor queues a message.
A code collision (60 random bits) is also a silent no-op; the next sweep issues with a new code.
Functions here never commit; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from infra.db import insert_ignore
from rebooking_core.care.models import CareVoucher
from rebooking_core.care.policy import CarePolicy
from rebooking_core.care.ports import HotelInventory
from rebooking_core.care.thresholds import CareKind, due
from rebooking_core.rights.outcome import Care

__all__ = ["Waiting", "at_desk", "for_booking", "issue", "new_code"]

#: 32 symbols without 0/O and 1/I: read aloud at a counter without mistakes, 5 bits each.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_GROUPS, _GROUP = 3, 4


def new_code() -> str:
    """A random voucher code such as `K7QX-M2ZD-9HRT` (60 bits from `secrets`): unguessable, not derived from any id."""
    return "-".join(
        "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP)) for _ in range(_GROUPS)
    )


@dataclass(frozen=True)
class Waiting:
    """A passenger waiting at `airport` for `new_departure`, with what the deciding regime owes them."""

    passenger_id: int
    booking_id: int
    disruption_id: int
    airport: str
    regime: str
    currency: str
    care: Care
    scheduled_departure: dt.datetime
    new_departure: dt.datetime
    #: The local date whose night a hotel is booked for (the scheduled departure's day at `airport`).
    night: dt.date


async def issue(
    s: AsyncSession,
    waiting: Sequence[Waiting],
    *,
    policy: CarePolicy,
    hotels: HotelInventory,
    now: dt.datetime,
) -> list[CareVoucher]:
    """The vouchers these passengers' waits have earned and do not hold yet, written now (hotel rooms booked); the new rows."""
    if not waiting:
        return []
    query = select(
        CareVoucher.passenger_id, CareVoucher.disruption_id, CareVoucher.kind, CareVoucher.threshold
    ).where(
        CareVoucher.passenger_id.in_(sorted({w.passenger_id for w in waiting})),
        CareVoucher.disruption_id.in_(sorted({w.disruption_id for w in waiting})),
    )
    held = {(int(p), int(d), str(k), str(t)) for p, d, k, t in await s.execute(query)}
    codes: list[str] = []
    for w in waiting:
        for d in due(
            w.care,
            scheduled_departure=w.scheduled_departure,
            new_departure=w.new_departure,
            now=now,
            lead=policy.lead,
        ):
            if (w.passenger_id, w.disruption_id, d.kind.value, d.threshold) in held:
                continue
            code = new_code()
            row = {
                "passenger_id": w.passenger_id,
                "booking_id": w.booking_id,
                "disruption_id": w.disruption_id,
                "kind": d.kind.value,
                "threshold": d.threshold,
                "regime": w.regime,
                "code": code,
                "amount": policy.amount(w.regime, d.kind),
                "currency": w.currency,
                "basis": w.care.basis[:600],
                "airport": w.airport,
                "issued_at": now,
                "valid_until": w.new_departure,
                "state": "issued",
            }
            if not await insert_ignore(s, CareVoucher, row):
                continue
            codes.append(code)
            if d.kind is CareKind.HOTEL:
                room = await hotels.reserve(
                    w.airport,
                    w.night,
                    1,
                    f"care-p{w.passenger_id}-d{w.disruption_id}-{w.night.isoformat()}",
                )
                if room is not None:
                    await s.execute(
                        update(CareVoucher).where(CareVoucher.code == code).values(hotel=room.hotel)
                    )
    if not codes:
        return []
    return list(
        await s.scalars(
            select(CareVoucher).where(CareVoucher.code.in_(codes)).order_by(CareVoucher.id)
        )
    )


async def for_booking(s: AsyncSession, booking_id: int, disruption_id: int) -> list[CareVoucher]:
    """A booking's vouchers for one disruption, in the order they were issued (the passenger page lists them)."""
    query = select(CareVoucher).where(
        CareVoucher.booking_id == booking_id, CareVoucher.disruption_id == disruption_id
    )
    return list(await s.scalars(query.order_by(CareVoucher.id)))


async def at_desk(s: AsyncSession, *, now: dt.datetime) -> dict[str, int]:
    """Per airport, hotel vouchers still valid that found no contracted room: passengers the desk must house."""
    query = (
        select(CareVoucher.airport, func.count())
        .where(
            CareVoucher.kind == CareKind.HOTEL.value,
            CareVoucher.hotel.is_(None),
            CareVoucher.state == "issued",
            CareVoucher.valid_until > now,
        )
        .group_by(CareVoucher.airport)
    )
    return {str(airport): int(n) for airport, n in await s.execute(query)}
