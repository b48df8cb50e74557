from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PutBookingBookingRecordPassengerRecordContactRecordConsentFlags")


@_attrs_define
class PutBookingBookingRecordPassengerRecordContactRecordConsentFlags:
    """What the passenger agreed to be contacted for on this channel.

    Attributes:
        marketing (bool): promotional messages (legal basis: consent)
        service (bool): operational messages about this booking (legal basis: contract)
    """

    marketing: bool
    service: bool

    def to_dict(self) -> dict[str, Any]:
        marketing = self.marketing

        service = self.service

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "marketing": marketing,
                "service": service,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        marketing = d.pop("marketing")

        service = d.pop("service")

        put_booking_booking_record_passenger_record_contact_record_consent_flags = cls(
            marketing=marketing,
            service=service,
        )

        return put_booking_booking_record_passenger_record_contact_record_consent_flags
