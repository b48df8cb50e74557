from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PassengerFound")


@_attrs_define
class PassengerFound:
    """Who matched: ids to export, erase or ask consent for (no name or address).

    Attributes:
        booking_id (int):
        erased (bool):
        locator (str):
        passenger_id (int):
    """

    booking_id: int
    erased: bool
    locator: str
    passenger_id: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        booking_id = self.booking_id

        erased = self.erased

        locator = self.locator

        passenger_id = self.passenger_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "booking_id": booking_id,
                "erased": erased,
                "locator": locator,
                "passenger_id": passenger_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        booking_id = d.pop("booking_id")

        erased = d.pop("erased")

        locator = d.pop("locator")

        passenger_id = d.pop("passenger_id")

        passenger_found = cls(
            booking_id=booking_id,
            erased=erased,
            locator=locator,
            passenger_id=passenger_id,
        )

        passenger_found.additional_properties = d
        return passenger_found

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
