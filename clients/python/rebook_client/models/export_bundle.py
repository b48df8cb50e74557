from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.export_bundle_tables import ExportBundleTables


T = TypeVar("T", bound="ExportBundle")


@_attrs_define
class ExportBundle:
    """Everything held about a passenger: `tables` maps each personal table to its rows (see the export schema).

    Attributes:
        format_ (str):
        generated_at (str): ISO 8601 date-time
        passenger_id (int):
        tables (ExportBundleTables):
        version (int):
    """

    format_: str
    generated_at: str
    passenger_id: int
    tables: ExportBundleTables
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        format_ = self.format_

        generated_at = self.generated_at

        passenger_id = self.passenger_id

        tables = self.tables.to_dict()

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "format": format_,
                "generated_at": generated_at,
                "passenger_id": passenger_id,
                "tables": tables,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.export_bundle_tables import ExportBundleTables  # noqa: PLC0415

        d = dict(src_dict)
        format_ = d.pop("format")

        generated_at = d.pop("generated_at")

        passenger_id = d.pop("passenger_id")

        tables = ExportBundleTables.from_dict(d.pop("tables"))

        version = d.pop("version")

        export_bundle = cls(
            format_=format_,
            generated_at=generated_at,
            passenger_id=passenger_id,
            tables=tables,
            version=version,
        )

        export_bundle.additional_properties = d
        return export_bundle

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
