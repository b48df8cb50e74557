from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="BroadcastOut")


@_attrs_define
class BroadcastOut:
    """
    Attributes:
        failed (int):
        finished (bool):
        id (int):
        pending (int):
        sent (int):
        skipped_consent (int):
        target (str):
        targeted (int):
    """

    failed: int
    finished: bool
    id: int
    pending: int
    sent: int
    skipped_consent: int
    target: str
    targeted: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        failed = self.failed

        finished = self.finished

        id = self.id

        pending = self.pending

        sent = self.sent

        skipped_consent = self.skipped_consent

        target = self.target

        targeted = self.targeted

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "failed": failed,
                "finished": finished,
                "id": id,
                "pending": pending,
                "sent": sent,
                "skipped_consent": skipped_consent,
                "target": target,
                "targeted": targeted,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        failed = d.pop("failed")

        finished = d.pop("finished")

        id = d.pop("id")

        pending = d.pop("pending")

        sent = d.pop("sent")

        skipped_consent = d.pop("skipped_consent")

        target = d.pop("target")

        targeted = d.pop("targeted")

        broadcast_out = cls(
            failed=failed,
            finished=finished,
            id=id,
            pending=pending,
            sent=sent,
            skipped_consent=skipped_consent,
            target=target,
            targeted=targeted,
        )

        broadcast_out.additional_properties = d
        return broadcast_out

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
