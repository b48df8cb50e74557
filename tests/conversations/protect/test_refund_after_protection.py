"""A refund instead of the protection (#21.5: "keep it, pick another, or get a refund"): the protected seat goes back with the journey."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from conversations.engine import Status
from conversations.intake.fanout import FanOut
from conversations.models import Conversation
from rebooking_core.models import RefundRequestRow
from tests.conversations.conftest import Rig


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"first_contact": "protect", "choices": {"enabled": True}}


async def test_a_refund_instead_of_the_protection_gives_its_seat_back(rig: Rig) -> None:
    who = await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    async with rig.c.db.reading() as s:
        disruption_id = int((await s.scalars(select(Conversation.disruption_id))).first() or 0)
    assert await FanOut(rig.c.service).offer_batch(disruption_id, ids) == 1
    await rig.c.dispatcher.drain()
    options = await rig.options(who)
    protected = options[0].flight_ids[0]
    message = rig.last("sms", who)
    refund = str(len(options) + 1)  # numbered after the offer's flights, as the menu shows it
    assert refund in message.tokens, message.tokens
    assert (await rig.inventory())[protected] == (1, 0)

    await rig.reply("sms", who, refund)
    await rig.c.dispatcher.drain()

    conv = await rig.conversation(who)
    assert (conv.status, conv.choice, conv.booked_option_id) == (Status.CLOSED, "refund", None)
    assert (await rig.inventory())[protected] == (0, 0), "the protected seat is given back"
    assert await rig.segments(who) == [(rig.disrupted.id, "HX"), (protected, "HX")]
    async with rig.c.db.reading() as s:
        [request] = (await s.scalars(select(RefundRequestRow))).all()
    assert request.booking_id == who.booking_id
    assert [m.key for m in await rig.outbox(who)] == ["protected", "refund_recorded"]

    await rig.reply("sms", who, "2")  # a later answer changes nothing: the conversation is closed
    assert (await rig.inventory())[protected] == (0, 0)
