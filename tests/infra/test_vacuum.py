"""After a wave the worker vacuums the tables it churned (PostgreSQL), one worker at a time."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from infra.db import Database
from infra.vacuum import TIDY_LOCK, tidy


async def _churn(db: Database, rows: int) -> str:
    """A new table's rows written, then all rewritten: `rows` dead tuples, reported to the statistics at once."""
    name = f"churned_{uuid.uuid4().hex[:8]}"
    async with db.engine.begin() as conn:
        await conn.execute(text(f"CREATE TABLE {name} (id int primary key, n int)"))
        await conn.execute(text(f"INSERT INTO {name} SELECT g, 0 FROM generate_series(1, :rows) g"), {"rows": rows})
    async with db.engine.begin() as conn:
        await conn.execute(text(f"UPDATE {name} SET n = n + 1"))
        await conn.execute(text("SELECT pg_stat_force_next_flush()"))
    return name


async def _vacuumed(db: Database, name: str) -> bool:
    async with db.engine.connect() as conn:
        query = text("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = :name")
        return bool(await conn.scalar(query, {"name": name}))


async def test_a_table_a_wave_churned_is_vacuumed_and_a_quiet_one_is_not(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        name = await _churn(db, 500)
        assert name not in await tidy(db, at_least=2000), "too few rows changed to bother"
        assert not await _vacuumed(db, name)
        assert name in await tidy(db, at_least=100)
        assert await _vacuumed(db, name)
    finally:
        await db.dispose()


async def test_a_worker_finding_another_vacuuming_skips_its_turn(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        name = await _churn(db, 500)
        async with db.engine.connect() as other:
            assert await other.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": TIDY_LOCK})
            assert await tidy(db, at_least=100) == []
            await other.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": TIDY_LOCK})
        assert name in await tidy(db, at_least=100)
    finally:
        await db.dispose()


async def test_sqlite_has_nothing_to_vacuum(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    try:
        assert await tidy(db, at_least=0) == []
    finally:
        await db.dispose()
