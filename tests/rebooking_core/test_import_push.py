"""Imports may carry push tokens: each names its platform (and so its service and lane), encrypted and blind-indexed like any address."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from infra import crypto
from rebooking_core.importer import (
    ImportFailed,
    import_bookings,
    import_schedule,
    parse_bookings,
    parse_schedule,
)
from rebooking_core.models import ContactPoint
from tests.rebooking_core.test_importer import _booking, _flight

TOKEN = "ab12" * 16


def _with_push(**push: Any) -> dict[str, Any]:
    rec = _booking("PUSH01")
    rec["passengers"][0]["contacts"].append({"channel": "push", "address": TOKEN, "consent": {"service": True, "marketing": False}, **push})
    rec["passengers"][0]["preferred_channels"] = ["push", "sms"]
    return rec


async def test_a_push_token_imports_with_its_platform_app_and_service(engine: AsyncEngine) -> None:
    made = async_sessionmaker(engine, expire_on_commit=False)
    async with made.begin() as s:
        await import_schedule(s, parse_schedule([json.dumps(_flight())]))
    async with made.begin() as s:
        await import_bookings(s, parse_bookings([json.dumps(_with_push(platform="ios", app_id="com.rebookair.app"))]))
    async with made() as s:
        push = (await s.scalars(select(ContactPoint).where(ContactPoint.channel == "push"))).one()
        stored = (await s.execute(text("SELECT address FROM contact_points WHERE channel = 'push'"))).scalar_one()
    assert (push.address, push.platform, push.app_id, push.sender, push.preference) == (TOKEN, "ios", "com.rebookair.app", "apns", 0)
    assert push.address_hash == crypto.keyring().blind_index(TOKEN)
    assert TOKEN not in str(stored), "the token is encrypted at rest"


@pytest.mark.parametrize(
    ("contact", "problem"),
    [
        ({}, "platform is required for a push token"),
        ({"platform": "windows"}, "platform"),
    ],
)
def test_a_push_token_without_a_known_platform_is_refused(contact: dict[str, Any], problem: str) -> None:
    with pytest.raises(ImportFailed) as err:
        parse_bookings([json.dumps(_with_push(**contact))])
    assert problem in str(err.value)


def test_platform_is_for_push_contacts_only() -> None:
    rec = _booking("PUSH02")
    rec["passengers"][0]["contacts"][1]["platform"] = "ios"
    with pytest.raises(ImportFailed) as err:
        parse_bookings([json.dumps(rec)])
    assert "platform and app_id are for push contacts only" in str(err.value)
