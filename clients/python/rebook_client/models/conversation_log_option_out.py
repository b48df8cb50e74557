from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ConversationLogOptionOut")


@_attrs_define
class ConversationLogOptionOut:
    """
    Attributes:
        arrival (datetime.datetime):
        arrival_delay_min (int):
        cabin (str):
        departure (datetime.datetime):
        id (int):
        rank (int):
        stops (int):
    """

    arrival: datetime.datetime
    arrival_delay_min: int
    cabin: str
    departure: datetime.datetime
    id: int
    rank: int
    stops: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        arrival = self.arrival.isoformat()

        arrival_delay_min = self.arrival_delay_min

        cabin = self.cabin

        departure = self.departure.isoformat()

        id = self.id

        rank = self.rank

        stops = self.stops

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "arrival": arrival,
                "arrival_delay_min": arrival_delay_min,
                "cabin": cabin,
                "departure": departure,
                "id": id,
                "rank": rank,
                "stops": stops,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        arrival = datetime.datetime.fromisoformat(d.pop("arrival"))

        arrival_delay_min = d.pop("arrival_delay_min")

        cabin = d.pop("cabin")

        departure = datetime.datetime.fromisoformat(d.pop("departure"))

        id = d.pop("id")

        rank = d.pop("rank")

        stops = d.pop("stops")

        conversation_log_option_out = cls(
            arrival=arrival,
            arrival_delay_min=arrival_delay_min,
            cabin=cabin,
            departure=departure,
            id=id,
            rank=rank,
            stops=stops,
        )

        conversation_log_option_out.additional_properties = d
        return conversation_log_option_out

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
