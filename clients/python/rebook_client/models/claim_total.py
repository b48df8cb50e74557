from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ClaimTotal")


@_attrs_define
class ClaimTotal:
    """Compensation claims of the disruption under one regime and status, and their sum.

    Attributes:
        amount (int):
        claims (int):
        currency (str):
        regime (str):
        status (str):
    """

    amount: int
    claims: int
    currency: str
    regime: str
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        claims = self.claims

        currency = self.currency

        regime = self.regime

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "claims": claims,
                "currency": currency,
                "regime": regime,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        claims = d.pop("claims")

        currency = d.pop("currency")

        regime = d.pop("regime")

        status = d.pop("status")

        claim_total = cls(
            amount=amount,
            claims=claims,
            currency=currency,
            regime=regime,
            status=status,
        )

        claim_total.additional_properties = d
        return claim_total

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
