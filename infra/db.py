"""Async engine and session factory for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import bindparam, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from infra import commit_hooks


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


#: Seconds a database or Redis connect may take (TCP, TLS and the server's greeting) before it
#: fails: asyncpg's own default is 60, so a host that accepts and never answers looked like a hang.
CONNECT_TIMEOUT_S = 5.0

#: URL schemes given without the async driver, and the driver rebook runs them on.
_ASYNC_SCHEMES = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgres+asyncpg": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}
URL_FORMS = "postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME or sqlite+aiosqlite:///PATH"


def async_url(url: str) -> str:
    """The URL on rebook's async driver: `postgresql://` (or `postgres://`) and `sqlite://` gain it silently,
    so a URL copied from a hosting provider works; another driver is refused with the forms to use."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: use {URL_FORMS}")
    driver = _ASYNC_SCHEMES.get(scheme.lower())
    if driver is None:
        raise ValueError(f"scheme {scheme!r} is not supported (rebook needs an async driver): use {URL_FORMS}")
    return f"{driver}://{rest}"


def where(url: str) -> str:
    """The database a URL points at, safe to print: HOST:PORT/NAME (never the user or password), or the SQLite path."""
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:{parsed.database or ':memory:'}"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


class DatabaseUnreachable(ConnectionError):
    """A connect failed or timed out; the message names the database (HOST:PORT/NAME), never the credentials."""


#: A pooled connection back from use within this many seconds is handed out without a ping; one
#: idle for longer is pinged first (and replaced if dead), as `pool_pre_ping` would do every time.
#: Under load that saves a round trip per transaction (a booking reply runs one, its confirmation
#: three); a server restart inside the window costs one failed transaction per pooled connection.
PING_AFTER_IDLE_S = 1.0


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = async_url(url)
    kwargs: dict[str, Any] = {}
    if is_sqlite(url):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, connect_args={"timeout": CONNECT_TIMEOUT_S})
    engine = create_async_engine(url, **kwargs)
    if not is_sqlite(url):
        _ping_when_idle(engine)
        _name_failed_connects(engine, where(url))
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


def _name_failed_connects(engine: AsyncEngine, database: str) -> None:
    """A refused or silent server fails the connect as one line naming the database, not a bare TimeoutError."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        try:
            return dialect.connect(*cargs, **cparams)
        except TimeoutError as exc:
            raise DatabaseUnreachable(
                f"the database at {database} did not answer within {CONNECT_TIMEOUT_S:g} s (REBOOK_DATABASE_URL)"
            ) from exc
        except OSError as exc:
            raise DatabaseUnreachable(
                f"cannot connect to the database at {database} (REBOOK_DATABASE_URL): {exc.strerror or exc}"
            ) from exc


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


@asynccontextmanager
async def connect_once(url: str) -> AsyncIterator[AsyncConnection]:
    """One connection for a start-up check, any failure to get it as DatabaseUnreachable (one line, no password)."""
    engine = make_engine(url, pool_size=1)
    try:
        try:
            connection = await engine.connect()
        except DBAPIError as exc:  # the server answered and refused: wrong name, role or password
            raise DatabaseUnreachable(
                f"the database at {where(url)} refused the connection (REBOOK_DATABASE_URL): {exc.orig}"
            ) from exc
        try:
            yield connection
        finally:
            await connection.close()
    finally:
        await engine.dispose()


async def require_reachable(url: str) -> None:
    """Raise DatabaseUnreachable unless the database takes a connection within CONNECT_TIMEOUT_S."""
    async with connect_once(url):
        return


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits run the work queued for them (`infra.commit_hooks`), on their own session class."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=commit_hooks.session_class())


class Database:
    """Engine + sessions; on SQLite, write transactions take one in-process lock so they never collide."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = async_url(url)
        self.is_sqlite = is_sqlite(self.url)
        self.engine = make_engine(self.url, pool_size=pool_size)
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
