"""Replies on both databases: SMS digits, WhatsApp taps, keywords, stale offers, retried webhooks."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from conversations.engine import Status
from conversations.models import InboundMessage, OutboxMessage, ProcessedEvent
from rebooking_core.models import Offer, Segment
from tests.conversations.conftest import Rig


async def test_sms_2_books_option_2(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    before = await rig.inventory()
    second = (await rig.options(a))[1]
    [new_flight] = second.flight_ids

    await rig.reply("sms", a, "2")

    conv = await rig.conversation(a)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, second.id)
    assert conv.timer_at is None
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (new_flight, "HK")]
    after = await rig.inventory()
    assert after[new_flight] == (before[new_flight][0] + 1, before[new_flight][1] - 1)
    for f in rig.alternatives:
        if f.id != new_flight:
            assert after[f.id] == (before[f.id][0], before[f.id][1] - 1), "the other holds are released"
    assert after[rig.disrupted.id] == (before[rig.disrupted.id][0] - 1, 0)
    assert await rig.holds() == {"committed": 1, "released": 2}

    await rig.c.dispatcher.drain()
    confirmation = rig.last("sms", a)
    assert a.locator in confirmation.text
    assert f"LH{next(f.number for f in rig.alternatives if f.id == new_flight)}" in confirmation.text


async def test_the_same_inbound_event_twice_changes_nothing(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    event = rig.sandbox.reply("sms", a.phone, "2")

    await rig.c.inbound.accept([event])
    state = (await rig.inventory(), await rig.segments(a))
    await rig.c.inbound.accept([event])

    assert [m.key for m in await rig.outbox(a)] == ["offer", "booked"], "a retried webhook is not a second answer"
    assert (await rig.inventory(), await rig.segments(a)) == state
    assert await rig.count(InboundMessage) == 1
    async with rig.c.db.reading() as s:
        seen = (await s.scalars(select(ProcessedEvent.event_id).where(ProcessedEvent.provider == "sandbox"))).all()
    assert list(seen) == [event.event_id]


async def test_whatsapp_see_options_then_tap_books_and_a_second_tap_is_acknowledged(rig: Rig) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    await rig.offered(a)
    [template] = rig.inbox("whatsapp", a)
    assert template.kind == "template"

    await rig.reply("whatsapp", a, token=template.tokens[0])
    conv = await rig.conversation(a)
    assert conv.status == Status.OFFERED
    assert "whatsapp" in conv.window_open_until
    await rig.c.dispatcher.drain()
    interactive = rig.last("whatsapp", a)
    # The window is open (the passenger wrote): the three flights, then a refund and another date (owed on a
    # cancellation) make five entries, so a list rather than three reply buttons.
    assert interactive.kind == "list", "the passenger wrote, so the window is open"
    options = await rig.options(a)
    assert interactive.tokens == tuple(f"opt:{conv.offer_id}:{o.id}" for o in options) + interactive.own
    assert [t.split(":")[0] for t in interactive.own] == ["refund", "later"]

    await rig.reply("whatsapp", a, token=interactive.tokens[0])
    await rig.c.dispatcher.drain()
    conv = await rig.conversation(a)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, options[0].id)
    booked = rig.last("whatsapp", a)
    assert booked.kind == "text" and a.locator in booked.text
    state = (await rig.inventory(), await rig.segments(a), await rig.holds())

    await rig.reply("whatsapp", a, token=interactive.tokens[1])
    await rig.c.dispatcher.drain()

    conv = await rig.conversation(a)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, options[0].id)
    assert (await rig.inventory(), await rig.segments(a), await rig.holds()) == state
    assert [m.key for m in await rig.outbox(a)] == ["offer", "offer", "booked", "already_booked"]
    again = rig.last("whatsapp", a)
    assert again.idempotency_key != booked.idempotency_key
    assert a.locator in again.text
    assert rig.inbox("sms", a) == []


async def test_a_choice_after_the_offer_expired_gets_a_fresh_offer(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    old = await rig.conversation(a)
    held = await rig.inventory()

    rig.clock.advance(minutes=41)
    await rig.reply("sms", a, "1")

    conv = await rig.conversation(a)
    assert conv.status == Status.OFFERED
    assert conv.booked_option_id is None
    assert conv.offer_id not in (None, old.offer_id)
    async with rig.c.db.reading() as s:
        previous = await s.get(Offer, old.offer_id)
        assert previous is not None and previous.status == "superseded"
        hx = (await s.scalars(select(Segment).where(Segment.status == "HX"))).all()
    assert list(hx) == []
    assert await rig.inventory() == held, "old holds released, the same seats held again for the new offer"
    assert [m.key for m in await rig.outbox(a)] == ["offer", "offer_refreshed"]
    await rig.c.dispatcher.drain()
    # Three flights, then the refund and another date a cancellation gives (numbered on).
    fresh = rig.last("sms", a)
    assert (fresh.tokens, fresh.own) == (("1", "2", "3", "4", "5"), ("4", "5"))


async def test_a_tap_on_a_superseded_offer_gets_a_fresh_offer(rig: Rig) -> None:
    a = await rig.add_pax(("whatsapp",))
    await rig.offered(a)
    old = await rig.conversation(a)
    stale_token = f"opt:{old.offer_id}:{(await rig.options(a))[0].id}"
    rig.clock.advance(minutes=41)
    await rig.reply("whatsapp", a, "1")
    refreshed = await rig.conversation(a)
    assert refreshed.offer_id != old.offer_id

    await rig.reply("whatsapp", a, token=stale_token)

    conv = await rig.conversation(a)
    assert conv.status == Status.OFFERED and conv.booked_option_id is None
    assert conv.offer_id not in (old.offer_id, refreshed.offer_id)
    assert await rig.holds() == {"released": 6, "held": 3}


async def test_agent_keyword_escalates(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)

    await rig.reply("sms", a, "agent")

    conv = await rig.conversation(a)
    assert (conv.status, conv.escalation_reason, conv.timer_at) == (Status.ESCALATED, "passenger_request", None)
    [escalation] = await rig.escalations(a)
    assert (escalation.reason, escalation.status, escalation.disruption_id) == ("passenger_request", "open", conv.disruption_id)
    await rig.c.dispatcher.drain()
    assert [m.key for m in await rig.outbox(a)] == ["offer", "escalated_agent"]
    assert len(rig.inbox("sms", a)) == 2


async def test_stop_opts_out_and_nothing_more_goes_to_that_channel(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    sent = len(rig.inbox("sms", a))

    await rig.reply("sms", a, "STOP")

    conv = await rig.conversation(a)
    assert (conv.status, conv.timer_at) == (Status.OPTED_OUT, None)
    assert await rig.consent(a, "sms") == "withdrawn"
    await rig.c.dispatcher.drain()
    # The opt-out is confirmed once on the channel it came from (carrier rules), then silence.
    assert len(rig.inbox("sms", a)) == sent + 1
    assert (await rig.outbox(a))[-1].key == "stop_ack"
    sent += 1

    before = await rig.inventory()
    await rig.reply("sms", a, "2")
    await rig.reply("sms", a, "hello?")
    await rig.c.dispatcher.drain()
    assert (await rig.conversation(a)).status == Status.OPTED_OUT
    assert await rig.inventory() == before
    assert len(rig.inbox("sms", a)) == sent
    async with rig.c.db.reading() as s:
        delivered = (
            await s.scalars(select(OutboxMessage.key).where(OutboxMessage.status == "sent", OutboxMessage.channel == "sms"))
        ).all()
    assert list(delivered) == ["offer", "stop_ack"]


async def test_stop_without_an_open_conversation_still_withdraws_consent(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))

    await rig.reply("sms", a, "stop")

    assert await rig.consent(a, "sms") == "withdrawn"
    async with rig.c.db.reading() as s:
        [label] = (await s.scalars(select(InboundMessage.interpreted_as))).all()
    assert label == "keyword:stop"


async def test_free_text_gets_a_hint_not_a_booking(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)

    await rig.reply("sms", a, "which one is faster?")
    await rig.reply("sms", a, "9")

    conv = await rig.conversation(a)
    assert conv.status == Status.OFFERED
    assert [m.key for m in await rig.outbox(a)] == ["offer", "not_understood", "not_understood"]


async def test_start_after_stop_grants_consent_and_sends_a_fresh_offer(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    old = await rig.conversation(a)
    await rig.reply("sms", a, "STOP")
    await rig.c.dispatcher.drain()
    sent = len(rig.inbox("sms", a))

    await rig.reply("sms", a, "START")
    await rig.c.dispatcher.drain()

    conv = await rig.conversation(a)
    assert conv.status == Status.OFFERED
    assert conv.offer_id != old.offer_id
    assert conv.timer_at is not None
    assert await rig.consent(a, "sms") == "granted"
    assert [m.tokens for m in rig.inbox("sms", a)[sent:]] == [(), ("1", "2", "3", "4", "5")]
    assert await rig.holds() == {"released": 3, "held": 3}


async def test_two_answers_racing_on_two_channels_book_once(rig: Rig) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    await rig.offered(a)
    conv = await rig.conversation(a)
    first, second = (await rig.options(a))[:2]
    before = await rig.inventory()

    await asyncio.gather(
        rig.reply("whatsapp", a, token=f"opt:{conv.offer_id}:{first.id}"),
        rig.reply("sms", a, "2"),
    )

    conv = await rig.conversation(a)
    assert conv.status == Status.BOOKED
    assert conv.booked_option_id in (first.id, second.id)
    [winner] = [o for o in (first, second) if o.id == conv.booked_option_id]
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), *[(f, "HK") for f in winner.flight_ids]]
    after = await rig.inventory()
    assert sum(s for s, _ in after.values()) == sum(s for s, _ in before.values()), "one seat given up, one taken"
    assert all(held == 0 for _, held in after.values())
    assert sorted(m.key for m in await rig.outbox(a)) == ["already_booked", "booked", "offer"]
