from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ConsentWritten")


@_attrs_define
class ConsentWritten:
    """
    Attributes:
        changed (bool):
        channel (str):
        passenger_id (int):
        purpose (str):
        state (str):
    """

    changed: bool
    channel: str
    passenger_id: int
    purpose: str
    state: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        changed = self.changed

        channel = self.channel

        passenger_id = self.passenger_id

        purpose = self.purpose

        state = self.state

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "changed": changed,
                "channel": channel,
                "passenger_id": passenger_id,
                "purpose": purpose,
                "state": state,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        changed = d.pop("changed")

        channel = d.pop("channel")

        passenger_id = d.pop("passenger_id")

        purpose = d.pop("purpose")

        state = d.pop("state")

        consent_written = cls(
            changed=changed,
            channel=channel,
            passenger_id=passenger_id,
            purpose=purpose,
            state=state,
        )

        consent_written.additional_properties = d
        return consent_written

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
