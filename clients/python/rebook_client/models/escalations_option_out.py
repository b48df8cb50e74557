from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="EscalationsOptionOut")


@_attrs_define
class EscalationsOptionOut:
    """
    Attributes:
        arrives_utc (datetime.datetime):
        departs_utc (datetime.datetime):
        flights (str):
        number (int):
        option_id (int):
        seat_status (str):
        seats_left (int):
    """

    arrives_utc: datetime.datetime
    departs_utc: datetime.datetime
    flights: str
    number: int
    option_id: int
    seat_status: str
    seats_left: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        arrives_utc = self.arrives_utc.isoformat()

        departs_utc = self.departs_utc.isoformat()

        flights = self.flights

        number = self.number

        option_id = self.option_id

        seat_status = self.seat_status

        seats_left = self.seats_left

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "arrives_utc": arrives_utc,
                "departs_utc": departs_utc,
                "flights": flights,
                "number": number,
                "option_id": option_id,
                "seat_status": seat_status,
                "seats_left": seats_left,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        arrives_utc = datetime.datetime.fromisoformat(d.pop("arrives_utc"))

        departs_utc = datetime.datetime.fromisoformat(d.pop("departs_utc"))

        flights = d.pop("flights")

        number = d.pop("number")

        option_id = d.pop("option_id")

        seat_status = d.pop("seat_status")

        seats_left = d.pop("seats_left")

        escalations_option_out = cls(
            arrives_utc=arrives_utc,
            departs_utc=departs_utc,
            flights=flights,
            number=number,
            option_id=option_id,
            seat_status=seat_status,
            seats_left=seats_left,
        )

        escalations_option_out.additional_properties = d
        return escalations_option_out

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
