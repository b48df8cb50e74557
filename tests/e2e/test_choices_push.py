"""Refund instead from a push action: the app posts the refund action's id like any option's, once per token."""

from __future__ import annotations

import json

import pytest

from conversations.engine import Status
from tests.e2e.test_push_journey import (  # noqa: F401  (the fixtures this journey reuses)
    ANDROID,
    Journey,
    act,
    journey,
    world,
)


@pytest.fixture(autouse=True)
def _choices_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before `journey` builds the container: the passenger's own choices are shown."""
    monkeypatch.setenv("REBOOK_CHOICES__ENABLED", "true")


async def test_a_refund_action_closes_the_conversation_and_its_token_is_single_use(
    journey: Journey,  # noqa: F811
) -> None:
    push = journey.push_to(ANDROID)
    actions = [o["id"] for o in json.loads(push["options"])]
    refund = next((a for a in actions if a.startswith("refund:")), None)
    assert refund is not None, actions

    done = await act(journey, push["action_token"], refund)
    again = await act(journey, push["action_token"], refund)
    forged = await act(journey, push["action_token"], "refund:999999")

    assert done.status_code == 200 and done.json()["status"] == Status.CLOSED.value, done.text
    assert again.status_code != 200 and forged.status_code != 200
    conv = await journey.conversation("android")
    assert (conv.status, conv.choice) == (Status.CLOSED, "refund")
