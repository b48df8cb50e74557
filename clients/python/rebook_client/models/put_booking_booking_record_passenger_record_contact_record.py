from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.put_booking_booking_record_passenger_record_contact_record_channel import (
    PutBookingBookingRecordPassengerRecordContactRecordChannel,
)
from ..models.put_booking_booking_record_passenger_record_contact_record_platform_type_0 import (
    PutBookingBookingRecordPassengerRecordContactRecordPlatformType0,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.put_booking_booking_record_passenger_record_contact_record_consent_flags import (
        PutBookingBookingRecordPassengerRecordContactRecordConsentFlags,
    )


T = TypeVar("T", bound="PutBookingBookingRecordPassengerRecordContactRecord")


@_attrs_define
class PutBookingBookingRecordPassengerRecordContactRecord:
    """One way to reach a passenger; phone channels take E.164 numbers, WhatsApp a BSUID too (or only).

    Attributes:
        channel (PutBookingBookingRecordPassengerRecordContactRecordChannel):
        consent (PutBookingBookingRecordPassengerRecordContactRecordConsentFlags): What the passenger agreed to be
            contacted for on this channel.
        address (None | str | Unset): E.164 for sms/whatsapp, e-mail address, push token or Telegram chat id; a whatsapp
            contact with a bsuid may omit it
        app_id (None | str | Unset): push only: the app's bundle or application id
        bsuid (None | str | Unset): whatsapp only: Meta's business-scoped user id, e.g. US.13491208655302741918
        platform (None | PutBookingBookingRecordPassengerRecordContactRecordPlatformType0 | Unset): push only, required
            there: ios is sent through APNs, android through FCM
    """

    channel: PutBookingBookingRecordPassengerRecordContactRecordChannel
    consent: PutBookingBookingRecordPassengerRecordContactRecordConsentFlags
    address: None | str | Unset = UNSET
    app_id: None | str | Unset = UNSET
    bsuid: None | str | Unset = UNSET
    platform: None | PutBookingBookingRecordPassengerRecordContactRecordPlatformType0 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        channel = self.channel.value

        consent = self.consent.to_dict()

        address: None | str | Unset
        if isinstance(self.address, Unset):
            address = UNSET
        else:
            address = self.address

        app_id: None | str | Unset
        if isinstance(self.app_id, Unset):
            app_id = UNSET
        else:
            app_id = self.app_id

        bsuid: None | str | Unset
        if isinstance(self.bsuid, Unset):
            bsuid = UNSET
        else:
            bsuid = self.bsuid

        platform: None | str | Unset
        if isinstance(self.platform, Unset):
            platform = UNSET
        elif isinstance(self.platform, PutBookingBookingRecordPassengerRecordContactRecordPlatformType0):
            platform = self.platform.value
        else:
            platform = self.platform

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "channel": channel,
                "consent": consent,
            }
        )
        if address is not UNSET:
            field_dict["address"] = address
        if app_id is not UNSET:
            field_dict["app_id"] = app_id
        if bsuid is not UNSET:
            field_dict["bsuid"] = bsuid
        if platform is not UNSET:
            field_dict["platform"] = platform

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.put_booking_booking_record_passenger_record_contact_record_consent_flags import (
            PutBookingBookingRecordPassengerRecordContactRecordConsentFlags,  # noqa: PLC0415
        )

        d = dict(src_dict)
        channel = PutBookingBookingRecordPassengerRecordContactRecordChannel(d.pop("channel"))

        consent = PutBookingBookingRecordPassengerRecordContactRecordConsentFlags.from_dict(d.pop("consent"))

        def _parse_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        address = _parse_address(d.pop("address", UNSET))

        def _parse_app_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        app_id = _parse_app_id(d.pop("app_id", UNSET))

        def _parse_bsuid(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        bsuid = _parse_bsuid(d.pop("bsuid", UNSET))

        def _parse_platform(
            data: object,
        ) -> None | PutBookingBookingRecordPassengerRecordContactRecordPlatformType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                platform_type_0 = PutBookingBookingRecordPassengerRecordContactRecordPlatformType0(data)

                return platform_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PutBookingBookingRecordPassengerRecordContactRecordPlatformType0 | Unset, data)

        platform = _parse_platform(d.pop("platform", UNSET))

        put_booking_booking_record_passenger_record_contact_record = cls(
            channel=channel,
            consent=consent,
            address=address,
            app_id=app_id,
            bsuid=bsuid,
            platform=platform,
        )

        return put_booking_booking_record_passenger_record_contact_record
