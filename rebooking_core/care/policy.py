"""How much each voucher is worth, per regime and kind, in the regime's currency (the airline's settings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rebooking_core.care.thresholds import CareKind

__all__ = ["DEFAULT_AMOUNTS", "CarePolicy"]

#: Whole units of the regime's currency (EUR, GBP, CAD): a meal, a night's room, a return transfer.
DEFAULT_AMOUNTS: Mapping[str, Mapping[CareKind, int]] = MappingProxyType(
    {
        "eu261": MappingProxyType({CareKind.MEAL: 15, CareKind.HOTEL: 150, CareKind.TRANSFER: 40}),
        "uk261": MappingProxyType({CareKind.MEAL: 12, CareKind.HOTEL: 130, CareKind.TRANSFER: 35}),
        "appr": MappingProxyType({CareKind.MEAL: 20, CareKind.HOTEL: 200, CareKind.TRANSFER: 50}),
    }
)


@dataclass(frozen=True)
class CarePolicy:
    """Voucher amounts per regime and kind, and how long before the scheduled departure vouchers can be issued."""

    amounts: Mapping[str, Mapping[CareKind, int]] = field(default_factory=lambda: DEFAULT_AMOUNTS)
    lead: dt.timedelta = dt.timedelta(hours=3)

    def amount(self, regime: str, kind: CareKind) -> int:
        """The amount for `kind` under `regime` (0 for a regime the settings do not price: the desk decides)."""
        return int(self.amounts.get(regime, {}).get(kind, 0))
