from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.api_flight_named import ApiFlightNamed


T = TypeVar("T", bound="DisruptionSummary")


@_attrs_define
class DisruptionSummary:
    """One disruption in a list: counters count passengers, not events or bookings.

    Attributes:
        booked (int):
        closed (int):
        created_at (datetime.datetime):
        escalated (int):
        flights (list[ApiFlightNamed]):
        id (int):
        impacted (int):
        kind (str):
        offered (int):
        opted_out (int):
        pending (int):
        reason (None | str):
        status (str):
    """

    booked: int
    closed: int
    created_at: datetime.datetime
    escalated: int
    flights: list[ApiFlightNamed]
    id: int
    impacted: int
    kind: str
    offered: int
    opted_out: int
    pending: int
    reason: None | str
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        booked = self.booked

        closed = self.closed

        created_at = self.created_at.isoformat()

        escalated = self.escalated

        flights = []
        for flights_item_data in self.flights:
            flights_item = flights_item_data.to_dict()
            flights.append(flights_item)

        id = self.id

        impacted = self.impacted

        kind = self.kind

        offered = self.offered

        opted_out = self.opted_out

        pending = self.pending

        reason: None | str
        reason = self.reason

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "booked": booked,
                "closed": closed,
                "created_at": created_at,
                "escalated": escalated,
                "flights": flights,
                "id": id,
                "impacted": impacted,
                "kind": kind,
                "offered": offered,
                "opted_out": opted_out,
                "pending": pending,
                "reason": reason,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.api_flight_named import ApiFlightNamed  # noqa: PLC0415

        d = dict(src_dict)
        booked = d.pop("booked")

        closed = d.pop("closed")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        escalated = d.pop("escalated")

        flights = []
        _flights = d.pop("flights")
        for flights_item_data in _flights:
            flights_item = ApiFlightNamed.from_dict(flights_item_data)

            flights.append(flights_item)

        id = d.pop("id")

        impacted = d.pop("impacted")

        kind = d.pop("kind")

        offered = d.pop("offered")

        opted_out = d.pop("opted_out")

        pending = d.pop("pending")

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        status = d.pop("status")

        disruption_summary = cls(
            booked=booked,
            closed=closed,
            created_at=created_at,
            escalated=escalated,
            flights=flights,
            id=id,
            impacted=impacted,
            kind=kind,
            offered=offered,
            opted_out=opted_out,
            pending=pending,
            reason=reason,
            status=status,
        )

        disruption_summary.additional_properties = d
        return disruption_summary

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
