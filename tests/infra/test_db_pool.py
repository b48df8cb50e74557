"""Pooled PostgreSQL connections: pinged only after sitting idle, and a dead one is replaced, not handed out."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from infra import db
from tests.conftest import PG_ADMIN_DSN


def count_pings(engine: Any) -> list[int]:
    """Wrap the dialect's ping (what the checkout hook calls) to count it."""
    dialect = engine.sync_engine.dialect
    real = dialect.do_ping
    calls = [0]

    def counting(dbapi_conn: Any) -> bool:
        calls[0] += 1
        return bool(real(dbapi_conn))

    dialect.do_ping = counting
    return calls


async def backend_pid(engine: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_back_from_use_is_not_pinged(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 60.0)
    engine = db.make_engine(pg_url, pool_size=1)
    pings = count_pings(engine)
    try:
        first = await backend_pid(engine)
        assert await backend_pid(engine) == first
        assert pings[0] == 0
    finally:
        await engine.dispose()


async def test_an_idle_connection_that_died_is_replaced(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every checkout counts as after idling
    engine = db.make_engine(pg_url, pool_size=1)
    pings = count_pings(engine)
    try:
        dead = await backend_pid(engine)
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", dead)
        finally:
            await admin.close()
        replaced = await backend_pid(engine)  # the ping fails, the pool connects afresh
        assert replaced != dead
        assert pings[0] >= 2
    finally:
        await engine.dispose()
