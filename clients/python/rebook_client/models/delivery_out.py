from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.reached_out import ReachedOut


T = TypeVar("T", bound="DeliveryOut")


@_attrs_define
class DeliveryOut:
    """One hand-over to a provider and the state its receipts moved it to (queued, sent, delivered, read, failed).

    Attributes:
        at (datetime.datetime):
        channel (str):
        error_code (None | str):
        history (list[ReachedOut]): each state reached, in time order; a receipt arriving late still records its time
            (never after a later state's), a repeated one changes nothing; a send refused at hand-over shows only `failed`
        provider (str):
        provider_message_id (None | str):
        reason_class (None | str):
        status (str):
        updated_at (datetime.datetime):
    """

    at: datetime.datetime
    channel: str
    error_code: None | str
    history: list[ReachedOut]
    provider: str
    provider_message_id: None | str
    reason_class: None | str
    status: str
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        channel = self.channel

        error_code: None | str
        error_code = self.error_code

        history = []
        for history_item_data in self.history:
            history_item = history_item_data.to_dict()
            history.append(history_item)

        provider = self.provider

        provider_message_id: None | str
        provider_message_id = self.provider_message_id

        reason_class: None | str
        reason_class = self.reason_class

        status = self.status

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "channel": channel,
                "error_code": error_code,
                "history": history,
                "provider": provider,
                "provider_message_id": provider_message_id,
                "reason_class": reason_class,
                "status": status,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.reached_out import ReachedOut  # noqa: PLC0415

        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        channel = d.pop("channel")

        def _parse_error_code(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error_code = _parse_error_code(d.pop("error_code"))

        history = []
        _history = d.pop("history")
        for history_item_data in _history:
            history_item = ReachedOut.from_dict(history_item_data)

            history.append(history_item)

        provider = d.pop("provider")

        def _parse_provider_message_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        provider_message_id = _parse_provider_message_id(d.pop("provider_message_id"))

        def _parse_reason_class(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason_class = _parse_reason_class(d.pop("reason_class"))

        status = d.pop("status")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        delivery_out = cls(
            at=at,
            channel=channel,
            error_code=error_code,
            history=history,
            provider=provider,
            provider_message_id=provider_message_id,
            reason_class=reason_class,
            status=status,
            updated_at=updated_at,
        )

        delivery_out.additional_properties = d
        return delivery_out

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
