from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.put_booking_booking_record_segment_record_cabin import PutBookingBookingRecordSegmentRecordCabin
from ..models.put_booking_booking_record_segment_record_status import PutBookingBookingRecordSegmentRecordStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="PutBookingBookingRecordSegmentRecord")


@_attrs_define
class PutBookingBookingRecordSegmentRecord:
    """One flight of the booking, found in the schedule by carrier, number and date.

    Attributes:
        carrier (str): IATA (2) or ICAO (3) airline designator, uppercase
        date (datetime.date): local service date at the origin, YYYY-MM-DD
        number (str): 1-4 digits; leading zeros are ignored
        cabin (PutBookingBookingRecordSegmentRecordCabin | Unset):  Default:
            PutBookingBookingRecordSegmentRecordCabin.Y.
        status (PutBookingBookingRecordSegmentRecordStatus | Unset):  Default:
            PutBookingBookingRecordSegmentRecordStatus.HK.
    """

    carrier: str
    date: datetime.date
    number: str
    cabin: PutBookingBookingRecordSegmentRecordCabin | Unset = PutBookingBookingRecordSegmentRecordCabin.Y
    status: PutBookingBookingRecordSegmentRecordStatus | Unset = PutBookingBookingRecordSegmentRecordStatus.HK

    def to_dict(self) -> dict[str, Any]:
        carrier = self.carrier

        date = self.date.isoformat()

        number = self.number

        cabin: str | Unset = UNSET
        if not isinstance(self.cabin, Unset):
            cabin = self.cabin.value

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "carrier": carrier,
                "date": date,
                "number": number,
            }
        )
        if cabin is not UNSET:
            field_dict["cabin"] = cabin
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        carrier = d.pop("carrier")

        date = datetime.date.fromisoformat(d.pop("date"))

        number = d.pop("number")

        _cabin = d.pop("cabin", UNSET)
        cabin: PutBookingBookingRecordSegmentRecordCabin | Unset
        if isinstance(_cabin, Unset):
            cabin = UNSET
        else:
            cabin = PutBookingBookingRecordSegmentRecordCabin(_cabin)

        _status = d.pop("status", UNSET)
        status: PutBookingBookingRecordSegmentRecordStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = PutBookingBookingRecordSegmentRecordStatus(_status)

        put_booking_booking_record_segment_record = cls(
            carrier=carrier,
            date=date,
            number=number,
            cabin=cabin,
            status=status,
        )

        return put_booking_booking_record_segment_record
