from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.claim_out_regime import ClaimOutRegime
from ..models.claim_out_status import ClaimOutStatus

T = TypeVar("T", bound="ClaimOut")


@_attrs_define
class ClaimOut:
    """One passenger's claim for one disruption; passenger and booking are null once the passenger was erased.

    Attributes:
        amount (int):
        basis (str):
        booking_id (int | None):
        created_at (datetime.datetime):
        currency (str):
        disruption_id (int):
        id (int):
        passenger_id (int | None):
        reason (str):
        regime (ClaimOutRegime):
        status (ClaimOutStatus):
        updated_at (datetime.datetime):
    """

    amount: int
    basis: str
    booking_id: int | None
    created_at: datetime.datetime
    currency: str
    disruption_id: int
    id: int
    passenger_id: int | None
    reason: str
    regime: ClaimOutRegime
    status: ClaimOutStatus
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        basis = self.basis

        booking_id: int | None
        booking_id = self.booking_id

        created_at = self.created_at.isoformat()

        currency = self.currency

        disruption_id = self.disruption_id

        id = self.id

        passenger_id: int | None
        passenger_id = self.passenger_id

        reason = self.reason

        regime = self.regime.value

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "basis": basis,
                "booking_id": booking_id,
                "created_at": created_at,
                "currency": currency,
                "disruption_id": disruption_id,
                "id": id,
                "passenger_id": passenger_id,
                "reason": reason,
                "regime": regime,
                "status": status,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        basis = d.pop("basis")

        def _parse_booking_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        booking_id = _parse_booking_id(d.pop("booking_id"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        currency = d.pop("currency")

        disruption_id = d.pop("disruption_id")

        id = d.pop("id")

        def _parse_passenger_id(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        passenger_id = _parse_passenger_id(d.pop("passenger_id"))

        reason = d.pop("reason")

        regime = ClaimOutRegime(d.pop("regime"))

        status = ClaimOutStatus(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        claim_out = cls(
            amount=amount,
            basis=basis,
            booking_id=booking_id,
            created_at=created_at,
            currency=currency,
            disruption_id=disruption_id,
            id=id,
            passenger_id=passenger_id,
            reason=reason,
            regime=regime,
            status=status,
            updated_at=updated_at,
        )

        claim_out.additional_properties = d
        return claim_out

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
