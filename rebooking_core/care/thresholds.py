"""Which care vouchers a passenger's wait has earned by now: pure, from the rights engine's `Care`.

Reg. 261/2004 Art. 6(1) (and UK261, which copies it) owes care once the carrier "reasonably
expects" the departure to be delayed by 2 h (band a), 3 h (b) or 4 h (c): the voucher is due as
soon as the known wait (new departure minus scheduled departure) reaches the regime's threshold,
not after the passenger has sat it out. Art. 5(1)(b) owes it at once on a cancellation (the engine
says `meals_after` 0: any wait for the rerouting). APPR s. 14 owes food and drink after 2 h. A new
departure on a later local day at the waiting station (`Care.hotel`) earns a hotel and the
transfer to it, within the same threshold (Art. 6(1)(ii) sits inside Art. 6(1)'s delay). Nothing is issued before the passenger can be at the airport (`lead` before the
scheduled departure) nor once the new departure has gone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from rebooking_core.rights.outcome import Care

__all__ = ["OVERNIGHT", "CareKind", "Due", "due", "threshold_label"]

#: The threshold of a hotel and its transfer.
OVERNIGHT = "overnight"


class CareKind(StrEnum):
    MEAL = "meal"
    HOTEL = "hotel"
    TRANSFER = "transfer"


@dataclass(frozen=True)
class Due:
    """One voucher the wait has earned: its kind and the threshold reached (the voucher's unique key with the passenger)."""

    kind: CareKind
    threshold: str


def threshold_label(meals_after: dt.timedelta) -> str:
    """ "2h", "3h", "4h" (or "0h" on a cancellation): whole hours, as the regulations state them."""
    return f"{int(meals_after.total_seconds() // 3600)}h"


def due(
    care: Care,
    *,
    scheduled_departure: dt.datetime,
    new_departure: dt.datetime,
    now: dt.datetime,
    lead: dt.timedelta,
) -> tuple[Due, ...]:
    """The vouchers owed now for a wait from `scheduled_departure` to `new_departure` (none outside the waiting window)."""
    if care.meals_after is None or now >= new_departure or now < scheduled_departure - lead:
        return ()
    wait = new_departure - scheduled_departure
    if wait <= dt.timedelta(0) or wait < care.meals_after:
        return ()
    owed = [Due(CareKind.MEAL, threshold_label(care.meals_after))]
    if care.hotel:
        owed += [Due(CareKind.HOTEL, OVERNIGHT), Due(CareKind.TRANSFER, OVERNIGHT)]
    return tuple(owed)
