"""One flight's story, 150 passengers: delay → bigger delay → cancel → reinstate, on both databases.

After every step: each booking has exactly one live conversation, no superseded offer keeps seats
held, sold + held never exceeds capacity, each passenger got one message per change that mattered
to them, and a reply reaches the live conversation and books.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from sqlalchemy import func, select, update

from conversations.engine import Status
from conversations.intake.story import Applied, Outcome, apply_update
from conversations.models import Conversation, OutboxMessage
from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind
from rebooking_core.models import Disruption, Inventory, Offer, OfferOption, SeatHold
from tests.conversations import conftest as rigs
from tests.conversations.conftest import Pax, Rig

#: The conversations rig (the gateway on the sandbox channels, on both databases), as fixtures here.
clock, settings_overrides, rig = rigs.clock, rigs.settings_overrides, rigs.rig

PASSENGERS = 150
#: Bookings that answer "1" after each of the first three steps.
REPLIES = 10


class Story:
    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.n = 0

    async def tell(self, kind: UpdateKind, **fields: object) -> Applied:
        self.n += 1
        self.rig.clock.advance(minutes=1)
        f = self.rig.disrupted
        applied = await apply_update(
            self.rig.c.service,
            FlightUpdate(
                source="mvt",
                message_id=f"story-{self.n}",
                flight=FlightRef(f.carrier, f.number, f.service_date),
                kind=kind,
                issued_at=self.rig.clock(),
                **fields,  # type: ignore[arg-type]
            ),
        )
        if applied.needs_fanout and applied.disruption_id is not None:
            await self.rig.c.jobs.disruption_recorded(applied.disruption_id)
            await self.rig.c.jobs.wait_idle()
        await self.rig.c.dispatcher.drain()
        return applied


async def _messages(rig: Rig) -> dict[int, list[str]]:
    """Outbox keys per booking, in order."""
    async with rig.c.db.reading() as s:
        rows = await s.execute(
            select(Conversation.booking_id, OutboxMessage.key)
            .join(OutboxMessage, OutboxMessage.conversation_id == Conversation.id)
            .order_by(OutboxMessage.id)
        )
        out: dict[int, list[str]] = defaultdict(list)
        for booking_id, key in rows:
            out[int(booking_id)].append(str(key))
        return out


async def _invariants(rig: Rig) -> dict[int, Conversation]:
    """The four invariants of the issue; returns each booking's one conversation."""
    async with rig.c.db.reading() as s:
        convs = list((await s.scalars(select(Conversation))).all())
        per_booking = Counter(c.booking_id for c in convs)
        assert max(per_booking.values()) == 1, "a booking has two conversations"
        assert await s.scalar(select(func.count()).select_from(Disruption)) == 1
        # No offer but the conversation's current one is open, and only open offers hold seats.
        open_offers = set((await s.scalars(select(Offer.id).where(Offer.status == "open"))).all())
        current = {c.offer_id for c in convs if c.status in (Status.OFFERED, Status.ESCALATED)}
        assert open_offers <= current
        held_by_closed = await s.scalar(
            select(func.count())
            .select_from(SeatHold)
            .join(OfferOption, OfferOption.id == SeatHold.option_id)
            .join(Offer, Offer.id == OfferOption.offer_id)
            .where(SeatHold.status == "held", Offer.status != "open")
        )
        assert held_by_closed == 0, "a superseded offer still holds seats"
        held = dict(
            (await s.execute(select(SeatHold.flight_id, func.sum(SeatHold.seats)).where(SeatHold.status == "held").group_by(SeatHold.flight_id))).all()
        )
        for inv in (await s.scalars(select(Inventory))).all():
            assert inv.sold + inv.held <= inv.capacity
            assert inv.held == int(held.get(inv.flight_id, 0) or 0), "held counter and hold rows disagree"
    return {c.booking_id: c for c in convs}


