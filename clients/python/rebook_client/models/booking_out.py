from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.booking_out_status import BookingOutStatus

if TYPE_CHECKING:
    from ..models.passenger_ref import PassengerRef
    from ..models.segment_out import SegmentOut


T = TypeVar("T", bound="BookingOut")


@_attrs_define
class BookingOut:
    """
    Attributes:
        id (int):
        locator (str):
        passengers (list[PassengerRef]):
        segments (list[SegmentOut]):
        status (BookingOutStatus): cancelled: no segment holds a seat.
        version (int): The PSS's version last applied (0: loaded without one).
    """

    id: int
    locator: str
    passengers: list[PassengerRef]
    segments: list[SegmentOut]
    status: BookingOutStatus
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        locator = self.locator

        passengers = []
        for passengers_item_data in self.passengers:
            passengers_item = passengers_item_data.to_dict()
            passengers.append(passengers_item)

        segments = []
        for segments_item_data in self.segments:
            segments_item = segments_item_data.to_dict()
            segments.append(segments_item)

        status = self.status.value

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "locator": locator,
                "passengers": passengers,
                "segments": segments,
                "status": status,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.passenger_ref import PassengerRef  # noqa: PLC0415
        from ..models.segment_out import SegmentOut  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        locator = d.pop("locator")

        passengers = []
        _passengers = d.pop("passengers")
        for passengers_item_data in _passengers:
            passengers_item = PassengerRef.from_dict(passengers_item_data)

            passengers.append(passengers_item)

        segments = []
        _segments = d.pop("segments")
        for segments_item_data in _segments:
            segments_item = SegmentOut.from_dict(segments_item_data)

            segments.append(segments_item)

        status = BookingOutStatus(d.pop("status"))

        version = d.pop("version")

        booking_out = cls(
            id=id,
            locator=locator,
            passengers=passengers,
            segments=segments,
            status=status,
            version=version,
        )

        booking_out.additional_properties = d
        return booking_out

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
