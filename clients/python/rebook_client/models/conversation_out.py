from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.message_out import MessageOut
    from ..models.offer_out import OfferOut


T = TypeVar("T", bound="ConversationOut")


@_attrs_define
class ConversationOut:
    """
    Attributes:
        booking_id (int):
        channel (None | str):
        created_at (datetime.datetime):
        disruption_id (int):
        disruption_kind (str):
        escalation_reason (None | str):
        id (int):
        locale (str):
        locator (str):
        messages (list[MessageOut]):
        offer (None | OfferOut):
        passenger_id (int | None):
        passengers (int):
        status (str):
        updated_at (datetime.datetime):
    """

    booking_id: int
    channel: None | str
    created_at: datetime.datetime
    disruption_id: int
    disruption_kind: str
    escalation_reason: None | str
    id: int
    locale: str
    locator: str
    messages: list[MessageOut]
    offer: None | OfferOut
    passenger_id: int | None
    passengers: int
    status: str
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.offer_out import OfferOut  # noqa: PLC0415

        booking_id = self.booking_id

        channel: None | str
        channel = self.channel

        created_at = self.created_at.isoformat()

        disruption_id = self.disruption_id

        disruption_kind = self.disruption_kind

        escalation_reason: None | str
        escalation_reason = self.escalation_reason

        id = self.id

        locale = self.locale

        locator = self.locator

        messages = []
        for messages_item_data in self.messages:
            messages_item = messages_item_data.to_dict()
            messages.append(messages_item)

        offer: dict[str, Any] | None
        if isinstance(self.offer, OfferOut):
            offer = self.offer.to_dict()
        else:
            offer = self.offer

        passenger_id: int | None
        passenger_id = self.passenger_id

        passengers = self.passengers

        status = self.status

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "booking_id": booking_id,
                "channel": channel,
                "created_at": created_at,
                "disruption_id": disruption_id,
                "disruption_kind": disruption_kind,
                "escalation_reason": escalation_reason,
                "id": id,
                "locale": locale,
                "locator": locator,
                "messages": messages,
                "offer": offer,
                "passenger_id": passenger_id,
                "passengers": passengers,
                "status": status,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.message_out import MessageOut  # noqa: PLC0415
        from ..models.offer_out import OfferOut  # noqa: PLC0415

        d = dict(src_dict)
        booking_id = d.pop("booking_id")

        def _parse_channel(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        channel = _parse_channel(d.pop("channel"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        disruption_id = d.pop("disruption_id")

        disruption_kind = d.pop("disruption_kind")

        def _parse_escalation_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        escalation_reason = _parse_escalation_reason(d.pop("escalation_reason"))

        id = d.pop("id")

        locale = d.pop("locale")

        locator = d.pop("locator")

        messages = []
        _messages = d.pop("messages")
        for messages_item_data in _messages:
            messages_item = MessageOut.from_dict(messages_item_data)

            messages.append(messages_item)

        def _parse_offer(data: object) -> None | OfferOut:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                offer_type_0 = OfferOut.from_dict(data)

                return offer_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OfferOut, data)

        offer = _parse_offer(d.pop("offer"))

        def _parse_passenger_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        passenger_id = _parse_passenger_id(d.pop("passenger_id"))

        passengers = d.pop("passengers")

        status = d.pop("status")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        conversation_out = cls(
            booking_id=booking_id,
            channel=channel,
            created_at=created_at,
            disruption_id=disruption_id,
            disruption_kind=disruption_kind,
            escalation_reason=escalation_reason,
            id=id,
            locale=locale,
            locator=locator,
            messages=messages,
            offer=offer,
            passenger_id=passenger_id,
            passengers=passengers,
            status=status,
            updated_at=updated_at,
        )

        conversation_out.additional_properties = d
        return conversation_out

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
