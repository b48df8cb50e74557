from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.put_booking_booking_record_status import PutBookingBookingRecordStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.put_booking_booking_record_passenger_record import PutBookingBookingRecordPassengerRecord
    from ..models.put_booking_booking_record_segment_record import PutBookingBookingRecordSegmentRecord


T = TypeVar("T", bound="PutBookingBookingRecord")


@_attrs_define
class PutBookingBookingRecord:
    """One PNR: its passengers travel together on every segment, in travel order.

    Attributes:
        locator (str): record locator (PNR)
        passengers (list[PutBookingBookingRecordPassengerRecord]):
        segments (list[PutBookingBookingRecordSegmentRecord]):
        group (None | str | Unset): group name, for group bookings
        status (PutBookingBookingRecordStatus | Unset): cancelled: every segment is given up (HX) and its seats go back
            Default: PutBookingBookingRecordStatus.ACTIVE.
        version (int | None | Unset): the PSS's version of this PNR; required by `--mode upsert`, where only a newer
            version changes a booking
    """

    locator: str
    passengers: list[PutBookingBookingRecordPassengerRecord]
    segments: list[PutBookingBookingRecordSegmentRecord]
    group: None | str | Unset = UNSET
    status: PutBookingBookingRecordStatus | Unset = PutBookingBookingRecordStatus.ACTIVE
    version: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        locator = self.locator

        passengers = []
        for passengers_item_data in self.passengers:
            passengers_item = passengers_item_data.to_dict()
            passengers.append(passengers_item)

        segments = []
        for segments_item_data in self.segments:
            segments_item = segments_item_data.to_dict()
            segments.append(segments_item)

        group: None | str | Unset
        if isinstance(self.group, Unset):
            group = UNSET
        else:
            group = self.group

        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value

        version: int | None | Unset
        if isinstance(self.version, Unset):
            version = UNSET
        else:
            version = self.version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "locator": locator,
                "passengers": passengers,
                "segments": segments,
            }
        )
        if group is not UNSET:
            field_dict["group"] = group
        if status is not UNSET:
            field_dict["status"] = status
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.put_booking_booking_record_passenger_record import PutBookingBookingRecordPassengerRecord  # noqa: PLC0415
        from ..models.put_booking_booking_record_segment_record import PutBookingBookingRecordSegmentRecord  # noqa: PLC0415

        d = dict(src_dict)
        locator = d.pop("locator")

        passengers = []
        _passengers = d.pop("passengers")
        for passengers_item_data in _passengers:
            passengers_item = PutBookingBookingRecordPassengerRecord.from_dict(passengers_item_data)

            passengers.append(passengers_item)

        segments = []
        _segments = d.pop("segments")
        for segments_item_data in _segments:
            segments_item = PutBookingBookingRecordSegmentRecord.from_dict(segments_item_data)

            segments.append(segments_item)

        def _parse_group(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        group = _parse_group(d.pop("group", UNSET))

        _status = d.pop("status", UNSET)
        status: PutBookingBookingRecordStatus | Unset
        if isinstance(_status, Unset):
            status = UNSET
        else:
            status = PutBookingBookingRecordStatus(_status)

        def _parse_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        version = _parse_version(d.pop("version", UNSET))

        put_booking_booking_record = cls(
            locator=locator,
            passengers=passengers,
            segments=segments,
            group=group,
            status=status,
            version=version,
        )

        return put_booking_booking_record
