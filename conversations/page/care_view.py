"""The care vouchers the passenger page lists: one booking's, for one disruption, formatted in the page's locale."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from locales.formatting import format_datetime, format_money
from rebooking_core import airports
from rebooking_core.care.vouchers import for_booking

__all__ = ["VoucherView", "care_vouchers"]


@dataclass(frozen=True)
class VoucherView:
    """A voucher as the page shows it; `hotel` None on a hotel voucher means the airline's desk books the room."""

    kind: str
    code: str
    amount: str
    valid_until: str
    hotel: str | None
    state: str


async def care_vouchers(
    s: AsyncSession, *, booking_id: int, disruption_id: int, loc: str
) -> tuple[VoucherView, ...]:
    shown = []
    for v in await for_booking(s, booking_id, disruption_id):
        try:
            tz = airports.get(v.airport).tz
        except KeyError:
            tz = "UTC"
        shown.append(
            VoucherView(
                kind=v.kind,
                code=v.code,
                amount=format_money(v.amount, v.currency, loc),
                valid_until=format_datetime(v.valid_until, tz, loc),
                hotel=v.hotel,
                state=v.state,
            )
        )
    return tuple(shown)
