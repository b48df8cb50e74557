from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.loyalty_out_preferences import LoyaltyOutPreferences


T = TypeVar("T", bound="LoyaltyOut")


@_attrs_define
class LoyaltyOut:
    """The loyalty programme's view of the passenger, as imported (or as the airline's loyalty system gives it).

    Attributes:
        miles (int | None):
        preferences (LoyaltyOutPreferences):
        status (None | str):
    """

    miles: int | None
    preferences: LoyaltyOutPreferences
    status: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        miles: int | None
        miles = self.miles

        preferences = self.preferences.to_dict()

        status: None | str
        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "miles": miles,
                "preferences": preferences,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.loyalty_out_preferences import LoyaltyOutPreferences  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_miles(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        miles = _parse_miles(d.pop("miles"))

        preferences = LoyaltyOutPreferences.from_dict(d.pop("preferences"))

        def _parse_status(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        status = _parse_status(d.pop("status"))

        loyalty_out = cls(
            miles=miles,
            preferences=preferences,
            status=status,
        )

        loyalty_out.additional_properties = d
        return loyalty_out

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
