"""BSUID webhooks through the whole gateway: unknown or hostile identifiers are a 200 (or a 400), never a 5xx."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from conversations.models import ProcessedEvent
from rebooking_core.models import ContactPoint
from tests.e2e.privacy.journey import captured_logs
from tests.webhooks.conftest import Hooks

BSUID = "US.13491208655302741918"


def _payload(value: dict[str, Any]) -> bytes:
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1234567890"}, **value}
    body = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(body).encode()


def _bsuid_text(wamid: str, user_id: Any, **profile: Any) -> bytes:
    contact = {"profile": {"name": "x", **profile}, "user_id": user_id}
    message = {"id": wamid, "timestamp": str(int(time.time())), "type": "text", "text": {"body": "1"}, "from_user_id": user_id}
    return _payload({"contacts": [contact], "messages": [message]})


def _unknown(hooks: Hooks, by: str) -> float:
    return float(hooks.c.metrics.unknown_senders.labels("whatsapp", "meta", by)._value.get())


async def _count(hooks: Hooks, model: type[Any]) -> int:
    async with hooks.c.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_message_from_an_unknown_bsuid_is_acknowledged_counted_and_not_logged(hooks: Hooks) -> None:
    with captured_logs() as logs:
        response = await hooks.whatsapp(_bsuid_text("wamid.U1", BSUID, username="@someone"))
        again = await hooks.whatsapp(_bsuid_text("wamid.U1", BSUID, username="@someone"))
    assert (response.status_code, again.status_code) == (200, 200)
    assert _unknown(hooks, "bsuid") == 1, "a retried webhook is counted once"
    assert BSUID not in logs.getvalue() and "13491208655302741918" not in logs.getvalue() and "@someone" not in logs.getvalue()
    assert await _count(hooks, ContactPoint) == 0


@pytest.mark.parametrize(
    "profile",
    [{"username": "x" * 100_000}, {"username": "a\u0000b"}, {"username": ["@a"]}, {"username": {"$gt": ""}}, {"name": None}],
)
async def test_odd_usernames_are_ignored_not_stored(hooks: Hooks, profile: dict[str, Any]) -> None:
    assert (await hooks.whatsapp(_bsuid_text("wamid.P1", BSUID, **profile))).status_code == 200
    assert _unknown(hooks, "bsuid") == 1


@pytest.mark.parametrize("user_id", ["US." + "9" * 5000, "US.1\u0000", "US.١٢٣", 10**40, {"a": 1}])
async def test_a_message_whose_only_identifier_is_no_bsuid_is_dropped_with_a_200(hooks: Hooks, user_id: Any) -> None:
    assert (await hooks.whatsapp(_bsuid_text("wamid.B1", user_id))).status_code == 200
    assert await _count(hooks, ProcessedEvent) == 0


async def test_a_number_change_for_no_known_passenger_is_acknowledged_and_counted(hooks: Hooks) -> None:
    message = {
        "from": "34600111222", "id": "wamid.C1", "timestamp": str(int(time.time())), "type": "system",
        "system": {"body": "changed", "type": "user_changed_number", "wa_id": "34600999888", "user_id": BSUID},
    }
    assert (await hooks.whatsapp(_payload({"messages": [message]}))).status_code == 200
    assert _unknown(hooks, "identity_change") == 1
    assert await _count(hooks, ContactPoint) == 0


async def test_a_system_message_that_is_not_an_object_is_a_400(hooks: Hooks) -> None:
    message = {"from": "34600111222", "id": "wamid.C2", "timestamp": str(int(time.time())), "type": "system", "system": ["x"]}
    response = await hooks.whatsapp(_payload({"messages": [message]}))
    assert response.status_code == 400
    assert await _count(hooks, ProcessedEvent) == 0


async def test_a_status_naming_only_a_bsuid_for_an_unknown_message_is_a_200(hooks: Hooks) -> None:
    status = {"id": "wamid.nobody", "status": "read", "timestamp": str(int(time.time())), "recipient_user_id": BSUID, "recipient_id": "34600111222"}
    assert (await hooks.whatsapp(_payload({"statuses": [status]}))).status_code == 200
    assert await _count(hooks, ContactPoint) == 0
