from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="SegmentOut")


@_attrs_define
class SegmentOut:
    """
    Attributes:
        cabin (str):
        carrier (str):
        date (datetime.date):
        number (str):
        seq (int):
        status (str): HK/TK hold a seat; HX/UN do not.
    """

    cabin: str
    carrier: str
    date: datetime.date
    number: str
    seq: int
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cabin = self.cabin

        carrier = self.carrier

        date = self.date.isoformat()

        number = self.number

        seq = self.seq

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cabin": cabin,
                "carrier": carrier,
                "date": date,
                "number": number,
                "seq": seq,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cabin = d.pop("cabin")

        carrier = d.pop("carrier")

        date = datetime.date.fromisoformat(d.pop("date"))

        number = d.pop("number")

        seq = d.pop("seq")

        status = d.pop("status")

        segment_out = cls(
            cabin=cabin,
            carrier=carrier,
            date=date,
            number=number,
            seq=seq,
            status=status,
        )

        segment_out.additional_properties = d
        return segment_out

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
