"""The admin listener (/metrics, /docs, /openapi.json off the public port), route labels, and the /v1 rate limits."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import string
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.http.app import create_app
from gateway.http.ratelimit import RateLimiter
from gateway.observability.admin import ADMIN_PATHS, AdminServer, create_admin_app
from tests.conftest import REDIS_URL
from tests.gateway.conftest import OPS_KEY, World, running
from tests.gateway.observability.admin_client import admin_get


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: what is tested here is HTTP, not the database."""
    return f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}"


def _routes(text: str) -> set[str]:
    return {
        s.labels["route"]
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "rebook_http_responses_total"
    }


async def test_the_public_app_answers_404_on_the_admin_routes_and_the_admin_app_answers_them(db_url: str, world: World) -> None:
    async with running(db_url, world, load=False) as g:
        for path in ADMIN_PATHS + ("/redoc",):
            response = await g.client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"
        metrics = await admin_get(g.container, "/metrics")
        assert metrics.status_code == 200 and "# TYPE rebook_outbox_depth gauge" in metrics.text
        assert "rebook_agent_time_to_claim_seconds" in metrics.text
        public = create_app(g.container)
        document = (await admin_get(g.container, "/openapi.json", public=public)).json()
        assert "/v1/disruptions" in document["paths"] and "/metrics" not in document["paths"]
        docs = await admin_get(g.container, "/docs", public=public)
        assert docs.status_code == 200 and "/openapi.json" in docs.text


async def test_the_admin_routes_may_be_put_on_the_public_port_explicitly(db_url: str, world: World) -> None:
    async with running(db_url, world, load=False, admin={"on_public_port": True}) as g:
        assert (await g.client.get("/metrics")).status_code == 200
        assert "/v1/disruptions" in (await g.client.get("/openapi.json")).json()["paths"]


async def test_route_labels_are_templates_and_a_thousand_random_paths_share_one(db_url: str, world: World) -> None:
    rng = random.Random(18)
    async with running(db_url, world, load=False) as g:
        assert (await g.client.get("/v1/disruptions/42")).status_code == 404
        assert (await g.client.get("/v1/disruptions/43")).status_code == 404
        assert (await g.client.get("/v1/escalations")).status_code == 200
        for _ in range(1000):
            path = "/" + "/".join("".join(rng.choices(string.ascii_letters + string.digits + ".-_", k=rng.randint(1, 12))) for _ in range(rng.randint(1, 4)))
            await g.client.get(path)
        routes = _routes((await admin_get(g.container)).text)
    assert {"/v1/disruptions/{disruption_id}", "/v1/escalations", "other"} <= routes
    assert len(routes) < 10, routes


async def test_the_admin_server_listens_on_its_own_port_and_a_taken_port_only_warns(
    db_url: str, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(db_url, world, load=False) as g:
        server = AdminServer(create_admin_app(g.container, create_app(g.container)), host="127.0.0.1", port=0)
        assert await server.start()
        try:
            port = server.bound_port
            assert port
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                assert (await http.get("/metrics")).status_code == 200
                assert (await http.get("/healthz")).status_code == 200
                assert (await http.get("/v1/escalations")).status_code == 404
            with socket.socket() as taken:
                taken.bind(("127.0.0.1", 0))
                taken.listen()
                second = AdminServer(create_admin_app(g.container, create_app(g.container)), host="127.0.0.1", port=taken.getsockname()[1])
                with caplog.at_level(logging.WARNING, logger="gateway.observability.admin"):
                    assert not await second.start()
                assert any("not served on" in r.getMessage() for r in caplog.records)
        finally:
            await server.stop()


async def test_v1_is_rate_limited_per_address_with_a_problem_and_retry_after(db_url: str, world: World) -> None:
    async with running(db_url, world, load=False, rate_limit={"per_ip_per_minute": 5, "per_key_per_minute": 100}) as g:
        answers = [await g.client.get("/v1/escalations") for _ in range(7)]
        assert [a.status_code for a in answers[:5]] == [200] * 5
        refused = answers[5]
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        body = refused.json()
        assert body["status"] == 429 and body["title"] == "Too Many Requests" and "address" in body["detail"]
        assert (await g.client.get("/healthz")).status_code == 200, "only /v1 is limited"
        assert "429" in {s.labels["status"] for m in g.container.metrics.http.collect() for s in m.samples}


async def test_v1_is_rate_limited_per_key_and_keys_are_counted_apart(db_url: str, world: World) -> None:
    async with running(db_url, world, load=False, rate_limit={"per_ip_per_minute": 0, "per_key_per_minute": 3}) as g:
        codes = [(await g.client.get("/v1/escalations")).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        other = await g.client.get("/v1/escalations", headers={"Authorization": "Bearer another-key"})
        assert other.status_code == 401, "another key has its own count (and is then refused as unknown)"
        assert "API key" in (await g.client.get("/v1/escalations")).json()["detail"]
        assert OPS_KEY not in str(g.container.settings.rate_limit)


@pytest.mark.redis
async def test_with_redis_every_process_shares_the_counts() -> None:
    now = [1_000_000.0]
    scope = {"type": "http", "path": "/v1/escalations", "client": (f"10.9.{uuid.uuid4().int % 250}.1", 5000), "headers": []}
    first, second = (RateLimiter(per_key=0, per_address=3, redis_url=REDIS_URL, clock=lambda: now[0]) for _ in range(2))
    await first.start()
    await second.start()
    try:
        assert await first.refusal(scope) is None
        assert await second.refusal(scope) is None
        assert await first.refusal(scope) is None
        refused = await second.refusal(scope)
        assert refused is not None and refused.status_code == 429 and refused.headers["Retry-After"] == "20"
        now[0] += 60
        assert await first.refusal(scope) is None, "a new minute starts a new count"
    finally:
        await first.aclose()
        await second.aclose()


async def test_without_redis_answering_the_counts_stay_in_the_process(caplog: pytest.LogCaptureFixture) -> None:
    limiter = RateLimiter(per_key=0, per_address=1, redis_url="redis://127.0.0.1:9/0")
    await limiter.start()
    scope = {"type": "http", "path": "/v1/escalations", "client": ("10.0.0.7", 5000), "headers": []}
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.http.ratelimit"):
            assert await limiter.refusal(scope) is None
            assert (await limiter.refusal(scope)) is not None
        assert any("fell back" in r.getMessage() for r in caplog.records)
    finally:
        await limiter.aclose()
    await asyncio.sleep(0)
