"""Privacy fixtures: the conversation rig (SQLite and PostgreSQL) with scoped ops keys and an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.http.app import create_app
from tests.conversations.conftest import Clock, Pax, Rig, clock, rig  # noqa: F401  (fixtures)

KEYS = {
    "all": "k-all",
    "ops": "k-ops",
    "read": "k-read",
    "write": "k-write",
    "export": "k-export",
    "erase": "k-erase",
}
OPS_API_KEYS = ",".join(
    [
        KEYS["all"],
        f"{KEYS['ops']}:ops",
        f"{KEYS['read']}:consent:read",
        f"{KEYS['write']}:consent:write+consent:read",
        f"{KEYS['export']}:dsr:export",
        f"{KEYS['erase']}:dsr:erase",
    ]
)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ops_api_keys": OPS_API_KEYS}


@pytest.fixture
async def api(rig: Rig) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    """The app as `rebook serve` builds it around the rig's container; no key unless a test sends one."""
    transport = httpx.ASGITransport(app=create_app(rig.c))
    async with httpx.AsyncClient(transport=transport, base_url="http://rebook.test") as client:
        yield client


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}
