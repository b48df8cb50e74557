from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PassengerSummary")


@_attrs_define
class PassengerSummary:
    """Enough to pick a passenger from a queue; never a name, phone number or e-mail address.

    Attributes:
        channel (None | str):
        conversation_status (str):
        language (str):
        locator (str):
        passengers (int):
        tier (int):
    """

    channel: None | str
    conversation_status: str
    language: str
    locator: str
    passengers: int
    tier: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        channel: None | str
        channel = self.channel

        conversation_status = self.conversation_status

        language = self.language

        locator = self.locator

        passengers = self.passengers

        tier = self.tier

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "channel": channel,
                "conversation_status": conversation_status,
                "language": language,
                "locator": locator,
                "passengers": passengers,
                "tier": tier,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_channel(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        channel = _parse_channel(d.pop("channel"))

        conversation_status = d.pop("conversation_status")

        language = d.pop("language")

        locator = d.pop("locator")

        passengers = d.pop("passengers")

        tier = d.pop("tier")

        passenger_summary = cls(
            channel=channel,
            conversation_status=conversation_status,
            language=language,
            locator=locator,
            passengers=passengers,
            tier=tier,
        )

        passenger_summary.additional_properties = d
        return passenger_summary

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
