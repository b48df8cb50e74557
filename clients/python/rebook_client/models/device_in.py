from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.device_in_platform import DeviceInPlatform
from ..types import UNSET, Unset

T = TypeVar("T", bound="DeviceIn")


@_attrs_define
class DeviceIn:
    """
    Attributes:
        app_id (str): bundle id / application id
        platform (DeviceInPlatform):
        locale (None | str | Unset): BCP 47 tag: the passenger's language from now on
        preferred (bool | Unset): try push before the passenger's other channels Default: False.
        push_allowed (bool | Unset): the user's push permission in the app: recorded as consent for push Default: True.
    """

    app_id: str
    platform: DeviceInPlatform
    locale: None | str | Unset = UNSET
    preferred: bool | Unset = False
    push_allowed: bool | Unset = True
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        app_id = self.app_id

        platform = self.platform.value

        locale: None | str | Unset
        if isinstance(self.locale, Unset):
            locale = UNSET
        else:
            locale = self.locale

        preferred = self.preferred

        push_allowed = self.push_allowed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "app_id": app_id,
                "platform": platform,
            }
        )
        if locale is not UNSET:
            field_dict["locale"] = locale
        if preferred is not UNSET:
            field_dict["preferred"] = preferred
        if push_allowed is not UNSET:
            field_dict["push_allowed"] = push_allowed

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        app_id = d.pop("app_id")

        platform = DeviceInPlatform(d.pop("platform"))

        def _parse_locale(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        locale = _parse_locale(d.pop("locale", UNSET))

        preferred = d.pop("preferred", UNSET)

        push_allowed = d.pop("push_allowed", UNSET)

        device_in = cls(
            app_id=app_id,
            platform=platform,
            locale=locale,
            preferred=preferred,
            push_allowed=push_allowed,
        )

        device_in.additional_properties = d
        return device_in

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
