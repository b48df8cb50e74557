from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.feed_outcome import FeedOutcome


T = TypeVar("T", bound="FeedAnswer")


@_attrs_define
class FeedAnswer:
    """
    Attributes:
        ignored (int):
        messages (int):
        updates (list[FeedOutcome]):
    """

    ignored: int
    messages: int
    updates: list[FeedOutcome]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ignored = self.ignored

        messages = self.messages

        updates = []
        for updates_item_data in self.updates:
            updates_item = updates_item_data.to_dict()
            updates.append(updates_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ignored": ignored,
                "messages": messages,
                "updates": updates,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.feed_outcome import FeedOutcome  # noqa: PLC0415

        d = dict(src_dict)
        ignored = d.pop("ignored")

        messages = d.pop("messages")

        updates = []
        _updates = d.pop("updates")
        for updates_item_data in _updates:
            updates_item = FeedOutcome.from_dict(updates_item_data)

            updates.append(updates_item)

        feed_answer = cls(
            ignored=ignored,
            messages=messages,
            updates=updates,
        )

        feed_answer.additional_properties = d
        return feed_answer

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
