"""Rows queued for the commit: written with it (in one statement on PostgreSQL), or not at all."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine.default import CACHE_HIT
from sqlalchemy.ext.asyncio import AsyncEngine

from consent.models import AuditEntry
from conversations.models import INBOUND_MESSAGES, InboundMessage
from infra.commit_rows import insert_at_commit
from infra.db import make_sessionmaker

AT = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


def _audit(n: int) -> dict[str, Any]:
    return {"at": AT, "actor": "test", "action": "a", "subject": f"s{n}", "passenger_id": None, "reason": None, "details": {"n": n}}


def _message(text: str) -> dict[str, Any]:
    return {"conversation_id": None, "channel": "sms", "text": text, "interpreted_as": "unmatched", "received_at": AT}


@contextlib.contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL the engine sends while the block runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_queued_rows_of_several_tables_are_written_at_commit(engine: AsyncEngine) -> None:
    maker = make_sessionmaker(engine)
    with _statements(engine) as statements:
        async with maker() as s, s.begin():
            insert_at_commit(s, INBOUND_MESSAGES, _message("first"))
            for n in range(3):
                insert_at_commit(s, AuditEntry.__table__, _audit(n))  # type: ignore[arg-type]
            insert_at_commit(s, INBOUND_MESSAGES, _message("second"))
            assert statements == [], "nothing before the commit"
    writes = [st for st in statements if "INSERT" in st]
    assert len(writes) == (1 if engine.dialect.name == "postgresql" else 2)

    async with maker() as s:
        texts = sorted((await s.scalars(select(InboundMessage.text))).all())
        details = sorted(d["n"] for d in (await s.scalars(select(AuditEntry.details))).all())
        stored = set((await s.scalars(text("SELECT text FROM inbound_messages"))).all())
    assert texts == ["first", "second"] and details == [0, 1, 2]
    assert len(stored) == 2 and not stored & {"first", "second"}, "message text is encrypted at rest, as through the ORM"


async def test_a_rolled_back_transaction_writes_nothing_it_queued(engine: AsyncEngine) -> None:
    maker = make_sessionmaker(engine)
    with pytest.raises(RuntimeError):
        async with maker() as s, s.begin():
            insert_at_commit(s, INBOUND_MESSAGES, _message("never"))
            raise RuntimeError("the handler failed")
    async with maker() as s, s.begin():
        insert_at_commit(s, AuditEntry.__table__, _audit(1))  # type: ignore[arg-type]
    async with maker() as s:
        assert await s.scalar(select(func.count()).select_from(InboundMessage)) == 0
        assert await s.scalar(select(func.count()).select_from(AuditEntry)) == 1


async def test_many_rows_of_a_table_go_in_as_one_prepared_insert_per_table(engine: AsyncEngine) -> None:
    maker = make_sessionmaker(engine)
    with _statements(engine) as statements:
        async with maker() as s, s.begin():
            for n in range(70):
                insert_at_commit(s, AuditEntry.__table__, _audit(n))  # type: ignore[arg-type]
            insert_at_commit(s, INBOUND_MESSAGES, _message("one"))
    assert [st.split("(")[0].strip() for st in statements if "INSERT" in st] == [
        "INSERT INTO audit_log",
        "INSERT INTO inbound_messages",
    ]
    async with maker() as s:
        assert await s.scalar(select(func.count()).select_from(AuditEntry)) == 70


async def test_a_shape_seen_before_reuses_its_compiled_statement(engine: AsyncEngine) -> None:
    """Compiling the INSERT anew for every reply was the costliest step of a reply in Python."""
    maker = make_sessionmaker(engine)
    hits: list[bool] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "INSERT" in statement:
            hits.append(context.cache_hit == CACHE_HIT)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        for round_ in range(2):
            async with maker() as s, s.begin():
                insert_at_commit(s, INBOUND_MESSAGES, _message(f"first {round_}"))
                for n in range(3):
                    insert_at_commit(s, AuditEntry.__table__, _audit(n))  # type: ignore[arg-type]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    writes = len(hits) // 2
    assert writes >= 1 and hits[writes:] == [True] * writes, hits
