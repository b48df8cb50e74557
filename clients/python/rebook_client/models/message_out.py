from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.message_out_direction import MessageOutDirection

if TYPE_CHECKING:
    from ..models.delivery_out import DeliveryOut


T = TypeVar("T", bound="MessageOut")


@_attrs_define
class MessageOut:
    """A message in (`passenger`) or out (`bot`, `agent:<name>`, `broadcast`); `text` as sent or as the channel showed it.

    Attributes:
        at (datetime.datetime):
        channel (None | str):
        choice (None | str): in: the button or list row tapped
        deliveries (list[DeliveryOut]):
        direction (MessageOutDirection):
        id (int):
        kind (str): out: the message key (offer, booked, …); in: what it was read as (OptionChosen, keyword:stop, …)
        provider_message_id (None | str):
        sender (str):
        sent_at (datetime.datetime | None):
        status (None | str): out: the outbox state (pending, sending, sent, failed, dead, cancelled)
        text (None | str):
    """

    at: datetime.datetime
    channel: None | str
    choice: None | str
    deliveries: list[DeliveryOut]
    direction: MessageOutDirection
    id: int
    kind: str
    provider_message_id: None | str
    sender: str
    sent_at: datetime.datetime | None
    status: None | str
    text: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        channel: None | str
        channel = self.channel

        choice: None | str
        choice = self.choice

        deliveries = []
        for deliveries_item_data in self.deliveries:
            deliveries_item = deliveries_item_data.to_dict()
            deliveries.append(deliveries_item)

        direction = self.direction.value

        id = self.id

        kind = self.kind

        provider_message_id: None | str
        provider_message_id = self.provider_message_id

        sender = self.sender

        sent_at: None | str
        if isinstance(self.sent_at, datetime.datetime):
            sent_at = self.sent_at.isoformat()
        else:
            sent_at = self.sent_at

        status: None | str
        status = self.status

        text: None | str
        text = self.text

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "channel": channel,
                "choice": choice,
                "deliveries": deliveries,
                "direction": direction,
                "id": id,
                "kind": kind,
                "provider_message_id": provider_message_id,
                "sender": sender,
                "sent_at": sent_at,
                "status": status,
                "text": text,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.delivery_out import DeliveryOut  # noqa: PLC0415

        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        def _parse_channel(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        channel = _parse_channel(d.pop("channel"))

        def _parse_choice(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        choice = _parse_choice(d.pop("choice"))

        deliveries = []
        _deliveries = d.pop("deliveries")
        for deliveries_item_data in _deliveries:
            deliveries_item = DeliveryOut.from_dict(deliveries_item_data)

            deliveries.append(deliveries_item)

        direction = MessageOutDirection(d.pop("direction"))

        id = d.pop("id")

        kind = d.pop("kind")

        def _parse_provider_message_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        provider_message_id = _parse_provider_message_id(d.pop("provider_message_id"))

        sender = d.pop("sender")

        def _parse_sent_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                sent_at_type_0 = datetime.datetime.fromisoformat(data)

                return sent_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        sent_at = _parse_sent_at(d.pop("sent_at"))

        def _parse_status(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        status = _parse_status(d.pop("status"))

        def _parse_text(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        text = _parse_text(d.pop("text"))

        message_out = cls(
            at=at,
            channel=channel,
            choice=choice,
            deliveries=deliveries,
            direction=direction,
            id=id,
            kind=kind,
            provider_message_id=provider_message_id,
            sender=sender,
            sent_at=sent_at,
            status=status,
            text=text,
        )

        message_out.additional_properties = d
        return message_out

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
