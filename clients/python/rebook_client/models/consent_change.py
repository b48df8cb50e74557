from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ConsentChange")


@_attrs_define
class ConsentChange:
    """
    Attributes:
        at (datetime.datetime):
        channel (str):
        evidence (None | str):
        legal_basis (str):
        purpose (str):
        source (str):
        state (str):
    """

    at: datetime.datetime
    channel: str
    evidence: None | str
    legal_basis: str
    purpose: str
    source: str
    state: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        channel = self.channel

        evidence: None | str
        evidence = self.evidence

        legal_basis = self.legal_basis

        purpose = self.purpose

        source = self.source

        state = self.state

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "channel": channel,
                "evidence": evidence,
                "legal_basis": legal_basis,
                "purpose": purpose,
                "source": source,
                "state": state,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        channel = d.pop("channel")

        def _parse_evidence(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        evidence = _parse_evidence(d.pop("evidence"))

        legal_basis = d.pop("legal_basis")

        purpose = d.pop("purpose")

        source = d.pop("source")

        state = d.pop("state")

        consent_change = cls(
            at=at,
            channel=channel,
            evidence=evidence,
            legal_basis=legal_basis,
            purpose=purpose,
            source=source,
            state=state,
        )

        consent_change.additional_properties = d
        return consent_change

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
