"""The standalone worker's own /metrics over real HTTP, and the job backlog read from the Redis stream."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from redis.asyncio import Redis

from gateway.container import build
from gateway.observability.metrics import Metrics, StreamQueue
from gateway.observability.metrics_server import (
    STUCK_AFTER_S,
    Heartbeat,
    WorkerMetricsServer,
    job_queue,
)
from gateway.settings import Settings
from gateway.worker.process import Worker
from infra import crypto
from tests.conftest import REDIS_URL
from tests.conversations.conftest import Rig
from tests.gateway.observability.conftest import parse, value


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port someone else is listening on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def _serving(rig: Rig) -> AsyncIterator[str]:
    server = WorkerMetricsServer(rig.c, host="127.0.0.1", port=0)
    assert await server.start()
    try:
        yield f"http://127.0.0.1:{server.bound_port}"
    finally:
        await server.stop()


async def test_the_worker_serves_the_same_metrics_over_http(rig: Rig) -> None:
    a = await rig.add_pax()
    ids = await rig.disrupt()
    await rig.c.service.offer_batch(ids)
    async with _serving(rig) as base, httpx.AsyncClient(base_url=base) as http:
        before = await http.get("/metrics")
        await rig.c.dispatcher.drain()
        after = await http.get("/metrics")
        health = await http.get("/healthz")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    assert value(parse(before.text), "rebook_outbox_messages", status="pending") == 1
    assert value(parse(after.text), "rebook_outbox_messages", status="pending") == 0
    assert value(parse(after.text), "rebook_sends_total", channel="sms", provider="sandbox", outcome="sent") == 1
    assert health.json() == {"status": "ok"}
    assert a.phone not in after.text


async def test_a_taken_port_leaves_the_worker_running_without_metrics(rig: Rig, busy_port: int) -> None:
    server = WorkerMetricsServer(rig.c, host="127.0.0.1", port=busy_port)
    assert await server.start() is False
    assert server.bound_port is None
    await server.run()


async def test_the_standalone_worker_serves_on_its_configured_port(rig: Rig) -> None:
    port = _free_port()
    rig.c.settings.worker_metrics_port = port
    task = asyncio.create_task(Worker(rig.c, serve_metrics=True).run())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            response = None
            for _ in range(500):
                with contextlib.suppress(httpx.ConnectError):
                    response = await http.get("/metrics")
                    break
                await asyncio.sleep(0.01)
        assert response is not None and response.status_code == 200
        assert "rebook_job_duration_seconds" in response.text
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_embedded_worker_serves_no_metrics_of_its_own(rig: Rig) -> None:
    port = _free_port()
    rig.c.settings.worker_metrics_port = port
    task = asyncio.create_task(Worker(rig.c).run())
    try:
        await asyncio.sleep(0)
        await rig.c.dispatcher.drain()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", port))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_worker_metrics_settings_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings(_env_file=None, sandbox=True)  # type: ignore[call-arg]
    assert (defaults.worker_metrics_host, defaults.worker_metrics_port) == ("127.0.0.1", 9108)
    monkeypatch.setenv("REBOOK_WORKER_METRICS_PORT", "0")
    monkeypatch.setenv("REBOOK_WORKER_METRICS_HOST", "0.0.0.0")
    off = Settings(_env_file=None, sandbox=True)  # type: ignore[call-arg]
    assert (off.worker_metrics_host, off.worker_metrics_port) == ("0.0.0.0", 0)


@pytest.fixture
async def stream() -> AsyncIterator[tuple[Redis, str]]:
    client = Redis.from_url(REDIS_URL)
    name = f"rebook-test:{uuid.uuid4().hex[:8]}"
    try:
        yield client, name
    finally:
        await client.delete(name)
        await client.aclose()


async def test_stream_depth_counts_unread_and_unacknowledged_jobs(stream: tuple[Redis, str], rig: Rig) -> None:
    client, name = stream
    queue = StreamQueue(REDIS_URL, name, "workers")
    assert await queue.depth() == (0, 0), "no stream yet"
    await client.xgroup_create(name, "workers", id="0", mkstream=True)
    for i in range(3):
        await client.xadd(name, {"data": str(i)})
    await client.xreadgroup("workers", "w1", {name: ">"}, count=1)
    assert await queue.depth() == (2, 1)

    metrics = Metrics()
    await metrics.refresh(rig.c.db, now=rig.clock(), queue=queue)
    samples = parse(metrics.render().decode())
    assert value(samples, "rebook_jobs_waiting") == 2
    assert value(samples, "rebook_jobs_unacknowledged") == 1


async def test_an_unreachable_redis_does_not_break_the_scrape(rig: Rig, busy_port: int) -> None:
    metrics = Metrics()
    await metrics.refresh(rig.c.db, now=rig.clock(), queue=StreamQueue(f"redis://127.0.0.1:{_free_port()}/0", "s", "g"))
    assert "rebook_outbox_depth 0.0" in metrics.render().decode()


async def test_the_job_queue_is_the_stream_the_workers_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    previous = crypto.keyring()
    with_redis = build(Settings(_env_file=None, sandbox=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'q.db'}", redis_url=REDIS_URL))  # type: ignore[call-arg]
    without = build(Settings(_env_file=None, sandbox=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"))  # type: ignore[call-arg]
    try:
        queue = job_queue(with_redis)
        assert queue is not None
        assert (queue.stream, queue.group) == ("rebook:jobs", "rebook-workers")
        assert job_queue(without) is None
    finally:
        await with_redis.aclose()
        await without.aclose()
        crypto.configure(previous)


async def test_the_worker_health_check_fails_when_its_dispatcher_is_stuck(rig: Rig) -> None:
    beat = Heartbeat()
    server = WorkerMetricsServer(rig.c, host="127.0.0.1", port=0, heartbeat=beat)
    assert await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.bound_port}") as http:
            healthy = await http.get("/healthz")
            assert healthy.status_code == 200 and healthy.json()["status"] == "ok"
            beat.at -= STUCK_AFTER_S + 5  # no pass for two minutes
            stuck = await http.get("/healthz")
            assert stuck.status_code == 503 and stuck.json()["status"] == "stuck"
            assert stuck.json()["last_loop_age_s"] > STUCK_AFTER_S
            assert value(parse((await http.get("/metrics")).text), "rebook_worker_loop_age_seconds") > STUCK_AFTER_S
            beat.beat()
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await server.stop()


async def test_a_running_worker_beats_with_every_dispatcher_pass(rig: Rig) -> None:
    worker = Worker(rig.c)
    worker.heartbeat.at -= 1000
    task = asyncio.create_task(worker.dispatch_forever())
    try:
        for _ in range(100):
            if worker.heartbeat.age() < 5:
                break
            await asyncio.sleep(0.02)
        assert worker.heartbeat.age() < 5
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
