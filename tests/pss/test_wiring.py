"""REBOOK_PSS__* picks the airline ports' implementation; pool and timeouts reach the one client from the settings."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.container import build
from gateway.pss.http import HttpPss
from gateway.settings import Settings, settings_problems
from rebooking_core.airline.ports import PssUnavailable
from rebooking_core.airline.sql import SqlStore
from tests.fakes.pss import TOKEN, FakePss
from tests.fakes.server import LocalServer
from tests.pss.test_http_pss import LX100


@pytest.fixture
def server() -> Iterator[tuple[FakePss, LocalServer]]:
    fake = FakePss()
    fake.add_flight(LX100, {"Y": 10})
    fake.add_pnr("ABC123", [(LX100, "Y")])
    with LocalServer(fake.app) as srv:
        yield fake, srv
    assert fake.violations == []


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        sandbox=True, database_url=f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}", _env_file=None
    )  # type: ignore[call-arg]


def test_the_variables_fill_the_pss_section(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REBOOK_PSS__ADAPTER", "http")
    monkeypatch.setenv("REBOOK_PSS__BASE_URL", "https://pss.airline.example/rebook/v1")
    monkeypatch.setenv("REBOOK_PSS__TOKEN", "t0k3n")
    monkeypatch.setenv("REBOOK_PSS__POOL_SIZE", "7")
    monkeypatch.setenv("REBOOK_PSS__READ_TIMEOUT_S", "2.5")
    pss = _settings(tmp_path).pss
    assert (pss.adapter, pss.pool_size, pss.read_timeout_s, pss.connect_timeout_s) == (
        "http",
        7,
        2.5,
        3,
    )
    assert pss.token is not None and pss.token.get_secret_value() == "t0k3n"


def test_http_without_a_token_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REBOOK_PSS__ADAPTER", "http")
    monkeypatch.setenv("REBOOK_PSS__BASE_URL", "https://pss.airline.example/rebook/v1")
    with pytest.raises(ValidationError) as refused:
        _settings(tmp_path)
    assert any(
        line.startswith("REBOOK_PSS") and "REBOOK_PSS__TOKEN" in line
        for line in settings_problems(refused.value)
    )


async def test_the_default_is_the_built_in_store(tmp_path: Path) -> None:
    container = build(_settings(tmp_path))
    try:
        assert isinstance(container.pss, SqlStore)
        assert container.inventory_port is container.pss and container.loyalty is container.pss
    finally:
        await container.aclose()


async def test_http_wires_one_client_with_the_settings_pool_and_timeouts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, server: tuple[FakePss, LocalServer]
) -> None:
    fake, srv = server
    monkeypatch.setenv("REBOOK_PSS__ADAPTER", "http")
    monkeypatch.setenv("REBOOK_PSS__BASE_URL", srv.url)
    monkeypatch.setenv("REBOOK_PSS__TOKEN", TOKEN)
    monkeypatch.setenv("REBOOK_PSS__POOL_SIZE", "3")
    monkeypatch.setenv("REBOOK_PSS__READ_TIMEOUT_S", "0.5")
    container = build(_settings(tmp_path))
    try:
        pss = container.pss
        assert isinstance(pss, HttpPss)
        assert container.inventory_port is pss and container.loyalty is pss
        assert (pss.config.pool_size, pss.config.read_timeout_s) == (3, 0.5)
        fake.stall_next(0.1, n=9, op="read")
        views = await asyncio.gather(*(pss.read("ABC123") for _ in range(9)))
        assert all(v is not None and v.version == 1 for v in views)
        assert fake.peak_in_flight <= 3 and len(fake.connections) <= 3
        fake.stall_next(1.5, op="read")  # past the 0.5 s read timeout from the settings
        with pytest.raises(PssUnavailable):
            await pss.read("ABC123")
    finally:
        await container.aclose()
    assert pss._client is None  # closed with the container
