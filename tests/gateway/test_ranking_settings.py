"""Ranking's loyalty weights and the remote-profile budget come from REBOOK_RANKING__*; the built-in store asks no remote."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.container import engine_config, loyalty_profiles
from gateway.pss.wiring import airline_ports
from gateway.settings import Settings
from infra.db import Database
from rebooking_core.ranking import DEFAULT_WEIGHTS, LoyaltyWeights


def _now() -> dt.datetime:
    return dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _settings() -> Settings:
    return Settings(sandbox=True, _env_file=None)  # type: ignore[call-arg]


def test_default_weights_are_the_documented_ones() -> None:
    assert engine_config(_settings()).weights == DEFAULT_WEIGHTS
    assert DEFAULT_WEIGHTS.loyalty == LoyaltyWeights(
        preferred_cabin=60.0, departure_window=45.0, nonstop=45.0
    )


def test_weights_and_budget_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBOOK_RANKING__LOYALTY_WEIGHTS__NONSTOP", "0")
    monkeypatch.setenv("REBOOK_RANKING__LOYALTY_WEIGHTS__DEPARTURE_WINDOW", "90")
    monkeypatch.setenv("REBOOK_RANKING__LOYALTY_CONCURRENCY", "4")
    settings = _settings()
    assert engine_config(settings).weights.loyalty == LoyaltyWeights(
        preferred_cabin=60.0, departure_window=90.0, nonstop=0.0
    )
    assert settings.ranking.loyalty_concurrency == 4


@pytest.mark.parametrize(
    ("name", "value"),
    [("LOYALTY_WEIGHTS__NONSTOP", "-1"), ("LOYALTY_CONCURRENCY", "0"), ("LOYALTY_TIMEOUT_S", "0")],
)
def test_nonsense_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(f"REBOOK_RANKING__{name}", value)
    with pytest.raises(ValidationError):
        _settings()


async def test_only_a_remote_loyalty_system_is_asked_for_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/x.db")
    try:
        settings = _settings()
        assert loyalty_profiles(settings, airline_ports(settings.pss, db, clock=_now)) is None
        assert loyalty_profiles(settings, None) is None
        monkeypatch.setenv("REBOOK_PSS__ADAPTER", "http")
        monkeypatch.setenv("REBOOK_PSS__BASE_URL", "http://127.0.0.1:9/pss")
        monkeypatch.setenv("REBOOK_PSS__TOKEN", "t")
        monkeypatch.setenv("REBOOK_RANKING__LOYALTY_TIMEOUT_S", "0.5")
        remote = _settings()
        ports = airline_ports(remote.pss, db, clock=_now)
        try:
            source = loyalty_profiles(remote, ports)
            assert source is not None and source.loyalty is ports.loyalty
            assert (source.concurrency, source.timeout_s) == (16, 0.5)
        finally:
            assert ports.remote is not None
            await ports.remote.aclose()
    finally:
        await db.dispose()
