"""REBOOK_PSS_BOOKING__* as the README writes them become the pump's policy; nonsense is refused at start."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from gateway.settings import Settings


def test_defaults_are_the_documented_ones() -> None:
    policy = Settings(sandbox=True, _env_file=None).pss_booking.policy()  # type: ignore[call-arg]
    assert policy.lease == dt.timedelta(seconds=60)
    assert policy.retry_s == (2.0, 5.0, 15.0, 30.0, 60.0)
    assert policy.poll_s == (2.0, 5.0, 10.0, 30.0, 60.0)
    assert (policy.max_attempts, policy.give_up_after) == (20, dt.timedelta(minutes=30))


def test_comma_separated_steps_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REBOOK_PSS_BOOKING__RETRY_S", "1,3.5, 10")
    monkeypatch.setenv("REBOOK_PSS_BOOKING__POLL_S", "4,8")
    monkeypatch.setenv("REBOOK_PSS_BOOKING__LEASE_S", "45")
    monkeypatch.setenv("REBOOK_PSS_BOOKING__GIVE_UP_MINUTES", "5")
    policy = Settings(sandbox=True, _env_file=None).pss_booking.policy()  # type: ignore[call-arg]
    assert policy.retry_s == (1.0, 3.5, 10.0)
    assert policy.poll_s == (4.0, 8.0)
    assert policy.lease == dt.timedelta(seconds=45)
    assert policy.give_up_after == dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RETRY_S", "2,0"),
        ("RETRY_S", "2,x"),
        ("POLL_S", ""),
        ("MAX_ATTEMPTS", "0"),
        ("LEASE_S", "-1"),
    ],
)
def test_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"REBOOK_PSS_BOOKING__{name}", value)
    with pytest.raises(ValidationError):
        Settings(sandbox=True, _env_file=None)  # type: ignore[call-arg]
