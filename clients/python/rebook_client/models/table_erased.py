from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TableErased")


@_attrs_define
class TableErased:
    """
    Attributes:
        action (str):
        columns (list[str]):
        rows (int):
        table (str):
    """

    action: str
    columns: list[str]
    rows: int
    table: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        columns = self.columns

        rows = self.rows

        table = self.table

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "columns": columns,
                "rows": rows,
                "table": table,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        action = d.pop("action")

        columns = cast(list[str], d.pop("columns"))

        rows = d.pop("rows")

        table = d.pop("table")

        table_erased = cls(
            action=action,
            columns=columns,
            rows=rows,
            table=table,
        )

        table_erased.additional_properties = d
        return table_erased

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
