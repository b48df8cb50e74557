"""The whole gateway (as `gateway.container.build` and `create_app` wire it) behind signed provider webhooks."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from twilio.request_validator import RequestValidator

from gateway.container import Container, build
from gateway.http.app import create_app
from gateway.settings import Settings
from infra import crypto

PUBLIC = "https://rebook.example.test"
WA_SECRET = "wa-app-secret-for-hostile-tests"
TWILIO_TOKEN = "twilio-auth-token-for-hostile-tests"
WA_URL = "/webhooks/whatsapp"
SMS_URL = "/webhooks/twilio/sms"
STATUS_URL = "/webhooks/twilio/status"


def wa_signature(body: bytes, secret: str = WA_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(path: str, form: Mapping[str, str], token: str = TWILIO_TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(PUBLIC + path, dict(form)))


@dataclass
class Hooks:
    """Posts to the webhook routes, signed like the provider would (or not), and reads what was stored."""

    c: Container
    http: httpx.AsyncClient

    async def whatsapp(self, body: bytes, *, signed: bool = True, headers: Mapping[str, str] | None = None) -> httpx.Response:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if signed:
            sent["X-Hub-Signature-256"] = wa_signature(body)
        return await self.http.post(WA_URL, content=body, headers=sent)

    async def twilio(self, path: str, form: Mapping[str, str], *, signed: bool = True) -> httpx.Response:
        headers = {"X-Twilio-Signature": twilio_signature(path, form)} if signed else {}
        return await self.http.post(path, data=dict(form), headers=headers)


@pytest.fixture
async def hooks(engine: AsyncEngine) -> AsyncIterator[Hooks]:
    """On SQLite and on PostgreSQL."""
    async with _gateway(engine) as h:
        yield h


@pytest.fixture
async def pg_hooks(pg_engine: AsyncEngine) -> AsyncIterator[Hooks]:
    """On PostgreSQL only: the database that refuses NUL and over-long values (SQLite stores anything)."""
    async with _gateway(pg_engine) as h:
        yield h


@contextlib.asynccontextmanager
async def _gateway(engine: AsyncEngine) -> AsyncIterator[Hooks]:
    previous = crypto.keyring()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        public_base_url=PUBLIC,
        pii_keys="k1:6H+DWopvSssqQdgy0YLsxQYXN/1WbYkLMAJ+frPllYI=",
        blind_index_key="6uvrlivVpcaOnl0L1uxXEm1bI4BiOQ/wZfaKzvXzleQ=",
        ops_api_keys="er3xfKyFS/DS5KDAEYhH8zWC8uijfSeMHogDcVR+1JU=",
        twilio={
            "account_sid": "AC" + "0" * 32,
            "auth_token": TWILIO_TOKEN,
            "from_number": "+15550001111",
            "api_base": "http://127.0.0.1:9",
        },
        whatsapp={
            "phone_number_id": "1234567890",
            "token": "wa-token",
            "app_secret": WA_SECRET,
            "verify_token": "verify-me",
            "api_base": "http://127.0.0.1:9",
        },
    )
    c = build(settings)
    try:
        app = create_app(c)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC) as http:
            yield Hooks(c, http)
    finally:
        await c.aclose()
        crypto.configure(previous)
