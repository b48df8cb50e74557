"""The admin listener: /metrics, /docs and /openapi.json on a port of their own, off the one that faces webhooks.

The public port must be reachable by Twilio and Meta, so it faces the internet; what it would tell a
stranger (every route, the outbox depth, the traffic) stays on `REBOOK_ADMIN__HOST:PORT`, loopback by
default. `REBOOK_ADMIN__ON_PUBLIC_PORT=true` serves the same routes on the public port too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from gateway.container import Container
from gateway.http import problems, slack
from gateway.observability.metrics import CONTENT_TYPE_LATEST
from gateway.observability.metrics_server import scrape

log = logging.getLogger(__name__)

#: The routes the admin listener answers (the public app answers 404 there unless told otherwise).
ADMIN_PATHS = ("/metrics", "/docs", "/openapi.json")


async def metrics_text(c: Container) -> bytes:
    """The gateway's whole scrape: the registry with its gauges refreshed, then the agent desk's figures."""
    return await scrape(c) + await slack.agent_metrics(c.db)


def admin_router(c: Container, public: FastAPI) -> APIRouter:
    """/metrics for Prometheus, the public app's OpenAPI document and its Swagger UI."""
    router = APIRouter(tags=["admin"], include_in_schema=False)

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(await metrics_text(c), media_type=CONTENT_TYPE_LATEST)

    @router.get("/openapi.json")
    async def openapi() -> JSONResponse:
        return JSONResponse(public.openapi())

    @router.get("/docs")
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{public.title} API")

    return router


def create_admin_app(c: Container, public: FastAPI) -> FastAPI:
    """The admin listener's app: the container is started and closed by the public app's lifespan."""
    app = FastAPI(title=f"{public.title} admin", docs_url=None, redoc_url=None, openapi_url=None)
    problems.install(app)
    app.include_router(admin_router(c, public))

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


class _NoSignals(uvicorn.Server):
    """The public server owns SIGINT and SIGTERM; this one is stopped by it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class AdminServer:
    """The admin app under uvicorn beside the public one, in the same loop; a port already taken is
    logged and the gateway serves on without it (with `--workers N` the first process takes it)."""

    def __init__(self, app: FastAPI, *, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _NoSignals | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def bound_port(self) -> int | None:
        if self._server is None:
            return None
        for server in self._server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return None

    async def start(self) -> bool:
        try:
            sock = socket.create_server((self.host, self.port), reuse_port=False)
        except OSError as exc:
            log.warning("admin routes (/metrics, /docs) not served on %s:%s: %s", self.host, self.port, exc.strerror or type(exc).__name__)
            return False
        config = uvicorn.Config(self.app, lifespan="off", log_config=None, access_log=False)
        self._server = _NoSignals(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        for _ in range(200):
            if self._server.started or self._task.done():
                break
            await asyncio.sleep(0.01)
        log.info("admin routes (/metrics, /docs, /openapi.json) on http://%s:%s", self.host, self.bound_port)
        return self._server.started

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, timeout=5)
        self._server = self._task = None

