from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.claim_total import ClaimTotal


T = TypeVar("T", bound="DisruptionStatus")


@_attrs_define
class DisruptionStatus:
    """
    Attributes:
        accepted (int):
        booked (int):
        bookings (int):
        created_at (datetime.datetime):
        escalated (int):
        id (int):
        impacted (int):
        kind (str):
        notified (int):
        offered (int):
        opted_out (int):
        pending (int):
        reason (None | str):
        status (str):
        claims (list[ClaimTotal] | Unset):
    """

    accepted: int
    booked: int
    bookings: int
    created_at: datetime.datetime
    escalated: int
    id: int
    impacted: int
    kind: str
    notified: int
    offered: int
    opted_out: int
    pending: int
    reason: None | str
    status: str
    claims: list[ClaimTotal] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        accepted = self.accepted

        booked = self.booked

        bookings = self.bookings

        created_at = self.created_at.isoformat()

        escalated = self.escalated

        id = self.id

        impacted = self.impacted

        kind = self.kind

        notified = self.notified

        offered = self.offered

        opted_out = self.opted_out

        pending = self.pending

        reason: None | str
        reason = self.reason

        status = self.status

        claims: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.claims, Unset):
            claims = []
            for claims_item_data in self.claims:
                claims_item = claims_item_data.to_dict()
                claims.append(claims_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "accepted": accepted,
                "booked": booked,
                "bookings": bookings,
                "created_at": created_at,
                "escalated": escalated,
                "id": id,
                "impacted": impacted,
                "kind": kind,
                "notified": notified,
                "offered": offered,
                "opted_out": opted_out,
                "pending": pending,
                "reason": reason,
                "status": status,
            }
        )
        if claims is not UNSET:
            field_dict["claims"] = claims

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.claim_total import ClaimTotal  # noqa: PLC0415

        d = dict(src_dict)
        accepted = d.pop("accepted")

        booked = d.pop("booked")

        bookings = d.pop("bookings")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        escalated = d.pop("escalated")

        id = d.pop("id")

        impacted = d.pop("impacted")

        kind = d.pop("kind")

        notified = d.pop("notified")

        offered = d.pop("offered")

        opted_out = d.pop("opted_out")

        pending = d.pop("pending")

        def _parse_reason(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        reason = _parse_reason(d.pop("reason"))

        status = d.pop("status")

        _claims = d.pop("claims", UNSET)
        claims: list[ClaimTotal] | Unset = UNSET
        if _claims is not UNSET:
            claims = []
            for claims_item_data in _claims:
                claims_item = ClaimTotal.from_dict(claims_item_data)

                claims.append(claims_item)

        disruption_status = cls(
            accepted=accepted,
            booked=booked,
            bookings=bookings,
            created_at=created_at,
            escalated=escalated,
            id=id,
            impacted=impacted,
            kind=kind,
            notified=notified,
            offered=offered,
            opted_out=opted_out,
            pending=pending,
            reason=reason,
            status=status,
            claims=claims,
        )

        disruption_status.additional_properties = d
        return disruption_status

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
