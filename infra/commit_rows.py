"""Rows a transaction inserts when it commits: one statement on PostgreSQL, whatever the tables.

A booking reply writes an inbound message, an outbox message and an audit entry. As ORM objects
they cost a unit-of-work flush and a round trip each; queued here they go in as one INSERT per
table, chained as data-modifying CTEs of a single statement (an executemany per table on SQLite,
or when a table has many rows).
Nothing is written if the transaction rolls back. The write is the first stage of `infra.commit_hooks`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, Table, bindparam, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from infra import commit_hooks

__all__ = ["insert_at_commit"]

#: More rows than this in one table (a fan-out batch's audit entries) go in as an executemany of one
#: prepared INSERT: a statement per row count would be compiled and planned anew for every batch.
_FEW = 4


def insert_at_commit(session: AsyncSession | Session, table: Table, row: Mapping[str, Any]) -> None:
    """Queue a row for the commit; rows of one table must name the same columns, in the same order."""
    commit_hooks.queue(session, _WRITE, (table, dict(row)))


def _write(session: Session, items: list[tuple[Table, dict[str, Any]]]) -> None:
    """The queued rows, by table in the order each table was first queued."""
    queued: dict[Table, list[dict[str, Any]]] = {}
    for table, row in items:
        queued.setdefault(table, []).append(row)
    if session.get_bind().dialect.name != "postgresql" or any(len(rows) > _FEW for rows in queued.values()):
        for table, rows in queued.items():
            session.execute(insert(table), rows)
        return
    shape = tuple((table, tuple(rows[0]), len(rows)) for table, rows in queued.items())
    params = {
        f"r{t}_{r}_{column}": value
        for t, rows in enumerate(queued.values())
        for r, row in enumerate(rows)
        for column, value in row.items()
    }
    session.execute(_statement(shape), params)


@functools.lru_cache(maxsize=256)
def _statement(shape: tuple[tuple[Table, tuple[str, ...], int], ...]) -> Select[Any]:
    """One statement per shape (tables, columns, row counts), built once: a reply's is always the same.

    Rows come from a SELECT of parameters (UNION ALL for several, in order): SQLAlchemy cannot cache
    the compiled form of a multi-row VALUES, and compiling it anew cost a reply more CPU than any
    other step.
    """
    writes = []
    for t, (table, columns, count) in enumerate(shape):
        rows = [select(*(bindparam(f"r{t}_{r}_{c}", type_=table.c[c].type).label(c) for c in columns)) for r in range(count)]
        source = rows[0] if count == 1 else select(union_all(*rows).subquery())
        writes.append(insert(table).from_select(columns, source).cte(f"rows_{t}"))
    return select(literal(1)).add_cte(*writes)


_WRITE = commit_hooks.CommitHook(commit_hooks.CommitStage.QUEUED_ROWS, "rows inserted at commit", _write)
