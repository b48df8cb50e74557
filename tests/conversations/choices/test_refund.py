"""Refund instead, through SMS numbers, WhatsApp and Telegram taps, on both databases: recorded once, segments HX, seats back."""

from __future__ import annotations

import asyncio

import pytest

from conversations.engine import Status
from tests.conversations.choices.helpers import events, refunds, shown, tap
from tests.conversations.conftest import Pax, Rig


async def _refund_by(rig: Rig, who: Pax, channel: str) -> None:
    """Answer the offer with the refund entry, as the channel lets a passenger."""
    offer = await shown(rig, who, channel)
    if channel == "sms":
        assert "4) Refund instead" in offer.text, offer.text
        await rig.reply(channel, who, "4")
    else:
        await rig.reply(channel, who, token=tap(offer, "refund:"))


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram"])
async def test_refund_is_recorded_once_cancels_the_segment_and_gives_every_seat_back(
    rig: Rig, channel: str
) -> None:
    who = await rig.add_pax((channel,), pax=2)
    before = await rig.inventory()
    await rig.offered(who)
    assert (await rig.holds()) == {"held": 3}

    offered = await shown(rig, who, channel)
    await _refund_by(rig, who, channel)
    await rig.c.dispatcher.drain()

    conv = await rig.conversation(who)
    assert conv.status == Status.CLOSED and conv.choice == "refund"
    assert await rig.segments(who) == [(rig.disrupted.id, "HX")]
    after = await rig.inventory()
    assert before[rig.disrupted.id] == (2, 0)
    assert after[rig.disrupted.id] == (0, 0), "the cancelled segment's two seats are sold no more"
    for f in rig.alternatives:
        assert after[f.id] == (0, 0), "the offer's holds are released"
    assert await rig.holds() == {"released": 3}
    [request] = await refunds(rig)
    assert (request.booking_id, request.passengers, request.state) == (
        who.booking_id,
        2,
        "requested",
    )
    assert request.basis.startswith("Regulation (EC) No 261/2004"), request.basis
    assert "refund request for flight LH100 is recorded" in rig.last(channel, who).text
    assert "No money moves here" in rig.last(channel, who).text
    [event] = await events(rig, "refund.requested")
    assert event["booking_id"] == who.booking_id and event["channel"] == channel

    # The same answer again: acknowledged, nothing recorded or released twice.
    if channel == "sms":
        await rig.reply(channel, who, "4")
    else:
        await rig.reply(channel, who, token=tap(offered, "refund:"))
    await rig.c.dispatcher.drain()
    assert "already recorded" in rig.last(channel, who).text
    assert len(await refunds(rig)) == 1
    assert len(await events(rig, "refund.requested")) == 1
    assert await rig.inventory() == after


async def test_two_refund_answers_at_once_record_one_request_and_give_the_seats_back_once(
    rig: Rig,
) -> None:
    who = await rig.add_pax(("sms", "whatsapp"), pax=2)
    await rig.offered(who)
    offer = (await rig.conversation(who)).offer_id

    await asyncio.gather(
        rig.reply("sms", who, "4"), rig.reply("whatsapp", who, token=f"refund:{offer}")
    )
    await rig.c.dispatcher.drain()

    assert len(await refunds(rig)) == 1
    assert len(await events(rig, "refund.requested")) == 1
    inventory = await rig.inventory()
    assert inventory[rig.disrupted.id] == (0, 0), (
        "two seats given back once, never pushed below zero"
    )
    assert all(inventory[f.id] == (0, 0) for f in rig.alternatives)
    assert await rig.segments(who) == [(rig.disrupted.id, "HX")]
