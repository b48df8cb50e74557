"""Reading the admin listener's routes of a container in-process, as Prometheus or an operator would."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from gateway.container import Container
from gateway.http.app import create_app
from gateway.observability.admin import create_admin_app


async def admin_get(c: Container, path: str = "/metrics", *, public: FastAPI | None = None) -> httpx.Response:
    """GET `path` from the admin app of `c` (the public app's OpenAPI when `public` is given)."""
    app = create_admin_app(c, public if public is not None else create_app(c))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8001") as client:
        return await client.get(path)
