"""Ranking's loyalty weights and the remote-profile budget come from REBOOK_RANKING__*; the built-in store asks no remote."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.container import engine_config
from gateway.settings import Settings
from rebooking_core.ranking import DEFAULT_WEIGHTS, LoyaltyWeights


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

