from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ConversationSummary")


@_attrs_define
class ConversationSummary:
    """
    Attributes:
        booking_id (int):
        channel (None | str):
        created_at (datetime.datetime):
        disruption_id (int):
        id (int):
        locale (str):
        locator (str):
        passenger_id (int | None):
        status (str):
        updated_at (datetime.datetime):
    """

    booking_id: int
    channel: None | str
    created_at: datetime.datetime
    disruption_id: int
    id: int
    locale: str
    locator: str
    passenger_id: int | None
    status: str
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        booking_id = self.booking_id

        channel: None | str
        channel = self.channel

        created_at = self.created_at.isoformat()

        disruption_id = self.disruption_id

        id = self.id

        locale = self.locale

        locator = self.locator

        passenger_id: int | None
        passenger_id = self.passenger_id

        status = self.status

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "booking_id": booking_id,
                "channel": channel,
                "created_at": created_at,
                "disruption_id": disruption_id,
                "id": id,
                "locale": locale,
                "locator": locator,
                "passenger_id": passenger_id,
                "status": status,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        booking_id = d.pop("booking_id")

        def _parse_channel(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        channel = _parse_channel(d.pop("channel"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        disruption_id = d.pop("disruption_id")

        id = d.pop("id")

        locale = d.pop("locale")

        locator = d.pop("locator")

        def _parse_passenger_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        passenger_id = _parse_passenger_id(d.pop("passenger_id"))

        status = d.pop("status")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        conversation_summary = cls(
            booking_id=booking_id,
            channel=channel,
            created_at=created_at,
            disruption_id=disruption_id,
            id=id,
            locale=locale,
            locator=locator,
            passenger_id=passenger_id,
            status=status,
            updated_at=updated_at,
        )

        conversation_summary.additional_properties = d
        return conversation_summary

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
