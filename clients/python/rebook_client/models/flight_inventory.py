from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.cabin_inventory import CabinInventory


T = TypeVar("T", bound="FlightInventory")


@_attrs_define
class FlightInventory:
    """
    Attributes:
        cabins (list[CabinInventory]):
        carrier (str):
        date (datetime.date):
        number (str):
        segments_confirmed (int):
        status (str):
    """

    cabins: list[CabinInventory]
    carrier: str
    date: datetime.date
    number: str
    segments_confirmed: int
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cabins = []
        for cabins_item_data in self.cabins:
            cabins_item = cabins_item_data.to_dict()
            cabins.append(cabins_item)

        carrier = self.carrier

        date = self.date.isoformat()

        number = self.number

        segments_confirmed = self.segments_confirmed

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cabins": cabins,
                "carrier": carrier,
                "date": date,
                "number": number,
                "segments_confirmed": segments_confirmed,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cabin_inventory import CabinInventory  # noqa: PLC0415

        d = dict(src_dict)
        cabins = []
        _cabins = d.pop("cabins")
        for cabins_item_data in _cabins:
            cabins_item = CabinInventory.from_dict(cabins_item_data)

            cabins.append(cabins_item)

        carrier = d.pop("carrier")

        date = datetime.date.fromisoformat(d.pop("date"))

        number = d.pop("number")

        segments_confirmed = d.pop("segments_confirmed")

        status = d.pop("status")

        flight_inventory = cls(
            cabins=cabins,
            carrier=carrier,
            date=date,
            number=number,
            segments_confirmed=segments_confirmed,
            status=status,
        )

        flight_inventory.additional_properties = d
        return flight_inventory

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
