"""A later date with nothing on it: "nothing on <day>", the options offered again, try another day; a person after a few."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from conversations.engine import Status
from locales.formatting import format_date
from tests.conversations.choices.helpers import add_flight, shown
from tests.conversations.conftest import Rig

BERLIN = ZoneInfo("Europe/Berlin")


def _local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(BERLIN).date()


def _written(day: dt.date) -> str:
    return format_date(dt.datetime.combine(day, dt.time(12), dt.UTC), "Europe/Berlin", "en")


@pytest.mark.parametrize("channel", ["sms", "telegram"])
async def test_a_day_with_no_flights_is_said_and_the_passenger_may_name_another(rig: Rig, channel: str) -> None:
    who = await rig.add_pax((channel,))
    on_day = await add_flight(rig, "120", rig.disrupted.dep_utc + dt.timedelta(days=3))
    await rig.offered(who)
    first_offer = (await rig.conversation(who)).offer_id
    empty = _local_day(rig.disrupted.dep_utc + dt.timedelta(days=2))

    await rig.reply(channel, who, "later")
    await rig.c.dispatcher.drain()
    await rig.reply(channel, who, empty.isoformat())
    await rig.c.dispatcher.drain()

    told = rig.last(channel, who)
    assert f"No flight to Madrid leaves on {_written(empty)}" in told.text, told.text
    assert "Reply with another day" in told.text
    conv = await rig.conversation(who)
    assert conv.status == Status.OFFERED and conv.offer_id not in (None, first_offer)
    assert await rig.escalations(who) == []
    again = await rig.options(who)
    assert again and {f for o in again for f in o.flight_ids} <= {f.id for f in rig.alternatives}
    inventory = await rig.inventory()
    assert sum(inventory[f.id][1] for f in rig.alternatives) == len(again), "the options offered again are held"
    offer = await shown(rig, who, channel)
    if channel == "sms":
        assert f"{len(again) + 1}) Refund instead" in offer.text
    else:
        assert any(t.startswith("refund:") for t in offer.tokens) and any(t.startswith("later:") for t in offer.tokens)

    # Another day, with a flight on it: searched as any later date.
    await rig.reply(channel, who, _local_day(on_day.dep_utc).isoformat())
    await rig.c.dispatcher.drain()
    dated = await rig.options(who)
    assert dated and all(o.flight_ids == [on_day.id] for o in dated)
    assert "seats held for you" in rig.last(channel, who).text
    assert (await rig.conversation(who)).status == Status.OFFERED


async def test_after_three_empty_days_a_person_takes_over(rig: Rig) -> None:
    who = await rig.add_pax(("sms",))
    await rig.offered(who)
    days = [_local_day(rig.disrupted.dep_utc + dt.timedelta(days=n)) for n in (2, 3, 4)]
    await rig.reply("sms", who, "later")
    await rig.c.dispatcher.drain()

    for day in days[:2]:
        await rig.reply("sms", who, day.isoformat())
        await rig.c.dispatcher.drain()
        assert f"leaves on {_written(day)}" in rig.last("sms", who).text
        assert (await rig.conversation(who)).status == Status.OFFERED

    await rig.reply("sms", who, days[2].isoformat())
    await rig.c.dispatcher.drain()

    conv = await rig.conversation(who)
    assert conv.status == Status.ESCALATED and conv.offer_id is None
    assert [e.reason for e in await rig.escalations(who)] == ["no_options"]
    assert "An agent will contact you" in rig.last("sms", who).text
    inventory = await rig.inventory()
    assert all(inventory[f.id][1] == 0 for f in rig.alternatives), "nothing stays held for a passenger a person now helps"
