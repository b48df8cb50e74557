from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="FlightOut")


@_attrs_define
class FlightOut:
    """
    Attributes:
        arrival (datetime.datetime):
        booked_passengers (int):
        carrier (str):
        date (datetime.date):
        departure (datetime.datetime):
        destination (str):
        estimated_departure (datetime.datetime | None):
        number (str):
        origin (str):
        status (str):
    """

    arrival: datetime.datetime
    booked_passengers: int
    carrier: str
    date: datetime.date
    departure: datetime.datetime
    destination: str
    estimated_departure: datetime.datetime | None
    number: str
    origin: str
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        arrival = self.arrival.isoformat()

        booked_passengers = self.booked_passengers

        carrier = self.carrier

        date = self.date.isoformat()

        departure = self.departure.isoformat()

        destination = self.destination

        estimated_departure: None | str
        if isinstance(self.estimated_departure, datetime.datetime):
            estimated_departure = self.estimated_departure.isoformat()
        else:
            estimated_departure = self.estimated_departure

        number = self.number

        origin = self.origin

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "arrival": arrival,
                "booked_passengers": booked_passengers,
                "carrier": carrier,
                "date": date,
                "departure": departure,
                "destination": destination,
                "estimated_departure": estimated_departure,
                "number": number,
                "origin": origin,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        arrival = datetime.datetime.fromisoformat(d.pop("arrival"))

        booked_passengers = d.pop("booked_passengers")

        carrier = d.pop("carrier")

        date = datetime.date.fromisoformat(d.pop("date"))

        departure = datetime.datetime.fromisoformat(d.pop("departure"))

        destination = d.pop("destination")

        def _parse_estimated_departure(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                estimated_departure_type_0 = datetime.datetime.fromisoformat(data)

                return estimated_departure_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        estimated_departure = _parse_estimated_departure(d.pop("estimated_departure"))

        number = d.pop("number")

        origin = d.pop("origin")

        status = d.pop("status")

        flight_out = cls(
            arrival=arrival,
            booked_passengers=booked_passengers,
            carrier=carrier,
            date=date,
            departure=departure,
            destination=destination,
            estimated_departure=estimated_departure,
            number=number,
            origin=origin,
            status=status,
        )

        flight_out.additional_properties = d
        return flight_out

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
