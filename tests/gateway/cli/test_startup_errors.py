"""An operator's mistake at start is one line on stderr naming what to fix, and exit 2: run as the operator does."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.migrate import upgrade, upgrade_async
from infra.db import DatabaseUnreachable, require_reachable
from infra.redis_check import RedisUnreachable, require_redis
from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[3]
STRONG = {
    "REBOOK_PII_KEYS": "k1:cli-pii-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    "REBOOK_BLIND_INDEX_KEY": "cli-blind-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
    "REBOOK_OPS_API_KEYS": "cli-ops-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "REBOOK_PUBLIC_BASE_URL": "https://rebook.example.test",
    "REBOOK_WORKER_METRICS_PORT": "0",
}


def rebook(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`rebook ARGS` in a clean environment: only PATH and what the test gives, no REBOOK_* of the caller's."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", *args],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command refused with exit 2 and exactly one line on stderr, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rebook: ")
    return lines[0]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP listener on loopback that accepts every connection and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
        for conn in held:
            conn.close()


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"], ["db", "upgrade"]])
def test_weak_settings_refuse_to_start_one_line_per_variable(command: list[str], tmp_path: Path) -> None:
    env = {**STRONG, "REBOOK_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "REBOOK_PII_KEYS": "k1:a", "REBOOK_OPS_API_KEYS": ""}
    del env["REBOOK_PUBLIC_BASE_URL"]

    result = rebook(*command, env=env)

    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert [line.split(":", 2)[1].strip() for line in lines] == [
        "REBOOK_PII_KEYS",
        "REBOOK_OPS_API_KEYS",
        "REBOOK_PUBLIC_BASE_URL",
    ]
    assert "Traceback" not in result.stderr and "validation error" not in result.stderr
    assert "k1:a" not in result.stderr
    assert not (tmp_path / "r.db").exists(), "nothing was touched before the settings were valid"


def test_the_sandbox_starts_with_the_development_defaults(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    result = rebook("db", "upgrade", env={"REBOOK_SANDBOX": "true", "REBOOK_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr


async def test_a_database_that_accepts_and_never_answers_fails_within_seconds(silent_port: int) -> None:
    url = f"postgresql+asyncpg://rebook:hunter2@127.0.0.1:{silent_port}/rebook"

    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable) as err:
        await require_reachable(url)
    took = time.monotonic() - started

    assert took < 15, f"took {took:.1f} s; asyncpg's own default is 60"
    assert str(err.value) == f"the database at 127.0.0.1:{silent_port}/rebook did not answer within 5 s (REBOOK_DATABASE_URL)"


def test_rebook_db_upgrade_on_a_silent_database_is_one_line_naming_the_host(silent_port: int) -> None:
    env = {**STRONG, "REBOOK_DATABASE_URL": f"postgresql+asyncpg://rebook:hunter2@127.0.0.1:{silent_port}/rebook"}

    started = time.monotonic()
    result = rebook("db", "upgrade", env=env)
    took = time.monotonic() - started

    line = one_line(result)
    assert f"127.0.0.1:{silent_port}/rebook" in line
    assert "did not answer within 5 s" in line and "REBOOK_DATABASE_URL" in line
    assert "hunter2" not in result.stderr
    assert took < 45, f"took {took:.1f} s (process start included); asyncpg's own default alone is 60"


def test_a_refused_database_connection_names_the_host(tmp_path: Path) -> None:
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    env = {**STRONG, "REBOOK_DATABASE_URL": f"postgresql://rebook:hunter2@127.0.0.1:{port}/rebook"}

    line = one_line(rebook("worker", env=env))

    assert f"cannot connect to the database at 127.0.0.1:{port}/rebook" in line
    assert "hunter2" not in line


def test_a_database_that_refuses_the_login_is_one_line(pg_url: str) -> None:
    wrong = pg_url.rsplit("/", 1)[0] + "/rebook_no_such_database"
    line = one_line(rebook("worker", env={**STRONG, "REBOOK_DATABASE_URL": wrong}))
    assert "refused the connection" in line and "rebook_no_such_database" in line


def test_a_redis_that_accepts_and_never_answers_fails_within_seconds_naming_the_host(tmp_path: Path, silent_port: int) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    env = {**STRONG, "REBOOK_DATABASE_URL": url, "REBOOK_REDIS_URL": f"redis://:hunter2@127.0.0.1:{silent_port}/3"}

    started = time.monotonic()
    line = one_line(rebook("worker", env=env))
    took = time.monotonic() - started

    assert line == f"rebook: Redis at 127.0.0.1:{silent_port}/3 did not answer within 5 s (REBOOK_REDIS_URL)"
    assert took < 45, f"took {took:.1f} s (process start included); without a timeout it never ends"


async def test_a_silent_redis_fails_the_start_check_within_seconds(silent_port: int) -> None:
    started = time.monotonic()
    with pytest.raises(RedisUnreachable):
        await require_redis(f"redis://127.0.0.1:{silent_port}/0")
    assert time.monotonic() - started < 15


def test_a_database_url_without_the_async_driver_is_migrated_on_it(fresh_pg_url: str, tmp_path: Path) -> None:
    bare_pg = fresh_pg_url.replace("postgresql+asyncpg://", "postgresql://")
    bare_sqlite = f"sqlite:///{tmp_path / 'bare.db'}"
    for url in (bare_pg, bare_sqlite):
        result = rebook("db", "upgrade", env={**STRONG, "REBOOK_DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        assert "psycopg" not in result.stderr
    assert (tmp_path / "bare.db").stat().st_size > 0
    # …and the worker's start check finds those databases migrated (it stops at the next problem: the bad Redis).
    for url in (bare_pg, bare_sqlite):
        line = one_line(rebook("worker", env={**STRONG, "REBOOK_DATABASE_URL": url, "REBOOK_REDIS_URL": "redis://127.0.0.1:1/0"}))
        assert "Redis at 127.0.0.1:1/0" in line


def test_a_database_url_on_another_driver_is_refused_with_the_form_to_use() -> None:
    env = {**STRONG, "REBOOK_DATABASE_URL": "postgresql+psycopg2://rebook:hunter2@127.0.0.1/rebook"}
    line = one_line(rebook("db", "upgrade", env=env))
    assert line.startswith("rebook: REBOOK_DATABASE_URL: ")
    assert "use postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME" in line
    assert "hunter2" not in line


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"]])
async def test_an_unmigrated_database_stops_worker_and_gateway_with_the_command_to_run(db_url: str, command: list[str]) -> None:
    env = {**STRONG, "REBOOK_DATABASE_URL": db_url}

    line = one_line(await asyncio.to_thread(rebook, *command, env=env))

    assert "is not migrated (at revision none, code needs " in line
    assert line.endswith("run `rebook db upgrade`")
    where = "sqlite:" if db_url.startswith("sqlite") else "127.0.0.1:5432/"
    assert f"the database at {where}" in line


async def test_a_database_at_an_older_revision_names_both_revisions(db_url: str) -> None:
    await asyncio.to_thread(upgrade, db_url, "0001")

    line = one_line(await asyncio.to_thread(rebook, "worker", env={**STRONG, "REBOOK_DATABASE_URL": db_url}))

    assert "is not migrated (at revision 0001, code needs " in line


async def test_a_migrated_database_passes_the_start_check(db_url: str) -> None:
    """The same check, satisfied: the worker gets past it (and here stops at an unreachable Redis)."""
    await upgrade_async(db_url)
    env = {**STRONG, "REBOOK_DATABASE_URL": db_url, "REBOOK_REDIS_URL": "redis://127.0.0.1:1/0"}

    line = one_line(await asyncio.to_thread(rebook, "worker", env=env))

    assert line.startswith("rebook: cannot use Redis at 127.0.0.1:1/0 (REBOOK_REDIS_URL)")


async def test_the_redis_used_by_the_tests_passes_the_start_check() -> None:
    await require_redis(REDIS_URL)


def test_the_start_line_names_database_queue_channels_and_public_url_without_passwords(caplog: pytest.LogCaptureFixture) -> None:
    from gateway.cli.main import _log_start
    from gateway.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        sandbox=True,
        database_url="postgresql://rebook:hunter2@db.internal:6543/rebook",
        redis_url="redis://:hunter3@cache.internal:6380/2",
        public_base_url="https://rebook.example.test",
    )
    with caplog.at_level("INFO", logger="gateway.cli.main"):
        _log_start(settings, "worker")

    [line] = [r.getMessage() for r in caplog.records if r.name == "gateway.cli.main"]
    assert line == (
        "worker: database db.internal:6543/rebook, queue redis cache.internal:6380/2,"
        " channels: sms sandbox, whatsapp sandbox, email sandbox, telegram sandbox, push sandbox,"
        " public URL https://rebook.example.test"
    )
