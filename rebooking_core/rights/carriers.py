"""The operating carriers' licences and APPR size, by IATA code: what the engine needs to know of the airline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rebooking_core.rights.facts import CarrierSize, Licence

__all__ = ["Carriers"]


@dataclass(frozen=True)
class Carriers:
    """Every carrier has `licence` and `size` unless `by_code` names its licence (a codeshare or a sister airline)."""

    licence: Licence = Licence.EU
    size: CarrierSize = CarrierSize.LARGE
    by_code: Mapping[str, Licence] = field(default_factory=lambda: MappingProxyType({}))

    def licence_of(self, carrier: str) -> Licence:
        return self.by_code.get(carrier.upper(), self.licence)
