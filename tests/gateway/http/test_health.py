"""Liveness, readiness (database, Redis) and Prometheus metrics, through the app as `build()` wires it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from gateway.container import build
from gateway.http.app import create_app
from gateway.migrate import upgrade_async
from gateway.settings import AdminSettings, Settings, TwilioSettings
from tests.conftest import REDIS_URL
from tests.gateway.conftest import Gateway, running, sandbox_settings
from tests.gateway.observability.admin_client import admin_get

PUBLIC = "https://rebook.example.com"
TWILIO_TOKEN = "twilio-auth-secret"


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound by nobody listening: every connection to it is refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    container = build(settings)
    await container.start()
    try:
        transport = httpx.ASGITransport(app=create_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://rebook.test") as client:
            yield client
    finally:
        await container.aclose()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_healthz_answers_without_touching_the_database(closed_port: int) -> None:
    url = f"postgresql+asyncpg://rebook@127.0.0.1:{closed_port}/rebook"
    async with app_client(sandbox_settings(url)) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ok_with_a_reachable_database(db_url: str) -> None:
    async with app_client(sandbox_settings(db_url)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok"}


async def test_readyz_checks_redis_when_configured(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with app_client(sandbox_settings(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", redis_url=REDIS_URL)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "redis": "ok"}


async def test_readyz_is_503_when_the_database_is_unreachable(closed_port: int) -> None:
    url = f"postgresql+asyncpg://rebook:pw-do-not-show@127.0.0.1:{closed_port}/rebook"
    async with app_client(sandbox_settings(url)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error:")
    assert "pw-do-not-show" not in response.text


async def test_readyz_is_503_when_redis_is_unreachable(tmp_path, closed_port: int) -> None:  # type: ignore[no-untyped-def]
    redis_url = f"redis://127.0.0.1:{closed_port}/0"
    container = build(sandbox_settings(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", redis_url=redis_url))
    try:
        transport = httpx.ASGITransport(app=create_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://rebook.test") as client:
            response = await client.get("/readyz")
    finally:
        await container.aclose()
    assert response.status_code == 503
    assert response.json()["database"] == "ok"
    assert response.json()["redis"].startswith("error:")


async def test_metrics_report_the_outbox_depth(db_url: str, world) -> None:  # type: ignore[no-untyped-def]
    async with running(db_url, world) as g:
        assert await _outbox_depth(g) == 0
        response = await g.disrupt(world.target)
        assert response.status_code == 202
        await g.container.jobs.wait_idle()
        queued = await _outbox_depth(g)
        assert queued == world.bookings_on(world.target)
        await g.container.dispatcher.drain()
        assert await _outbox_depth(g) == 0

        metrics = samples((await admin_get(g.container)).text)
        offered = metrics[("rebook_conversations", (("state", "offered"),))]
        assert offered > 0
        assert sum(v for (name, _), v in metrics.items() if name == "rebook_deliveries") > 0


async def _outbox_depth(g: Gateway) -> float:
    response = await admin_get(g.container)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE rebook_outbox_depth gauge" in response.text
    return samples(response.text)[("rebook_outbox_depth", ())]


def _twilio_settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        public_base_url=PUBLIC,
        ops_api_keys="ops-key-real-0123456789-abcdefghijklmnopqrstuvwxyz",  # type: ignore[arg-type]
        pii_keys="k1:pii-key-real-0123456789-abcdefghijklmnopqrstuvwxyz",  # type: ignore[arg-type]
        blind_index_key="blind-key-real-0123456789-abcdefghijklmnopqrstuvwxyz",  # type: ignore[arg-type]
        admin=AdminSettings(on_public_port=True),  # this test reads /metrics on the public port
        twilio=TwilioSettings(
            account_sid="AC" + "0" * 32,
            auth_token=TWILIO_TOKEN,  # type: ignore[arg-type]
            from_number="+15550100",
            api_base="http://127.0.0.1:9",
        ),
    )


async def test_a_forged_webhook_is_403_and_counted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    await upgrade_async(url)
    form = {"MessageSid": "SM" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": "+34600123456", "To": "+15550100", "Body": "1"}
    rejected = ("rebook_webhook_rejections_total", (("provider", "twilio"), ("status", "403")))
    async with app_client(_twilio_settings(url)) as client:
        unsigned = await client.post("/webhooks/twilio/sms", data=form)
        forged = await client.post(
            "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": RequestValidator("guess").compute_signature(PUBLIC + "/webhooks/twilio/sms", form)}
        )
        assert unsigned.status_code == 403
        assert forged.status_code == 403
        assert samples((await client.get("/metrics")).text)[rejected] == 2

        signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio/sms", form)
        genuine = await client.post("/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
        assert genuine.status_code == 200
        assert samples((await client.get("/metrics")).text)[rejected] == 2
