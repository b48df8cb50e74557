from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.device_out_consent import DeviceOutConsent

T = TypeVar("T", bound="DeviceOut")


@_attrs_define
class DeviceOut:
    """
    Attributes:
        consent (DeviceOutConsent):
        consent_changed (bool):
        passenger_id (int):
        platform (str):
        registered (str):
        service (str):
    """

    consent: DeviceOutConsent
    consent_changed: bool
    passenger_id: int
    platform: str
    registered: str
    service: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        consent = self.consent.value

        consent_changed = self.consent_changed

        passenger_id = self.passenger_id

        platform = self.platform

        registered = self.registered

        service = self.service

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "consent": consent,
                "consent_changed": consent_changed,
                "passenger_id": passenger_id,
                "platform": platform,
                "registered": registered,
                "service": service,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        consent = DeviceOutConsent(d.pop("consent"))

        consent_changed = d.pop("consent_changed")

        passenger_id = d.pop("passenger_id")

        platform = d.pop("platform")

        registered = d.pop("registered")

        service = d.pop("service")

        device_out = cls(
            consent=consent,
            consent_changed=consent_changed,
            passenger_id=passenger_id,
            platform=platform,
            registered=registered,
            service=service,
        )

        device_out.additional_properties = d
        return device_out

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
