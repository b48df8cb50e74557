"""Rows a transaction inserts when it commits: one statement on PostgreSQL, whatever the tables.

A booking reply writes an inbound message, an outbox message and an audit entry. As ORM objects
they cost a unit-of-work flush and a round trip each; queued here they go in as one INSERT per
table, chained as data-modifying CTEs of a single statement (an executemany per table on SQLite,
or when a table has many rows).
Nothing is written if the transaction rolls back.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, Table, bindparam, event, insert, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

__all__ = ["insert_at_commit"]

#: `Session.info` key of the rows queued for the commit, by table in the order first queued.
_QUEUED = "rebook.commit_rows"
#: More rows than this in one table (a fan-out batch's audit entries) go in as an executemany of one
#: prepared INSERT: a statement per row count would be compiled and planned anew for every batch.
_FEW = 4


def insert_at_commit(session: AsyncSession | Session, table: Table, row: Mapping[str, Any]) -> None:
    """Queue a row for the commit; rows of one table must name the same columns, in the same order."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    queued: dict[Table, list[dict[str, Any]]] = sync.info.setdefault(_QUEUED, {})
    queued.setdefault(table, []).append(dict(row))


@event.listens_for(Session, "before_commit", insert=True)  # first: seat moves deferred to commit go last
def _write(session: Session) -> None:
    queued: dict[Table, list[dict[str, Any]]] = session.info.pop(_QUEUED, {})
    if not queued:
        return
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


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """Rows of a rolled-back transaction never happened."""
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)
