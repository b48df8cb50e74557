"""The newcomer's path: README's "Running it" blocks, parsed from the README itself and run by bash in a fresh
directory holding only what a clone has (.env.example), the sandbox on SQLite and the production shape on
PostgreSQL + Redis. Only addresses change: free ports for 8000/8001/9108 and this run's database and Redis."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = "Quick start: the sandbox"
PRODUCTION = "Production shape: PostgreSQL and Redis"
README_DB = "postgresql://rebook:rebook@127.0.0.1:5432/rebook"
README_REDIS = "redis://127.0.0.1:6379/0"


def block(title: str) -> str:
    """The first ```sh block under `### title` inside README's "## Running it"."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Running it\n", 1)[1].split("\n## ", 1)[0]
    part = section.split(f"\n### {title}\n", 1)[1]
    found = re.search(r"```sh\n(.*?)```", part, re.S)
    assert found, f"no sh block under {title!r}"
    return found.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(script: str, workdir: Path, *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The block under bash -e in `workdir`, with the ports moved to free ones; background jobs end with it."""
    public, admin, worker = _free_port(), _free_port(), _free_port()
    script = (
        script.replace("rebook serve ", f"rebook serve --port {public} ")
        .replace("127.0.0.1:8000", f"127.0.0.1:{public}")
        .replace("127.0.0.1:8001", f"127.0.0.1:{admin}")
        .replace("127.0.0.1:9108", f"127.0.0.1:{worker}")
    )
    shutil.copy(ROOT / ".env.example", workdir / ".env.example")
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        # Settings that move the listeners the replaced URLs point at (the environment wins over .env).
        "REBOOK_ADMIN__PORT": str(admin),
        "REBOOK_WORKER_METRICS_PORT": str(worker),
        "REBOOK_LOG__FORMAT": "text",
    }
    wrapped = "set -eo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + script
    return subprocess.run(["bash", "-c", wrapped], cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_readme_blocks_are_where_the_test_looks() -> None:
    for title in (SANDBOX, PRODUCTION):
        commands = [line for line in block(title).splitlines() if line.strip()]
        assert commands[0] == "cp .env.example .env"
        assert any(line.startswith("rebook serve") for line in commands)
        assert commands[-1].startswith("kill %1")
    assert README_DB in block(PRODUCTION) and README_REDIS in block(PRODUCTION)


@pytest.mark.slow
def test_the_sandbox_quick_start_runs_as_written(tmp_path: Path) -> None:
    result = run(block(SANDBOX), tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert "disruption 1 recorded\n" in result.stdout, result.stdout
    assert '"id":1' in result.stdout.replace(" ", "")
    assert re.search(r"^rebook_outbox_depth \d", result.stdout.replace("}", "}\n"), re.M), result.stdout
    assert (tmp_path / ".rebook" / "rebook.db").is_file()
    assert "Traceback" not in result.stderr
    start = [line for line in result.stderr.splitlines() if "gateway (1 process)" in line]
    assert start and "database sqlite:" in start[0] and "queue in-process" in start[0]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_the_production_shape_runs_as_written_on_postgresql_and_redis(tmp_path: Path, fresh_pg_url: str) -> None:
    script = block(PRODUCTION).replace(README_DB, fresh_pg_url).replace(README_REDIS, REDIS_URL)
    result = run(script, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert re.search(r"disruption \d+ recorded\n", result.stdout), result.stdout
    env = (tmp_path / ".env").read_text()
    assert re.search(r"^REBOOK_PII_KEYS=\w+:", env, re.M) and "dev-only" not in env
    assert "Traceback" not in result.stderr
    assert any("worker: database 127.0.0.1:5432/" in line and "queue redis" in line for line in result.stderr.splitlines())
