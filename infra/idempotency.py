"""Insert-or-get on a unique key: the database decides who created a row, never a select before the insert.

Select-then-insert lets two requests with one idempotency key both miss the select; the loser's
insert then fails on the unique constraint and, uncaught, answers 500 (20 concurrent
`POST /v1/broadcasts` with one key gave 1×202 and 19×500). `INSERT … ON CONFLICT DO NOTHING`
instead waits, on PostgreSQL, for a concurrent insert of the same key to commit and then inserts
nothing; the select after it sees the winner's row (READ COMMITTED takes a new snapshot per
statement). On SQLite writers are serialised, so the same two statements suffice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Claimed:
    """The row's primary key, and whether this call created it."""

    id: int
    created: bool


def _table(model: Any) -> Table:
    table = getattr(model, "__table__", model)
    if not isinstance(table, Table):
        raise TypeError(f"not a table or mapped class: {model!r}")
    return table


async def insert_or_get(session: AsyncSession, model: Any, values: dict[str, Any], *, key: str) -> Claimed:
    """Insert `values` unless a row with the same `key` column exists; either way return that row's id.

    `key` must carry a unique constraint (or index) and `values[key]` must not be None. The
    caller's transaction holds the new row: commit it, or roll back to forget the claim.
    """
    table = _table(model)
    if values.get(key) is None:
        raise ValueError(f"insert_or_get needs a value for its key column {key!r}")
    (pk,) = table.primary_key.columns
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(values).on_conflict_do_nothing(index_elements=[table.c[key]]).returning(pk)
    created = (await session.execute(statement)).scalar_one_or_none()
    if created is not None:
        return Claimed(int(created), True)
    existing = (await session.execute(select(pk).where(table.c[key] == values[key]))).scalar_one()
    return Claimed(int(existing), False)
