"""`rebook serve --workers 2` as an operator runs it: both processes answer, a webhook lands once, SIGTERM ends the tree."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from gateway.migrate import upgrade_async
from tests.conftest import REDIS_URL
from tests.gateway.cli.test_startup_errors import ROOT, STRONG, rebook

WA_SECRET = "serve-workers-app-secret"
WA_NUMBER = "1234567890"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db_url: str, **more: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        **STRONG,
        "REBOOK_DATABASE_URL": db_url,
        "REBOOK_REDIS_URL": REDIS_URL,
        "REBOOK_WHATSAPP__PHONE_NUMBER_ID": WA_NUMBER,
        "REBOOK_WHATSAPP__TOKEN": "wa-token",
        "REBOOK_WHATSAPP__APP_SECRET": WA_SECRET,
        "REBOOK_WHATSAPP__VERIFY_TOKEN": "verify-me",
        "REBOOK_WHATSAPP__API_BASE": "http://127.0.0.1:9",
        **more,
    }


def _children(pid: int) -> list[int]:
    """uvicorn's worker processes: direct children spawned by multiprocessing (not its resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _socket_owner(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """Which process holds the server side of the connection from `client_port` (via /proc/net/tcp inodes)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":"), fields[2].split(":")
        if int(local[1], 16) == server_port and int(remote[1], 16) == client_port:
            inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _get(port: int, path: str, conn: socket.socket | None = None) -> tuple[int, socket.socket]:
    """One HTTP/1.1 request on a fresh (or given) connection, left open so its owner can be looked up."""
    sock = conn or socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = sock.recv(65536).decode("latin-1")
    return int(head.split()[1]), sock


def _post(port: int, path: str, body: bytes, headers: dict[str, str]) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return int(sock.recv(65536).decode("latin-1").split()[1])


@pytest.fixture
def served(fresh_pg_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, str, int]]:
    """`rebook serve --workers 2` (embedded workers on) on a migrated PostgreSQL database and Redis; the last is the admin port."""
    import asyncio

    asyncio.run(upgrade_async(fresh_pg_url))
    port, admin = _free_port(), _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve", "--workers", "2", "--port", str(port)],
            env=_env(fresh_pg_url, REBOOK_ADMIN__PORT=str(admin)),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                status, sock = _get(port, "/healthz")
                sock.close()
                if status == 200 and len(_children(proc.pid)) >= 2:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "rebook serve --workers 2 did not answer within 90 s"
            time.sleep(0.3)
        yield proc, port, fresh_pg_url, admin
    finally:
        # A SIGKILLed parent leaves its workers running: end them first, by their ids.
        for pid in _children(proc.pid) if proc.poll() is None else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_two_processes_answer_a_webhook_lands_once_and_sigterm_ends_the_tree(
    served: tuple[subprocess.Popen[bytes], int, str, int],
) -> None:
    proc, port, db_url, admin = served
    workers = _children(proc.pid)
    assert len(workers) == 2

    answered_by: set[int] = set()
    held: list[socket.socket] = []
    try:
        for _ in range(200):  # fresh connections until each process has accepted one
            status, sock = _get(port, "/healthz")
            held.append(sock)
            assert status == 200
            owner = _socket_owner(port, sock.getsockname()[1], workers)
            if owner is not None:
                answered_by.add(owner)
            if answered_by == set(workers):
                break
        assert answered_by == set(workers), "one of the two processes never answered"
    finally:
        for sock in held:
            sock.close()

    # /metrics and /docs: on the admin listener (the first process binds it), not on the public port.
    for path, public_status in (("/metrics", 404), ("/docs", 404), ("/openapi.json", 404)):
        status, sock = _get(admin, path)
        sock.close()
        assert status == 200, path
        status, sock = _get(port, path)
        sock.close()
        assert status == public_status, path

    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "metadata": {"phone_number_id": WA_NUMBER},
                                "messages": [
                                    {"from": "15550009999", "id": "wamid.serve-workers-1", "timestamp": "1700000000",
                                     "type": "text", "text": {"body": "hello"}}
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    signature = "sha256=" + hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    assert [_post(port, "/webhooks/whatsapp", body, headers) for _ in range(6)] == [200] * 6
    assert _post(port, "/webhooks/whatsapp", body, {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}) == 401

    async def claimed() -> list[tuple[str, str]]:
        conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return [tuple(row) for row in await conn.fetch("SELECT provider, event_id FROM processed_events")]
        finally:
            await conn.close()

    import asyncio

    assert asyncio.run(claimed()) == [("meta", "wamid.serve-workers-1")]

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "a worker process outlived SIGTERM to the parent"


def test_more_than_one_process_without_redis_is_refused_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in _env(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}").items() if k != "REBOOK_REDIS_URL"}
    result = rebook("serve", "--workers", "2", "--port", "0", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "rebook: --workers above 1 needs REBOOK_REDIS_URL (jobs and dispatch turns are shared through Redis)"
    ]
    assert not (tmp_path / "r.db").exists()


def test_the_workers_end_when_rebook_serve_is_killed(served: tuple[subprocess.Popen[bytes], int, str, int]) -> None:
    proc, _port, _db, _admin = served
    workers = _children(proc.pid)
    assert len(workers) == 2

    proc.kill()  # SIGKILL: uvicorn's supervisor cannot pass anything on
    proc.wait()

    # SIGTERM to each worker, then uvicorn's graceful shutdown: seconds on a loaded CI box (15 s once fell short).
    deadline = time.monotonic() + 45
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "a worker process served on after its parent was killed"
