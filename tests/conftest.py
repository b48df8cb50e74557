"""Shared fixtures: PII keyring, loopback-only network, SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import consent.models  # noqa: F401
import conversations.models  # noqa: F401  (register tables)
import rebooking_core.models  # noqa: F401
from infra import crypto
from infra.db import make_engine
from infra.orm import Base

PG_ADMIN_DSN = os.environ.get("REBOOK_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("REBOOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback(host: object) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if not _loopback(host if not isinstance(host, bytes) else host.decode()):
        raise OSError(f"test tried to reach non-loopback host {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def _check_address(address: object) -> None:
    if isinstance(address, tuple) and not _loopback(address[0]):
        raise OSError(f"test tried to connect to non-loopback address {address[0]!r}")


def _guard_connect(self, address):  # type: ignore[no-untyped-def]
    _check_address(address)
    return _real_connect(self, address)


def _guard_connect_ex(self, address):  # type: ignore[no-untyped-def]
    _check_address(address)
    return _real_connect_ex(self, address)


socket.getaddrinfo = _guard_getaddrinfo  # type: ignore[assignment]
socket.socket.connect = _guard_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guard_connect_ex  # type: ignore[method-assign]


@pytest.fixture(autouse=True, scope="session")
def pii_keyring() -> crypto.Keyring:
    ring = crypto.Keyring.from_secrets([("k1", "test-pii-key")], "test-blind-key")
    crypto.configure(ring)
    return ring


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read REBOOK_* from the environment; tests start from none of them."""
    for name in list(os.environ):
        if name.startswith("REBOOK_") and not name.startswith("REBOOK_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _restore_keyring(pii_keyring: crypto.Keyring) -> Iterator[None]:
    """`build()` (gateway.container) installs its own keyring globally; put the session's back for other tests."""
    yield
    crypto.configure(pii_keyring)


@pytest.fixture
async def sqlite_engine(tmp_path) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run; fails (never skips) if PostgreSQL is down."""
    name = f"rebook_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(pg_url, pool_size=20)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request, tmp_path, pg_url) -> AsyncIterator[AsyncEngine]:  # type: ignore[no-untyped-def]
    """The same test on both supported databases."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}" if request.param == "sqlite" else pg_url
    eng = make_engine(url, pool_size=20)
    async with eng.begin() as conn:
        if request.param == "postgresql":
            await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """An empty PostgreSQL database for one test (for migrations and whole-app tests)."""
    name = f"rebook_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database of each supported kind, for tests that migrate and run the whole app."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}"
    else:
        yield request.getfixturevalue("fresh_pg_url")
