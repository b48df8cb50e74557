from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.consent_change import ConsentChange
    from ..models.consent_now import ConsentNow


T = TypeVar("T", bound="ConsentOut")


@_attrs_define
class ConsentOut:
    """
    Attributes:
        current (list[ConsentNow]):
        history (list[ConsentChange]):
        passenger_id (int):
    """

    current: list[ConsentNow]
    history: list[ConsentChange]
    passenger_id: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        current = []
        for current_item_data in self.current:
            current_item = current_item_data.to_dict()
            current.append(current_item)

        history = []
        for history_item_data in self.history:
            history_item = history_item_data.to_dict()
            history.append(history_item)

        passenger_id = self.passenger_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "current": current,
                "history": history,
                "passenger_id": passenger_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.consent_change import ConsentChange  # noqa: PLC0415
        from ..models.consent_now import ConsentNow  # noqa: PLC0415

        d = dict(src_dict)
        current = []
        _current = d.pop("current")
        for current_item_data in _current:
            current_item = ConsentNow.from_dict(current_item_data)

            current.append(current_item)

        history = []
        _history = d.pop("history")
        for history_item_data in _history:
            history_item = ConsentChange.from_dict(history_item_data)

            history.append(history_item)

        passenger_id = d.pop("passenger_id")

        consent_out = cls(
            current=current,
            history=history,
            passenger_id=passenger_id,
        )

        consent_out.additional_properties = d
        return consent_out

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
