"""Change after booking: the earlier seat released and the new one sold in one transaction, until the cut-off."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from conversations.engine import Status
from conversations.intake.fanout import FanOut
from conversations.models import Conversation
from rebooking_core.models import Inventory, Offer
from tests.conversations.conftest import Pax, Rig


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"first_contact": "protect"}


async def _protected(rig: Rig, n: int = 1, channels: tuple[str, ...] = ("sms",)) -> list[Pax]:
    """Passengers on the cancelled flight, protected by the fan-out and told so."""
    people = [await rig.add_pax(channels) for _ in range(n)]
    ids = await rig.disrupt()
    async with rig.c.db.reading() as s:
        disruption_id = int((await s.scalars(select(Conversation.disruption_id))).first() or 0)
    assert await FanOut(rig.c.service).offer_batch(disruption_id, ids) == n
    await rig.c.dispatcher.drain()
    return people


async def test_choosing_another_option_moves_the_seat_atomically(rig: Rig) -> None:
    [who] = await _protected(rig)
    conv = await rig.conversation(who)
    options = await rig.options(who)
    assert conv.status == Status.BOOKED and conv.booked_option_id == options[0].id
    [first, second] = [o.flight_ids[0] for o in options[:2]]
    before = await rig.inventory()
    assert before[first] == (1, 0) and before[second] == (0, 0), (
        "protected on the best, the others' holds gone"
    )

    await rig.reply("sms", who, "2")
    await rig.c.dispatcher.drain()

    conv = await rig.conversation(who)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, options[1].id)
    after = await rig.inventory()
    assert after[first] == (0, 0) and after[second] == (1, 0)
    assert sum(s for s, _ in after.values()) == sum(s for s, _ in before.values()), (
        "one seat given back, one taken"
    )
    assert await rig.segments(who) == [(rig.disrupted.id, "HX"), (first, "HX"), (second, "HK")]
    assert [m.key for m in await rig.outbox(who)] == ["protected", "booked"]
    assert "LH" in rig.last("sms", who).text and who.locator in rig.last("sms", who).text
    async with rig.c.db.reading() as s:
        offer = await s.get(Offer, conv.offer_id)
    assert offer is not None and offer.accepted_option_id == options[1].id


async def test_a_seat_gone_meanwhile_keeps_the_booking_and_offers_fresh_options(rig: Rig) -> None:
    [who] = await _protected(rig)
    options = await rig.options(who)
    first, second = options[0].flight_ids[0], options[1].flight_ids[0]
    async with rig.c.db.transaction() as s:
        await s.execute(
            update(Inventory).where(Inventory.flight_id == second).values(sold=Inventory.capacity)
        )
    before = await rig.inventory()

    await rig.reply("sms", who, "2")

    conv = await rig.conversation(who)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, options[0].id), (
        "the protection stands"
    )
    assert await rig.segments(who) == [(rig.disrupted.id, "HX"), (first, "HK")]
    after = await rig.inventory()
    assert after[first][0] == before[first][0] and after[second] == before[second], (
        "nothing sold twice, nothing lost"
    )
    assert [m.key for m in await rig.outbox(who)] == ["protected", "offer_seat_gone"]
    fresh = await rig.options(who)
    assert conv.offer_id != options[0].offer_id and second not in {
        f for o in fresh for f in o.flight_ids
    }
    held = sum(h for _, h in after.values())
    assert held == sum(len(o.flight_ids) for o in fresh), "the fresh options are held"

    # The best fresh option: its hold is committed, the earlier seat given back.
    await rig.reply("sms", who, "1")
    conv = await rig.conversation(who)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, fresh[0].id)
    final = await rig.inventory()
    assert sum(h for _, h in final.values()) == 0
    assert final[first] == (before[first][0] - 1, 0)
    assert [st for _, st in await rig.segments(who)].count("HK") == len(fresh[0].flight_ids)


async def test_past_the_cut_off_the_booking_stands_and_the_passenger_is_told(rig: Rig) -> None:
    [who] = await _protected(rig)
    options = await rig.options(who)
    before = (await rig.inventory(), await rig.segments(who))
    # The protection (LH102) leaves 8 h after the start: 1 h left, under the 2 h cut-off.
    rig.clock.advance(hours=7)

    await rig.reply("sms", who, "2")
    await rig.c.dispatcher.drain()

    conv = await rig.conversation(who)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, options[0].id)
    assert (await rig.inventory(), await rig.segments(who)) == before
    assert [m.key for m in await rig.outbox(who)] == ["protected", "change_closed"]
    assert "too close to departure" in rig.last("sms", who).text


@pytest.mark.parametrize("settings_overrides", [{}])
async def test_after_choosing_themselves_a_passenger_changes_through_fresh_options(
    rig: Rig,
) -> None:
    """A second answer to the offer they chose from is acknowledged; MORE gives fresh options, and one of them is a change."""
    who = await rig.add_pax(("sms",))
    await rig.offered(who)
    options = await rig.options(who)
    await rig.reply("sms", who, "1")
    await rig.reply("sms", who, "2")
    conv = await rig.conversation(who)
    assert conv.booked_option_id == options[0].id
    assert [m.key for m in await rig.outbox(who)] == ["offer", "booked", "already_booked"]

    await rig.reply("sms", who, "MORE")
    fresh = await rig.options(who)
    target = next(o for o in fresh if o.flight_ids != options[0].flight_ids)
    await rig.reply("sms", who, str(target.rank))

    conv = await rig.conversation(who)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, target.id)
    inventory = await rig.inventory()
    assert inventory[options[0].flight_ids[0]] == (0, 0)
    assert inventory[target.flight_ids[0]] == (1, 0)
    assert sum(h for _, h in inventory.values()) == 0
    assert [m.key for m in await rig.outbox(who)][-2:] == ["offer_refreshed", "booked"]


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "email", "telegram", "push"])
async def test_the_protection_is_told_on_every_channel_with_the_other_options(
    rig: Rig, channel: str
) -> None:
    [who] = await _protected(rig, channels=(channel,))
    booked, other = (await rig.options(who))[:2]
    [message] = rig.inbox(channel, who)
    # WhatsApp outside its 24 h window sends the approved template, whose button asks for the options.
    if message.kind == "template":
        assert message.tokens == (f"more:{booked.offer_id}",)
        return
    assert who.locator in message.text and "LH102" in message.text
    tokens = set(message.tokens)
    assert f"opt:{other.offer_id}:{other.id}" in tokens or str(other.rank) in tokens, tokens
    assert f"opt:{booked.offer_id}:{booked.id}" not in tokens and "1" not in tokens, (
        "the booked option is not offered again"
    )
