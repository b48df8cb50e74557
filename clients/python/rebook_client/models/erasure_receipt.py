from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.erasure_receipt_stores import ErasureReceiptStores
    from ..models.redacted import Redacted
    from ..models.table_erased import TableErased


T = TypeVar("T", bound="ErasureReceipt")


@_attrs_define
class ErasureReceipt:
    """What erasure changed where; `stores` counts entries removed outside the database (Redis).

    Attributes:
        already_erased (bool):
        erased_at (str): ISO 8601 date-time
        passenger_id (int):
        redactions (list[Redacted]):
        stores (ErasureReceiptStores):
        tables (list[TableErased]):
    """

    already_erased: bool
    erased_at: str
    passenger_id: int
    redactions: list[Redacted]
    stores: ErasureReceiptStores
    tables: list[TableErased]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        already_erased = self.already_erased

        erased_at = self.erased_at

        passenger_id = self.passenger_id

        redactions = []
        for redactions_item_data in self.redactions:
            redactions_item = redactions_item_data.to_dict()
            redactions.append(redactions_item)

        stores = self.stores.to_dict()

        tables = []
        for tables_item_data in self.tables:
            tables_item = tables_item_data.to_dict()
            tables.append(tables_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "already_erased": already_erased,
                "erased_at": erased_at,
                "passenger_id": passenger_id,
                "redactions": redactions,
                "stores": stores,
                "tables": tables,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.erasure_receipt_stores import ErasureReceiptStores  # noqa: PLC0415
        from ..models.redacted import Redacted  # noqa: PLC0415
        from ..models.table_erased import TableErased  # noqa: PLC0415

        d = dict(src_dict)
        already_erased = d.pop("already_erased")

        erased_at = d.pop("erased_at")

        passenger_id = d.pop("passenger_id")

        redactions = []
        _redactions = d.pop("redactions")
        for redactions_item_data in _redactions:
            redactions_item = Redacted.from_dict(redactions_item_data)

            redactions.append(redactions_item)

        stores = ErasureReceiptStores.from_dict(d.pop("stores"))

        tables = []
        _tables = d.pop("tables")
        for tables_item_data in _tables:
            tables_item = TableErased.from_dict(tables_item_data)

            tables.append(tables_item)

        erasure_receipt = cls(
            already_erased=already_erased,
            erased_at=erased_at,
            passenger_id=passenger_id,
            redactions=redactions,
            stores=stores,
            tables=tables,
        )

        erasure_receipt.additional_properties = d
        return erasure_receipt

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
