"""Async engine and session factory for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import bindparam, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


#: A pooled connection back from use within this many seconds is handed out without a ping; one
#: idle for longer is pinged first (and replaced if dead), as `pool_pre_ping` would do every time.
#: Under load that saves a round trip per transaction (a booking reply runs one, its confirmation
#: three); a server restart inside the window costs one failed transaction per pooled connection.
PING_AFTER_IDLE_S = 1.0


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    engine = create_async_engine(url, **kwargs)
    if not is_sqlite(url):
        _ping_when_idle(engine)
    else:
        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "connect")
    def _fresh(dbapi_conn: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        if time.monotonic() - record.info.get("returned_at", 0.0) <= PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool drops this connection and checks out another
            raise DisconnectionError("pooled connection failed its ping") from exc

    @event.listens_for(engine.sync_engine, "checkin")
    def _checkin(dbapi_conn: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """Engine + sessions; on SQLite, write transactions take one in-process lock so they never collide."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = is_sqlite(url)
        self.engine = make_engine(url, pool_size=pool_size)
        self.sessions = make_sessionmaker(self.engine)
        self._write_lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        if self.is_sqlite:
            async with self._write_lock, self.sessions() as session, session.begin():
                yield session
        else:
            async with self.sessions() as session, session.begin():
                yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


async def insert_ignore(session: AsyncSession, table: Any, values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on either database; True when a row was inserted."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    target = getattr(table, "__table__", table)
    key = (dialect, target, tuple(sorted(values)))
    statement = _INSERT_IGNORE.get(key)
    if statement is None:
        statement = _INSERT_IGNORE[key] = _build_insert_ignore(dialect, target, key[2])
    result = await session.execute(statement, values)
    return bool(result.rowcount)  # type: ignore[attr-defined]


#: Built once per table and column set: webhooks claim every event with one, and building costs as much as running.
_INSERT_IGNORE: dict[tuple[str, Any, tuple[str, ...]], Any] = {}


def _build_insert_ignore(dialect: str, table: Any, columns: tuple[str, ...]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values({c: bindparam(c) for c in columns}).on_conflict_do_nothing()