async def _answer(rig: Rig, people: list[Pax], convs: dict[int, Conversation]) -> list[Pax]:
    """The first REPLIES passengers still offered answer "1": each lands on the live conversation and books."""
    chosen = [p for p in people if convs[p.booking_id].status == Status.OFFERED][:REPLIES]
    for who in chosen:
        await rig.reply("sms", who, "1")
        conv = await rig.conversation(who)
        assert conv.status == Status.BOOKED and conv.id == convs[who.booking_id].id
    await rig.c.dispatcher.drain()
    return chosen


async def test_delay_bigger_delay_cancel_reinstate(rig: Rig) -> None:
    f = rig.disrupted
    async with rig.c.db.transaction() as s:
        await s.execute(update(Inventory).where(Inventory.flight_id == f.id).values(capacity=180))
        await s.execute(update(Inventory).where(Inventory.flight_id != f.id).values(capacity=200))
    people = [await rig.add_pax(("sms",)) for _ in range(PASSENGERS)]
    story = Story(rig)
    booked: list[Pax] = []
    expected: dict[int, list[str]] = {p.booking_id: [] for p in people}

    # 1. Delayed 4 h (past the 3 h threshold): everyone is offered, once.
    first = await story.tell(UpdateKind.DELAY, new_departure=f.dep_utc + dt.timedelta(hours=4))
    assert first.created
    convs = await _invariants(rig)
    assert len(convs) == PASSENGERS
    for p in people:
        expected[p.booking_id].append("offer")
    assert await _messages(rig) == expected
    for who in await _answer(rig, people, convs):
        booked.append(who)
        expected[who.booking_id].append("booked")

    # 2. Delayed 6 h: the new time is news to everyone still waiting; the booked are left alone.
    second = await story.tell(UpdateKind.DELAY, new_departure=f.dep_utc + dt.timedelta(hours=6))
    assert (second.outcome, second.disruption_id, second.updated) == (Outcome.APPLIED, first.disruption_id, PASSENGERS - REPLIES)
    convs = await _invariants(rig)
    for p in people:
        if p not in booked:
            expected[p.booking_id].append("offer_updated")
    assert await _messages(rig) == expected
    for who in await _answer(rig, people, convs):
        booked.append(who)
        expected[who.booking_id].append("booked")

    # 3. Cancelled: "now cancelled, here are new options", once each; the same message again changes nothing.
    third = await story.tell(UpdateKind.CANCELLATION)
    assert third.updated == PASSENGERS - 2 * REPLIES
    convs = await _invariants(rig)
    for p in people:
        if p not in booked:
            expected[p.booking_id].append("offer_updated")
    assert await _messages(rig) == expected
    for who in await _answer(rig, people, convs):
        booked.append(who)
        expected[who.booking_id].append("booked")
    waiting = next(p for p in people if p not in booked)
    assert "now cancelled" in rig.last("sms", waiting).text

    # 4. Reinstated on time: everyone not rebooked keeps the flight, told once; every hold is released.
    fourth = await story.tell(UpdateKind.REINSTATEMENT)
    assert (fourth.withdrawn, fourth.updated, fourth.added) == (PASSENGERS - 3 * REPLIES, 0, 0)
    convs = await _invariants(rig)
    for p in people:
        if p not in booked:
            expected[p.booking_id].append("disruption_lifted")
    assert await _messages(rig) == expected
    assert {c.status for b, c in convs.items() if b not in {p.booking_id for p in booked}} == {Status.CLOSED}
    assert {convs[p.booking_id].status for p in booked} == {Status.BOOKED}
    inventory = await rig.inventory()
    assert all(held == 0 for _, held in inventory.values())
    assert inventory[f.id][0] == PASSENGERS - 3 * REPLIES
    assert sum(inventory[a.id][0] for a in rig.alternatives) == 3 * REPLIES
    # A late reply to the withdrawn offer books nothing: the passenger is told they keep the flight.
    await rig.reply("sms", waiting, "1")
    assert (await rig.conversation(waiting)).status == Status.CLOSED
    await rig.c.dispatcher.drain()
    assert (await _messages(rig))[waiting.booking_id][-1] == "kept"
    async with rig.c.db.reading() as s:
        disruption = (await s.scalars(select(Disruption))).one()
    assert disruption.status == "settled"
