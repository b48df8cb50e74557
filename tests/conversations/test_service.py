"""ConversationService on both databases: fan-out holds seats and queues one offer each, timers, replays."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select, update

from conversations.engine import AgentSentVoucher, OptionChosen, Status, TimerKind
from conversations.impact_json import impact_from_json, impact_to_json
from conversations.models import Conversation, OutboxMessage
from conversations.timers import fire_due_timers
from rebooking_core.impact import ImpactedBooking
from rebooking_core.models import Flight, Offer, SeatHold, Segment
from rebooking_core.types import DisruptionKind
from tests.conversations.conftest import Rig


def _by_id(rig: Rig) -> dict[int, Flight]:
    return {f.id: f for f in [rig.disrupted, *rig.alternatives]}


async def test_disruption_creates_one_pending_conversation_per_booking(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    b = await rig.add_pax(("whatsapp", "sms"), pax=2)
    ids = await rig.disrupt()
    assert len(ids) == 2
    async with rig.c.db.reading() as s:
        convs = list((await s.scalars(select(Conversation).order_by(Conversation.id))).all())
    assert {(c.booking_id, c.passenger_id, c.passengers, c.status) for c in convs} == {
        (a.booking_id, a.passenger_id, 1, Status.PENDING),
        (b.booking_id, b.passenger_id, 2, Status.PENDING),
    }
    assert all(c.flight_id == rig.disrupted.id for c in convs)
    assert await rig.count(OutboxMessage) == 0


async def test_offer_batch_holds_seats_and_queues_exactly_one_offer_each(rig: Rig) -> None:
    solo = await rig.add_pax(("sms",))
    pair = await rig.add_pax(("whatsapp", "sms"), pax=2)
    before = await rig.inventory()
    ids = await rig.disrupt()

    assert await rig.c.service.offer_batch(ids) == 2

    for who, seats in ((solo, 1), (pair, 2)):
        conv = await rig.conversation(who)
        assert conv.status == Status.OFFERED
        assert conv.offer_id is not None
        assert conv.timer_kind == TimerKind.REMINDER
        assert conv.timer_at == rig.clock() + dt.timedelta(minutes=10)
        assert [(m.key, m.status, m.offer_id) for m in await rig.outbox(who)] == [("offer", "pending", conv.offer_id)]
        options = await rig.options(who)
        assert [o.rank for o in options] == [1, 2, 3]
        assert {fid for o in options for fid in o.flight_ids} == {f.id for f in rig.alternatives}
        async with rig.c.db.reading() as s:
            offer = await s.get(Offer, conv.offer_id)
            assert offer is not None and offer.seats == seats and offer.status == "open"
    after = await rig.inventory()
    for f in rig.alternatives:
        assert after[f.id] == (before[f.id][0], 3), "each booking holds its seats on every option"
    assert after[rig.disrupted.id] == before[rig.disrupted.id]
    assert await rig.holds() == {"held": 6}


async def test_offer_batch_again_queues_nothing_new(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    assert await rig.c.service.offer_batch(ids) == 1
    conv = await rig.conversation(a)
    inventory = await rig.inventory()
    outbox, offers = await rig.count(OutboxMessage), await rig.count(Offer)

    assert await rig.c.service.offer_batch(ids) == 0

    assert (await rig.conversation(a)).offer_id == conv.offer_id
    assert await rig.count(OutboxMessage) == outbox == 1
    assert await rig.count(Offer) == offers == 1
    assert await rig.inventory() == inventory


async def test_dispatcher_sends_a_template_first_on_whatsapp_and_a_numbered_menu_on_sms(rig: Rig) -> None:
    wa = await rig.add_pax(("whatsapp", "sms"))
    sms = await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    await rig.c.service.offer_batch(ids)

    assert await rig.c.dispatcher.drain() == 2

    wa_conv = await rig.conversation(wa)
    [template] = rig.inbox("whatsapp", wa)
    assert template.kind == "template", "the 24 h window is closed before the passenger ever wrote"
    assert template.tokens == (f"more:{wa_conv.offer_id}",)
    assert rig.inbox("sms", wa) == []

    [menu] = rig.inbox("sms", sms)
    assert menu.kind == "text"
    # Three flights, then the refund and another date a cancellation gives (numbered on).
    assert menu.own == ("4", "5")
    assert menu.tokens == ("1", "2", "3", "4", "5")
    flights = _by_id(rig)
    lines = menu.text.splitlines()
    for option in await rig.options(sms):
        code = "+".join(f"LH{flights[fid].number}" for fid in option.flight_ids)
        line = next(x for x in lines if x.startswith(f"{option.rank}) "))
        assert code in line
    assert any(x.startswith("4) Refund instead") for x in lines) and any(x.startswith("5) Another date") for x in lines)

    for who, channel in ((wa, "whatsapp"), (sms, "sms")):
        [row] = await rig.outbox(who)
        assert (row.status, row.channel, row.attempts) == ("sent", channel, 1)
        [delivery] = await rig.deliveries(who)
        assert (delivery.channel, delivery.status, delivery.provider) == (channel, "sent", "sandbox")
        conv = await rig.conversation(who)
        assert conv.channel == channel
        assert conv.first_sent_at == rig.clock()

    assert await rig.c.dispatcher.drain() == 0
    assert len(rig.sandbox.messages) == 2


async def test_reminder_then_deadline_escalation(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    offered_at = rig.clock()
    fire = rig.c.service

    rig.clock.advance(minutes=9)
    assert await fire_due_timers(rig.c.db, fire, clock=rig.clock) == 0

    rig.clock.advance(minutes=2)
    assert await fire_due_timers(rig.c.db, fire, clock=rig.clock) == 1
    conv = await rig.conversation(a)
    assert (conv.status, conv.reminders_sent, conv.timer_kind) == (Status.OFFERED, 1, TimerKind.DEADLINE)
    assert conv.timer_at == offered_at + dt.timedelta(minutes=25)
    await rig.c.dispatcher.drain()
    reminder = rig.last("sms", a)
    # Three flights, then the refund and another date a cancellation gives (numbered on).
    assert reminder.own == ("4", "5")
    assert reminder.tokens == ("1", "2", "3", "4", "5"), "a reminder repeats the options"
    assert await fire_due_timers(rig.c.db, fire, clock=rig.clock) == 0

    rig.clock.advance(minutes=15)
    assert await fire_due_timers(rig.c.db, fire, clock=rig.clock) == 1
    conv = await rig.conversation(a)
    assert conv.status == Status.ESCALATED
    assert conv.timer_at is None
    assert [e.reason for e in await rig.escalations(a)] == ["deadline"]
    assert [m.key for m in await rig.outbox(a)] == ["offer", "reminder", "escalated_deadline"]
    await rig.c.dispatcher.drain()
    assert len(rig.inbox("sms", a)) == 3

    rig.clock.advance(hours=1)
    assert await fire_due_timers(rig.c.db, fire, clock=rig.clock) == 0


@pytest.mark.parametrize("settings_overrides", [{"on_deadline": "protect"}])
async def test_deadline_protects_on_the_best_option_when_configured(rig: Rig, settings_overrides: dict[str, Any]) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    best = (await rig.options(a))[0]

    rig.clock.advance(minutes=11)
    await fire_due_timers(rig.c.db, rig.c.service, clock=rig.clock)
    rig.clock.advance(minutes=15)
    assert await fire_due_timers(rig.c.db, rig.c.service, clock=rig.clock) == 1

    conv = await rig.conversation(a)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, best.id)
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), *[(fid, "HK") for fid in best.flight_ids]]
    assert await rig.escalations(a) == []
    assert [m.key for m in await rig.outbox(a)] == ["offer", "reminder", "booked"]


async def test_choice_through_handle_with_a_dedupe_key_applies_once(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    conv = await rig.conversation(a)
    option = (await rig.options(a))[1]
    event = OptionChosen(conv.offer_id or 0, option.id, "sms")

    first = await rig.c.service.handle(conv.id, event, dedupe=("sandbox", "evt-1"))
    second = await rig.c.service.handle(conv.id, event, dedupe=("sandbox", "evt-1"))

    assert [d.status for d in first] == [Status.CONFIRMING, Status.BOOKED]
    assert second == []
    assert [m.key for m in await rig.outbox(a)] == ["offer", "booked"]
    async with rig.c.db.reading() as s:
        statuses = list((await s.scalars(select(SeatHold.status).order_by(SeatHold.id))).all())
    assert sorted(statuses) == ["committed", "released", "released"]


async def test_an_agent_act_is_sent_once_under_its_own_key_with_its_params(rig: Rig) -> None:
    """A voucher given twice under one key (a redelivered click) is one message, as the desk wrote it before #22."""
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    conv = await rig.conversation(a)
    voucher = AgentSentVoucher("U1", 100, "EUR", "e9-voucher")

    first = await rig.c.service.handle(conv.id, voucher)
    await rig.c.service.handle(conv.id, voucher)

    assert [d.status for d in first] == [Status.OFFERED]
    [offer, sent] = await rig.outbox(a)
    assert (offer.key, sent.key, sent.idempotency_key, sent.params) == (
        "offer", "agent_voucher", "e9-voucher", {"amount": 100, "currency": "EUR"}
    )
    assert sent.priority == 0 and sent.offer_id == conv.offer_id


