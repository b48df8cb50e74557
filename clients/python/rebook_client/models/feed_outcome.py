from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="FeedOutcome")


@_attrs_define
class FeedOutcome:
    """
    Attributes:
        flight (str):
        kind (str):
        message_id (str):
        outcome (str):
        detail (None | str | Unset):
        disruption_id (int | None | Unset):
    """

    flight: str
    kind: str
    message_id: str
    outcome: str
    detail: None | str | Unset = UNSET
    disruption_id: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        flight = self.flight

        kind = self.kind

        message_id = self.message_id

        outcome = self.outcome

        detail: None | str | Unset
        if isinstance(self.detail, Unset):
            detail = UNSET
        else:
            detail = self.detail

        disruption_id: int | None | Unset
        if isinstance(self.disruption_id, Unset):
            disruption_id = UNSET
        else:
            disruption_id = self.disruption_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "flight": flight,
                "kind": kind,
                "message_id": message_id,
                "outcome": outcome,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail
        if disruption_id is not UNSET:
            field_dict["disruption_id"] = disruption_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        flight = d.pop("flight")

        kind = d.pop("kind")

        message_id = d.pop("message_id")

        outcome = d.pop("outcome")

        def _parse_detail(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        detail = _parse_detail(d.pop("detail", UNSET))

        def _parse_disruption_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        disruption_id = _parse_disruption_id(d.pop("disruption_id", UNSET))

        feed_outcome = cls(
            flight=flight,
            kind=kind,
            message_id=message_id,
            outcome=outcome,
            detail=detail,
            disruption_id=disruption_id,
        )

        feed_outcome.additional_properties = d
        return feed_outcome

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
