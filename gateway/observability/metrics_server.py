"""Scrapes: the gateway's /metrics route and the standalone worker's own small /metrics server."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from gateway.container import Container
from gateway.observability.metrics import CONTENT_TYPE_LATEST, StreamQueue

log = logging.getLogger(__name__)

#: A worker whose dispatcher has not finished a pass for this long is stuck (a pass comes at least every
#: quarter second when idle; a full one waits for room at most a few provider timeouts): /healthz fails.
STUCK_AFTER_S = 120.0


class Heartbeat:
    """When the worker's dispatcher last finished a pass, for a health check that fails when it is stuck."""

    def __init__(self) -> None:
        self.at = time.monotonic()

    def beat(self) -> None:
        self.at = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self.at


def job_queue(c: Container) -> StreamQueue | None:
    """The Redis stream the workers read, when jobs go through Redis."""
    broker = c.jobs.broker
    stream, group = getattr(broker, "queue_name", None), getattr(broker, "consumer_group_name", None)
    if not c.settings.redis_url or not isinstance(stream, str) or not isinstance(group, str):
        return None
    return StreamQueue(c.settings.redis_url, stream, group)


async def scrape(c: Container) -> bytes:
    """Refresh the gauges read from the database and Redis, then render the whole registry."""
    await c.metrics.refresh(c.db, now=c.clock(), queue=job_queue(c))
    return c.metrics.render()


def worker_app(c: Container, heartbeat: Heartbeat | None = None, *, stuck_after_s: float = STUCK_AFTER_S) -> web.Application:
    """/metrics, and /healthz: 503 once the dispatcher has not finished a pass for `stuck_after_s`."""

    async def metrics(request: web.Request) -> web.Response:
        if heartbeat is not None:
            c.metrics.worker_loop_age.set(heartbeat.age())
        body = await scrape(c)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(request: web.Request) -> web.Response:
        if heartbeat is None:
            return web.json_response({"status": "ok"})
        age = round(heartbeat.age(), 1)
        if age > stuck_after_s:
            return web.json_response({"status": "stuck", "last_loop_age_s": age}, status=503)
        return web.json_response({"status": "ok", "last_loop_age_s": age})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    return app


class WorkerMetricsServer:
    """The standalone worker's /metrics; a port already taken is logged and the worker runs on without it."""

    def __init__(self, c: Container, *, host: str, port: int, heartbeat: Heartbeat | None = None) -> None:
        self.c = c
        self.host = host
        self.port = port
        self.heartbeat = heartbeat
        self._runner: web.AppRunner | None = None

    @property
    def bound_port(self) -> int | None:
        """The port actually listened on (useful with port 0 in tests)."""
        if self._runner is None:
            return None
        for site in self._runner.sites:
            server = getattr(site, "_server", None)
            sockets = getattr(server, "sockets", None) or []
            for sock in sockets:
                return int(sock.getsockname()[1])
        return None

    async def start(self) -> bool:
        runner = web.AppRunner(worker_app(self.c, self.heartbeat), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            log.warning("worker metrics not served on %s:%s: %s", self.host, self.port, exc.strerror or type(exc).__name__)
            await runner.cleanup()
            return False
        self._runner = runner
        log.info("worker metrics on http://%s:%s/metrics", self.host, self.bound_port)
        return True

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def run(self) -> None:
        """Serve until cancelled (one of the worker's loops)."""
        if not await self.start():
            return
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
