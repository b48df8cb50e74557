from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.sandbox_replies_reply_in_channel_type_0 import SandboxRepliesReplyInChannelType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="SandboxRepliesReplyIn")


@_attrs_define
class SandboxRepliesReplyIn:
    """Who answers (an address, or a conversation's passenger) on which channel, with what (a text, or an option tapped).

    Attributes:
        channel (None | SandboxRepliesReplyInChannelType0 | Unset): Default with `conversation_id`: the channel the
            conversation last used, else the passenger's first.
        conversation_id (int | None | Unset): Answer as this conversation's passenger.
        from_ (None | str | Unset): The passenger's address (E.164 for SMS and WhatsApp).
        message_id (None | str | Unset): The provider's message id: a second reply with the same id changes nothing
            (default: a fresh one).
        option_id (int | None | Unset): The option tapped (`offer.options[].id` of GET /v1/conversations/{id}).
        text (None | str | Unset): What the passenger writes.
    """

    channel: None | SandboxRepliesReplyInChannelType0 | Unset = UNSET
    conversation_id: int | None | Unset = UNSET
    from_: None | str | Unset = UNSET
    message_id: None | str | Unset = UNSET
    option_id: int | None | Unset = UNSET
    text: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        channel: None | str | Unset
        if isinstance(self.channel, Unset):
            channel = UNSET
        elif isinstance(self.channel, SandboxRepliesReplyInChannelType0):
            channel = self.channel.value
        else:
            channel = self.channel

        conversation_id: int | None | Unset
        if isinstance(self.conversation_id, Unset):
            conversation_id = UNSET
        else:
            conversation_id = self.conversation_id

        from_: None | str | Unset
        if isinstance(self.from_, Unset):
            from_ = UNSET
        else:
            from_ = self.from_

        message_id: None | str | Unset
        if isinstance(self.message_id, Unset):
            message_id = UNSET
        else:
            message_id = self.message_id

        option_id: int | None | Unset
        if isinstance(self.option_id, Unset):
            option_id = UNSET
        else:
            option_id = self.option_id

        text: None | str | Unset
        if isinstance(self.text, Unset):
            text = UNSET
        else:
            text = self.text

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if channel is not UNSET:
            field_dict["channel"] = channel
        if conversation_id is not UNSET:
            field_dict["conversation_id"] = conversation_id
        if from_ is not UNSET:
            field_dict["from"] = from_
        if message_id is not UNSET:
            field_dict["message_id"] = message_id
        if option_id is not UNSET:
            field_dict["option_id"] = option_id
        if text is not UNSET:
            field_dict["text"] = text

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_channel(data: object) -> None | SandboxRepliesReplyInChannelType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                channel_type_0 = SandboxRepliesReplyInChannelType0(data)

                return channel_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SandboxRepliesReplyInChannelType0 | Unset, data)

        channel = _parse_channel(d.pop("channel", UNSET))

        def _parse_conversation_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        conversation_id = _parse_conversation_id(d.pop("conversation_id", UNSET))

        def _parse_from_(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        from_ = _parse_from_(d.pop("from", UNSET))

        def _parse_message_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        message_id = _parse_message_id(d.pop("message_id", UNSET))

        def _parse_option_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        option_id = _parse_option_id(d.pop("option_id", UNSET))

        def _parse_text(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        text = _parse_text(d.pop("text", UNSET))

        sandbox_replies_reply_in = cls(
            channel=channel,
            conversation_id=conversation_id,
            from_=from_,
            message_id=message_id,
            option_id=option_id,
            text=text,
        )

        sandbox_replies_reply_in.additional_properties = d
        return sandbox_replies_reply_in

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
