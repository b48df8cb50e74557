"""A booking's cause in the flight's story (#16): its own wording, news only when its cause changes; agents,
bookings mid-confirmation and replies after a reinstatement are followed, not skipped."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from conversations.desk.models import QueueCard
from conversations.engine import AgentClaimed, BookingFailed, Status
from conversations.models import Conversation
from rebooking_core.flight_updates import UpdateKind
from rebooking_core.models import Inventory, Passenger
from tests.conversations.conftest import Pax, Rig
from tests.conversations.intake.test_story import _update, apply


async def _keys(rig: Rig, *people: Pax) -> list[list[str]]:
    """Outbox keys per passenger (none for a booking the story has not hit)."""
    async with rig.c.db.reading() as s:
        hit = set((await s.scalars(select(Conversation.booking_id))).all())
    return [[m.key for m in await rig.outbox(p)] if p.booking_id in hit else [] for p in people]


async def test_overflow_passengers_get_their_own_wording_and_a_delay_is_no_news_to_them(rig: Rig) -> None:
    gold, silver, none = [await rig.add_pax(("sms",)) for _ in range(3)]
    async with rig.c.db.transaction() as s:
        for who, tier in ((gold, 2), (silver, 1)):
            await s.execute(update(Passenger).where(Passenger.id == who.passenger_id).values(tier=tier))
    smaller = await apply(rig, _update(rig, UpdateKind.EQUIPMENT, capacity=(("Y", 2),)))
    assert smaller.created
    assert await _keys(rig, gold, silver, none) == [[], [], ["offer"]]
    assert "smaller aircraft" in rig.last("sms", none).text
    assert (await rig.conversation(none)).impact["cause"] == "overflow"
    # One hour late: under the threshold, nobody else is hit, and the overflow booking hears nothing new.
    rig.clock.advance(minutes=1)
    small = await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=rig.disrupted.dep_utc + dt.timedelta(hours=1)))
    assert (small.updated, small.added) == (0, 0)
    # Five hours late: the two still aboard are offered with the delay's wording; the overflow booking keeps its cause.
    rig.clock.advance(minutes=1)
    big = await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=rig.disrupted.dep_utc + dt.timedelta(hours=5)))
    assert (big.updated, big.added) == (0, 2)
    assert await _keys(rig, gold, silver, none) == [["offer"], ["offer"], ["offer"]]
    assert "is delayed to" in rig.last("sms", gold).text
    assert (await rig.conversation(gold)).impact["cause"] == "delayed"
    assert (await rig.conversation(none)).impact["cause"] == "overflow"
    # Cancelled: everyone's cause is now the cancellation, told once each.
    rig.clock.advance(minutes=1)
    gone = await apply(rig, _update(rig, UpdateKind.CANCELLATION))
    assert gone.updated == 3
    assert "now cancelled" in rig.last("sms", none).text


async def test_a_diversion_has_its_own_wording(rig: Rig) -> None:
    who = await rig.add_pax(("sms",))
    await apply(rig, _update(rig, UpdateKind.DIVERSION, diverted_to="VLC"))
    assert "diverted" in rig.last("sms", who).text and "cancelled" not in rig.last("sms", who).text
    assert (await rig.conversation(who)).impact["cause"] == "diverted"


async def test_an_agents_passenger_hears_no_bot_while_the_options_and_the_desk_follow(rig: Rig) -> None:
    held, waiting = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=rig.disrupted.dep_utc + dt.timedelta(hours=5)))
    await rig.reply("sms", held, "AGENT")
    conv = await rig.conversation(held)
    await rig.c.service.handle(conv.id, AgentClaimed("U-AGENT"))
    async with rig.c.db.transaction() as s:
        s.add(QueueCard(disruption_id=conv.disruption_id, route="C-DESK", ts="1.1", dirty=False, updates=1))
    before = await _keys(rig, held)
    rig.clock.advance(minutes=1)
    cancelled = await apply(rig, _update(rig, UpdateKind.CANCELLATION))
    assert cancelled.updated == 1  # the waiting passenger, once
    assert (await _keys(rig, waiting))[0][-1] == "offer_updated"
    after = await rig.conversation(held)
    assert after.status == Status.AGENT and after.impact["cause"] == "cancelled"
    assert after.offer_id is not None and after.offer_id != conv.offer_id  # the agent's options follow the story
    assert await _keys(rig, held) == before  # and the passenger hears only the agent
    async with rig.c.db.reading() as s:
        card = (await s.scalars(select(QueueCard))).one()
    assert card.dirty
    # Reinstated: the agent's passenger is left to the agent (marked lifted), the other is told and closed.
    rig.clock.advance(minutes=1)
    back = await apply(rig, _update(rig, UpdateKind.REINSTATEMENT))
    assert back.withdrawn == 1
    lifted = await rig.conversation(held)
    assert lifted.status == Status.AGENT and lifted.impact["lifted"] is True
    assert await _keys(rig, held) == before


async def test_a_booking_mid_confirmation_keeps_the_news_for_when_it_settles(rig: Rig) -> None:
    who = await rig.add_pax(("sms",))
    await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=rig.disrupted.dep_utc + dt.timedelta(hours=5)))
    conv = await rig.conversation(who)
    async with rig.c.db.transaction() as s:  # a booking in flight (a remote PSS answers later)
        await s.execute(update(Conversation).where(Conversation.id == conv.id).values(status=Status.CONFIRMING.value))
    rig.clock.advance(minutes=1)
    await apply(rig, _update(rig, UpdateKind.CANCELLATION))
    confirming = await rig.conversation(who)
    assert confirming.status == Status.CONFIRMING and confirming.impact["cause"] == "cancelled"
    assert [m.key for m in await rig.outbox(who)] == ["offer"]
    # The booking fails: the fresh offer is made on the cancellation, not on the old delay.
    await rig.c.service.handle(conv.id, BookingFailed("seat_gone"))
    await rig.c.dispatcher.drain()
    settled = await rig.conversation(who)
    assert settled.status == Status.OFFERED and settled.offer_id != conv.offer_id
    assert "expected_departure" not in settled.impact


async def test_a_reply_after_a_reinstatement_is_told_the_flight_is_kept(rig: Rig) -> None:
    who, other = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    async with rig.c.db.transaction() as s:
        await s.execute(update(Inventory).where(Inventory.flight_id != rig.disrupted.id).values(capacity=100))
    await apply(rig, _update(rig, UpdateKind.CANCELLATION))
    rig.clock.advance(minutes=1)
    await apply(rig, _update(rig, UpdateKind.REINSTATEMENT))
    assert [m.key for m in await rig.outbox(who)] == ["offer", "disruption_lifted"]
    await rig.reply("sms", who, "1")
    await rig.reply("sms", who, "is my flight really on?")
    await rig.c.dispatcher.drain()
    conv = await rig.conversation(who)
    assert conv.status == Status.CLOSED and conv.booked_option_id is None
    assert [m.key for m in await rig.outbox(who)] == ["offer", "disruption_lifted", "kept", "kept"]
    assert "you keep your booking" in rig.last("sms", who).text
    assert await rig.segments(who) == [(rig.disrupted.id, "HK")]
    assert all(held == 0 for _, held in (await rig.inventory()).values())
    # Only the sender's own conversation answers (a sender without a BSUID once matched every contact without one).
    assert [m.key for m in await rig.outbox(other)] == ["offer", "disruption_lifted"]
