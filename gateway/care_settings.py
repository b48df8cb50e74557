"""Care while waiting (REBOOK_CARE__*): voucher amounts per regime, the contracted hotels, and the sweep's pace."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from rebooking_core.care.hotels import Allotment
from rebooking_core.care.policy import DEFAULT_AMOUNTS, CarePolicy
from rebooking_core.care.thresholds import CareKind

__all__ = ["CareSettings", "HotelAllotment"]


def _defaults(kind: CareKind) -> dict[str, int]:
    return {regime: amounts[kind] for regime, amounts in DEFAULT_AMOUNTS.items()}


class HotelAllotment(BaseModel):
    """A contracted hotel near an airport and the rooms it gives the airline every night."""

    airport: str = Field(min_length=3, max_length=3)
    hotel: str = Field(min_length=1, max_length=120)
    rooms: int = Field(ge=0)


class CareSettings(BaseModel):
    """Voucher amounts in whole units of each regime's currency (EUR for eu261, GBP for uk261, CAD for appr), as JSON."""

    #: How often the worker looks for passengers whose wait has earned care (seconds).
    sweep_s: float = Field(default=60, gt=0)
    #: Vouchers are issued from this long before the scheduled departure (passengers at the airport), never earlier.
    lead_minutes: float = Field(default=180, ge=0)
    meal_amount: dict[str, int] = Field(default_factory=lambda: _defaults(CareKind.MEAL))
    hotel_amount: dict[str, int] = Field(default_factory=lambda: _defaults(CareKind.HOTEL))
    transfer_amount: dict[str, int] = Field(default_factory=lambda: _defaults(CareKind.TRANSFER))
    #: `[{"airport": "FRA", "hotel": "Airport Hotel", "rooms": 40}]`: tried in this order; none -> every hotel voucher goes to the desk.
    hotels: list[HotelAllotment] = Field(default_factory=list)

    def policy(self) -> CarePolicy:
        regimes = set(self.meal_amount) | set(self.hotel_amount) | set(self.transfer_amount)
        amounts = {
            regime: {
                CareKind.MEAL: self.meal_amount.get(regime, 0),
                CareKind.HOTEL: self.hotel_amount.get(regime, 0),
                CareKind.TRANSFER: self.transfer_amount.get(regime, 0),
            }
            for regime in regimes
        }
        return CarePolicy(amounts=amounts, lead=dt.timedelta(minutes=self.lead_minutes))

    def allotments(self) -> tuple[Allotment, ...]:
        return tuple(Allotment(a.airport.upper(), a.hotel, a.rooms) for a in self.hotels)
