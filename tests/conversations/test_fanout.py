"""The set-based first-offer path gives what the per-booking path gives, and never oversells."""

from __future__ import annotations

from sqlalchemy import select, update

from conversations.engine import Status
from conversations.fanout import FanOut
from conversations.models import Conversation, Escalation, OutboxMessage
from rebooking_core.models import Inventory, Offer, SeatHold
from tests.conversations.conftest import Rig


async def _disruption_id(rig: Rig) -> int:
    async with rig.c.db.reading() as s:
        return int((await s.scalars(select(Conversation.disruption_id))).first() or 0)


async def test_fanout_offers_each_pending_booking_once(rig: Rig) -> None:
    people = [await rig.add_pax(("sms",), pax=n) for n in (1, 2, 3)]
    ids = await rig.disrupt()
    fan = FanOut(rig.c.service)
    assert await fan.offer_batch(await _disruption_id(rig), ids) == 3
    assert await fan.offer_batch(await _disruption_id(rig), ids) == 0
    for who in people:
        conv = await rig.conversation(who)
        assert conv.status == Status.OFFERED and conv.offer_id is not None and conv.timer_at is not None
        assert [m.key for m in await rig.outbox(who)] == ["offer"]
    async with rig.c.db.reading() as s:
        holds = (await s.execute(select(SeatHold.flight_id, SeatHold.seats))).all()
        inventory = {f: held for f, held in (await s.execute(select(Inventory.flight_id, Inventory.held))).all()}
    held_by_flight: dict[int, int] = {}
    for flight_id, seats in holds:
        held_by_flight[flight_id] = held_by_flight.get(flight_id, 0) + seats
    assert held_by_flight == {f: n for f, n in inventory.items() if n}
    await rig.c.dispatcher.drain()
    assert all(len(rig.inbox("sms", who)) == 1 for who in people)


async def test_fanout_escalates_when_nothing_is_left(rig: Rig) -> None:
    who = await rig.add_pax(("sms",), pax=2)
    async with rig.c.db.transaction() as s:
        await s.execute(update(Inventory).where(Inventory.flight_id != rig.disrupted.id).values(capacity=Inventory.sold + 1))
    ids = await rig.disrupt()
    assert await FanOut(rig.c.service).offer_batch(await _disruption_id(rig), ids) == 1
    conv = await rig.conversation(who)
    assert (conv.status, conv.escalation_reason) == (Status.ESCALATED, "no_options")
    assert [e.reason for e in await rig.escalations(who)] == ["no_options"]
    assert [m.key for m in await rig.outbox(who)] == ["escalated_no_options"]


async def test_fanout_replans_when_seats_moved_under_it(rig: Rig, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Seats gone between the snapshot and the hold: the batch rolls back and plans again."""
    import conversations.fanout as fanout

    people = [await rig.add_pax(("sms",)) for _ in range(3)]
    ids = await rig.disrupt()
    first = rig.alternatives[0]
    calls = {"n": 0}
    real_hold = fanout.hold_planned

    async def hold_after_a_sale(session, plans):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            await session.execute(
                update(Inventory).where(Inventory.flight_id == first.id, Inventory.cabin == "Y").values(sold=Inventory.capacity - 1)
            )
        return await real_hold(session, plans)

    monkeypatch.setattr(fanout, "hold_planned", hold_after_a_sale)
    assert await FanOut(rig.c.service).offer_batch(await _disruption_id(rig), ids) == 3
    assert calls["n"] == 2
    async with rig.c.db.reading() as s:
        over = (await s.execute(select(Inventory).where(Inventory.sold + Inventory.held > Inventory.capacity))).all()
        offers = (await s.scalars(select(Offer.id))).all()
    assert over == []
    assert len(offers) == 3
    assert [(await rig.conversation(p)).status for p in people] == [Status.OFFERED] * 3
    assert await rig.count(Escalation) == 0
    assert await rig.count(OutboxMessage) == 3
