from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EscalationsFlightNamed")


@_attrs_define
class EscalationsFlightNamed:
    """
    Attributes:
        carrier (str):
        date (datetime.date):
        destination (str):
        number (str):
        origin (str):
    """

    carrier: str
    date: datetime.date
    destination: str
    number: str
    origin: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        carrier = self.carrier

        date = self.date.isoformat()

        destination = self.destination

        number = self.number

        origin = self.origin

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "carrier": carrier,
                "date": date,
                "destination": destination,
                "number": number,
                "origin": origin,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        carrier = d.pop("carrier")

        date = datetime.date.fromisoformat(d.pop("date"))

        destination = d.pop("destination")

        number = d.pop("number")

        origin = d.pop("origin")

        escalations_flight_named = cls(
            carrier=carrier,
            date=date,
            destination=destination,
            number=number,
            origin=origin,
        )

        escalations_flight_named.additional_properties = d
        return escalations_flight_named

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