def test_an_impact_survives_its_json_column_unchanged() -> None:
    """The fan-out rebuilds each booking's impact from the conversation row: every field must come back as it went in."""
    at = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    impacted = ImpactedBooking(
        booking_id=7, locator="ABC123", passengers=2, contact_passenger_id=11, tier=3, language="de", has_ssr=True,
        group=False, cabin="J", rebook_from="FRA", destination="JFK", not_before=at, original_arrival=at + dt.timedelta(hours=9),
        replaced_segment_ids=(4, 5), missed_connection=True, disrupted_flight_id=99, reason="WX", disruption_id=3,
        kind=DisruptionKind.DELAYED, journey_origin="MUC", original_departure=at - dt.timedelta(hours=1), replaced_flight_ids=(99, 100),
    )
    back = impact_from_json(json.loads(json.dumps(impact_to_json(impacted))))
    assert back == impacted
    assert isinstance(back.replaced_segment_ids, tuple) and isinstance(back.original_departure, dt.datetime)
    unset = dataclasses.replace(impacted, original_departure=None, replaced_flight_ids=())
    assert impact_from_json(json.loads(json.dumps(impact_to_json(unset)))) == unset


async def test_a_choice_on_a_booking_changed_elsewhere_closes_the_conversation_once_instead_of_offering_again(rig: Rig) -> None:
    """Another disruption's rebooking (or an agent, or the PSS) took the disrupted flight off the booking: a choice
    finds nothing to replace. The passenger is told once and the conversation closes; before, every choice failed
    and was answered with a fresh offer, forever."""
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    async with rig.c.db.transaction() as s:
        await s.execute(update(Segment).where(Segment.booking_id == a.booking_id).values(status="HX"))

    await rig.reply("sms", a, "1")
    await rig.reply("sms", a, "1")

    conv = await rig.conversation(a)
    assert conv.status == Status.CLOSED.value
    assert [m.key for m in await rig.outbox(a)] == ["offer", "booking_changed"]
    assert "held" not in await rig.holds()
    async with rig.c.db.reading() as s:
        assert (await s.scalars(select(Offer.status))).all() == ["superseded"]
