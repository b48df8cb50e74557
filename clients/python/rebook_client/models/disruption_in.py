from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.disruption_in_kind import DisruptionInKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.disruption_in_capacity_type_0 import DisruptionInCapacityType0
    from ..models.flight_ref import FlightRef


T = TypeVar("T", bound="DisruptionIn")


@_attrs_define
class DisruptionIn:
    """One flight (`flight`) or several (`flights`: a tail swap, an airport closure), never both.

    `kind` and what it needs: `cancelled`; `delayed` with `new_departure`; `diverted` with `diverted_to`
    (and `new_arrival` there); `equipment` (another aircraft) with `capacity`, its seats per cabin (only
    the overflow moves, lowest priority first); `time_change` (a new schedule) with `new_departure` (and
    `new_arrival`); `reinstated` (a cancelled flight flies again; `new_departure` if late). A field
    another kind needs is refused. Times carry a zone. Flights are named by their local service date.

        Attributes:
            kind (DisruptionInKind):
            capacity (DisruptionInCapacityType0 | None | Unset): equipment: seats per cabin of the new aircraft, e.g. {"Y":
                140}
            diverted_to (None | str | Unset): diverted: the airport (IATA code) it goes to
            flight (FlightRef | None | Unset):
            flights (list[FlightRef] | None | Unset):
            idempotency_key (None | str | Unset): Deprecated: send the Idempotency-Key header. Still honoured: a repeat with
                the same value changes nothing.
            new_arrival (datetime.datetime | None | Unset): diverted, time_change, reinstated (optional)
            new_departure (datetime.datetime | None | Unset): delayed, time_change (required); reinstated (late)
            reason (None | str | Unset):
    """

    kind: DisruptionInKind
    capacity: DisruptionInCapacityType0 | None | Unset = UNSET
    diverted_to: None | str | Unset = UNSET
    flight: FlightRef | None | Unset = UNSET
    flights: list[FlightRef] | None | Unset = UNSET
    idempotency_key: None | str | Unset = UNSET
    new_arrival: datetime.datetime | None | Unset = UNSET
    new_departure: datetime.datetime | None | Unset = UNSET
    reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.disruption_in_capacity_type_0 import DisruptionInCapacityType0  # noqa: PLC0415
        from ..models.flight_ref import FlightRef  # noqa: PLC0415

        kind = self.kind.value

        capacity: dict[str, Any] | None | Unset
        if isinstance(self.capacity, Unset):
            capacity = UNSET
        elif isinstance(self.capacity, DisruptionInCapacityType0):
            capacity = self.capacity.to_dict()
        else:
            capacity = self.capacity

        diverted_to: None | str | Unset
        if isinstance(self.diverted_to, Unset):
            diverted_to = UNSET
        else:
            diverted_to = self.diverted_to

        flight: dict[str, Any] | None | Unset
        if isinstance(self.flight, Unset):
            flight = UNSET
        elif isinstance(self.flight, FlightRef):
            flight = self.flight.to_dict()
        else:
            flight = self.flight

        flights: list[dict[str, Any]] | None | Unset
        if isinstance(self.flights, Unset):
            flights = UNSET
        elif isinstance(self.flights, list):
            flights = []
            for flights_type_0_item_data in self.flights:
                flights_type_0_item = flights_type_0_item_data.to_dict()
                flights.append(flights_type_0_item)

        else:
            flights = self.flights

        idempotency_key: None | str | Unset
        if isinstance(self.idempotency_key, Unset):
            idempotency_key = UNSET
        else:
            idempotency_key = self.idempotency_key

        new_arrival: None | str | Unset
        if isinstance(self.new_arrival, Unset):
            new_arrival = UNSET
        elif isinstance(self.new_arrival, datetime.datetime):
            new_arrival = self.new_arrival.isoformat()
        else:
            new_arrival = self.new_arrival

        new_departure: None | str | Unset
        if isinstance(self.new_departure, Unset):
            new_departure = UNSET
        elif isinstance(self.new_departure, datetime.datetime):
            new_departure = self.new_departure.isoformat()
        else:
            new_departure = self.new_departure

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "kind": kind,
            }
        )
        if capacity is not UNSET:
            field_dict["capacity"] = capacity
        if diverted_to is not UNSET:
            field_dict["diverted_to"] = diverted_to
        if flight is not UNSET:
            field_dict["flight"] = flight
        if flights is not UNSET:
            field_dict["flights"] = flights
        if idempotency_key is not UNSET:
            field_dict["idempotency_key"] = idempotency_key
        if new_arrival is not UNSET:
            field_dict["new_arrival"] = new_arrival
        if new_departure is not UNSET:
            field_dict["new_departure"] = new_departure
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.disruption_in_capacity_type_0 import DisruptionInCapacityType0  # noqa: PLC0415
        from ..models.flight_ref import FlightRef  # noqa: PLC0415

        d = dict(src_dict)
        kind = DisruptionInKind(d.pop("kind"))

        def _parse_capacity(data: object) -> DisruptionInCapacityType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                capacity_type_0 = DisruptionInCapacityType0.from_dict(data)

                return capacity_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DisruptionInCapacityType0 | None | Unset, data)

        capacity = _parse_capacity(d.pop("capacity", UNSET))

        def _parse_diverted_to(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        diverted_to = _parse_diverted_to(d.pop("diverted_to", UNSET))

        def _parse_flight(data: object) -> FlightRef | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                flight_type_0 = FlightRef.from_dict(data)

                return flight_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FlightRef | None | Unset, data)

        flight = _parse_flight(d.pop("flight", UNSET))

        def _parse_flights(data: object) -> list[FlightRef] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                flights_type_0 = []
                _flights_type_0 = data
                for flights_type_0_item_data in _flights_type_0:
                    flights_type_0_item = FlightRef.from_dict(flights_type_0_item_data)

                    flights_type_0.append(flights_type_0_item)

                return flights_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[FlightRef] | None | Unset, data)

        flights = _parse_flights(d.pop("flights", UNSET))

        def _parse_idempotency_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        idempotency_key = _parse_idempotency_key(d.pop("idempotency_key", UNSET))

        def _parse_new_arrival(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                new_arrival_type_0 = datetime.datetime.fromisoformat(data)

                return new_arrival_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        new_arrival = _parse_new_arrival(d.pop("new_arrival", UNSET))

        def _parse_new_departure(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                new_departure_type_0 = datetime.datetime.fromisoformat(data)

                return new_departure_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        new_departure = _parse_new_departure(d.pop("new_departure", UNSET))

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        disruption_in = cls(
            kind=kind,
            capacity=capacity,
            diverted_to=diverted_to,
            flight=flight,
            flights=flights,
            idempotency_key=idempotency_key,
            new_arrival=new_arrival,
            new_departure=new_departure,
            reason=reason,
        )

        disruption_in.additional_properties = d
        return disruption_in

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
