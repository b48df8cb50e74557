"""Keep my flight on a delay, a later date of the passenger's choosing, and choices not offered: every channel, both databases."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from conversations.engine import Status
from rebooking_core.models import Claim, Offer, OfferOption
from tests.conversations.choices.helpers import (
    add_flight,
    answer,
    delayed,
    events,
    refunds,
    shown,
    tap,
)
from tests.conversations.conftest import Rig

CHANNELS = ["sms", "whatsapp", "telegram"]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_keep_my_flight_closes_releases_the_holds_and_keeps_the_delay_claim(
    rig: Rig, channel: str
) -> None:
    who = await rig.add_pax((channel,))
    await delayed(rig, who, hours=4)
    held = await rig.inventory()
    assert sum(h for _, h in held.values()) > 0, "the delay's offer holds seats"
    offer = await shown(rig, who, channel)
    options = len(await rig.options(who))
    assert (
        f"{options + 1}) Keep my flight" in rig.last("sms", who).text
        if channel == "sms"
        else tap(offer, "keep:")
    )
    assert not any(t.startswith("refund:") for t in offer.tokens), (
        "a 4 h delay gives no refund right under EU261"
    )

    await answer(rig, who, channel, offer, "keep:", options + 1)

    conv = await rig.conversation(who)
    assert (conv.status, conv.choice, conv.booked_option_id) == (Status.CLOSED, "keep", None)
    after = await rig.inventory()
    assert all(h == 0 for _, h in after.values()), "every hold of the offer is released"
    assert after[rig.disrupted.id] == held[rig.disrupted.id] == (1, 0), (
        "the booking keeps its seat on the delayed flight"
    )
    assert await rig.segments(who) == [(rig.disrupted.id, "HK")]
    assert "You keep your flight LH100, now leaving at" in rig.last(channel, who).text
    async with rig.c.db.reading() as s:
        [claim] = (await s.scalars(select(Claim).where(Claim.booking_id == who.booking_id))).all()
    assert claim.reason.startswith("delay"), claim.reason
    [chosen] = await events(rig, "option.chosen")
    assert (chosen["choice"], chosen["channel"]) == ("keep", channel)
    assert await refunds(rig) == []

    # Again: told once more, nothing changes.
    await answer(rig, who, channel, offer, "keep:", options + 1)
    assert "You are keeping flight LH100" in rig.last(channel, who).text
    assert await rig.inventory() == after


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_refund_without_a_right_and_with_policy_off_is_not_offered_and_a_refund_reply_is_told_so(
    rig: Rig, channel: str
) -> None:
    who = await rig.add_pax((channel,))
    await delayed(rig, who, hours=4)
    offer = await shown(rig, who, channel)
    assert not any(t.startswith("refund:") for t in offer.tokens)
    held = await rig.inventory()

    await rig.reply(channel, who, "refund")
    await rig.c.dispatcher.drain()

    assert "A refund is not one of your choices for flight LH100" in rig.last(channel, who).text
    assert (await rig.conversation(who)).status == Status.OFFERED
    assert await rig.inventory() == held
    assert await refunds(rig) == []


@pytest.mark.parametrize(
    "settings_overrides", [{"choices": {"enabled": True, "refund_by_policy": True}}]
)
async def test_airline_policy_offers_a_refund_where_no_regime_does(
    rig: Rig, settings_overrides: dict[str, Any]
) -> None:
    who = await rig.add_pax(("sms",))
    await delayed(rig, who, hours=4)
    options = len(await rig.options(who))
    assert f"{options + 1}) Refund instead" in rig.last("sms", who).text

    await rig.reply("sms", who, "R")
    await rig.c.dispatcher.drain()

    [request] = await refunds(rig)
    assert request.basis == "airline policy: refund on request"
    assert await rig.segments(who) == [(rig.disrupted.id, "HX")]


@pytest.mark.parametrize("settings_overrides", [{"choices": {"enabled": False}}])
async def test_choices_off_show_only_flights(rig: Rig, settings_overrides: dict[str, Any]) -> None:
    who = await rig.add_pax(("sms",))
    await rig.offered(who)
    text = rig.last("sms", who).text
    assert "Refund instead" not in text and "Another date" not in text


def _local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(ZoneInfo("Europe/Berlin")).date()


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_later_date_asks_for_a_day_and_offers_that_days_flights_held_like_any_offer(
    rig: Rig, channel: str
) -> None:
    who = await rig.add_pax((channel,))
    later = rig.disrupted.dep_utc + dt.timedelta(days=3)
    on_day = [
        await add_flight(rig, "120", later),
        await add_flight(rig, "122", later + dt.timedelta(hours=3)),
    ]
    await rig.offered(who)
    offer = await shown(rig, who, channel)
    first_offer = (await rig.conversation(who)).offer_id
    options = len(await rig.options(who))

    await answer(
        rig, who, channel, offer, "later:", options + 2
    )  # refund first, then the later date
    assert "Which day would you like to travel?" in rig.last(channel, who).text

    day = _local_day(later)
    await rig.reply(channel, who, day.isoformat())
    await rig.c.dispatcher.drain()

    conv = await rig.conversation(who)
    assert conv.status == Status.OFFERED and conv.offer_id != first_offer
    dated = await rig.options(who)
    assert {fid for o in dated for fid in o.flight_ids} <= {f.id for f in on_day}
    assert dated, "the day's flights are offered"
    inventory = await rig.inventory()
    assert all(inventory[f.id] == (0, 0) for f in rig.alternatives), (
        "the first offer's holds are released"
    )
    assert sum(inventory[f.id][1] for f in on_day) == len(dated), "the day's options are held"
    async with rig.c.db.reading() as s:
        assert (await s.get(Offer, first_offer)).status == "superseded"  # type: ignore[union-attr]
    assert (
        "on " in rig.last(channel, who).text and "seats held for you" in rig.last(channel, who).text
    )

    # Book one of them like any option.
    dated_offer = await shown(rig, who, channel)
    await answer(rig, who, channel, dated_offer, "opt:", 1)
    conv = await rig.conversation(who)
    assert conv.status == Status.BOOKED
    async with rig.c.db.reading() as s:
        booked = await s.get(OfferOption, conv.booked_option_id)
    assert booked is not None and set(booked.flight_ids) <= {f.id for f in on_day}


@pytest.mark.parametrize("channel", ["sms", "telegram"])
async def test_a_date_in_the_past_or_beyond_the_range_gets_a_clear_answer(
    rig: Rig, channel: str
) -> None:
    who = await rig.add_pax((channel,))
    await rig.offered(who)
    offer_id = (await rig.conversation(who)).offer_id
    held = await rig.inventory()
    for text in (
        (rig.clock() - dt.timedelta(days=3)).date().isoformat(),
        (rig.clock() + dt.timedelta(days=40)).date().isoformat(),
    ):
        await rig.reply(channel, who, text)
        await rig.c.dispatcher.drain()
        assert "We can search from" in rig.last(channel, who).text
    conv = await rig.conversation(who)
    assert (conv.status, conv.offer_id) == (Status.OFFERED, offer_id)
    assert await rig.inventory() == held
