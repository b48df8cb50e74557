"""schemathesis against the running ops API, on SQLite and PostgreSQL: no 5xx, every answer as the OpenAPI says.

The app is wired as `rebook serve` wires it (`build` + `create_app`, lifespan on) and served by
uvicorn on 127.0.0.1 in a thread; the database is migrated and holds the generated world, so
ids and flights sometimes exist. Each /v1 operation gets valid input with a valid key, invalid
input (negative mode) with a valid key, and valid input without a key. Examples are bounded and
derandomized (the same inputs every run); shrinking is off to keep a failing run short.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.container import build
from gateway.http.app import create_app
from gateway.http.limits import uvicorn_options
from gateway.migrate import upgrade
from infra.db import Database
from rebooking_core.importer import import_bookings, import_schedule
from tests.gateway.conftest import OPS_KEY, World, sandbox_settings

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
AUTH = {"Authorization": f"Bearer {OPS_KEY}"}
#: (generation mode, headers, examples per operation)
RUNS: tuple[tuple[GenerationMode, dict[str, str], int], ...] = (
    (GenerationMode.POSITIVE, AUTH, 25),
    (GenerationMode.NEGATIVE, AUTH, 10),
    (GenerationMode.POSITIVE, {}, 3),
)
#: Enough bookings that some generated ids exist; loading all of the world's costs seconds a run.
BOOKINGS = 60


async def _load(url: str, world: World) -> None:
    db = Database(url)
    try:
        async with db.transaction() as s:
            await import_schedule(s, world.schedule)
        async with db.transaction() as s:
            await import_bookings(s, world.bookings[:BOOKINGS])
    finally:
        await db.dispose()


@contextmanager
def serving(db_url: str, world: World) -> Iterator[str]:
    """The whole app under uvicorn in a thread of its own (its loop owns the container)."""
    upgrade(db_url)
    # /openapi.json on this port; no rate limit: hundreds of generated requests a minute are the point here.
    settings = sandbox_settings(db_url, admin={"on_public_port": True}, rate_limit={"per_ip_per_minute": 0, "per_key_per_minute": 0})
    app = create_app(build(settings))
    # After build(): it installs the keyring the world's PII must be encrypted under.
    asyncio.run(_load(db_url, world))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False, **uvicorn_options())
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def _exercise(operation: Any, base: str, mode: GenerationMode, headers: dict[str, str], examples: int) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=30)

    run()


def test_the_ops_api_never_5xx_and_answers_as_its_schema_says(db_url: str, world: World) -> None:
    failures: list[str] = []
    with serving(db_url, world) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = [r.ok() for r in schema.get_all_operations()]
        ops = [op for op in operations if op.path.startswith("/v1/")]
        assert len(ops) >= 12, [op.label for op in ops]
        for op in ops:
            for mode, headers, examples in RUNS:
                try:
                    _exercise(op, base, mode, headers, examples)
                except Exception as exc:  # collect every operation's failure, then report them all
                    failures.append(f"{op.label} [{mode.value}, {'key' if headers else 'no key'}]: {exc}")
    assert not failures, "\n\n".join(failures)
