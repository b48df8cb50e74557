"""The set-based first-offer path gives what the per-booking path gives, and never oversells."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from conversations.engine import Status
from conversations.intake.fanout import FANOUT_LOCK, FanOut
from conversations.intake.ports import DisruptionRequest, FlightKey, Step
from conversations.intake.workflow import record_disruption
from conversations.models import Conversation, Escalation, OutboxMessage
from rebooking_core.models import Disruption, Inventory, Offer, SeatHold
from rebooking_core.types import DisruptionKind
from tests.conversations.conftest import Pax, Rig


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


async def test_a_fanout_escalation_keeps_a_missed_connection_first_in_the_desk_queue(rig: Rig) -> None:
    """Bulk escalation rows come from the same builder as single ones (before #22 they never carried it)."""
    who = await rig.add_pax(("sms",), pax=2)
    async with rig.c.db.transaction() as s:
        await s.execute(update(Inventory).where(Inventory.flight_id != rig.disrupted.id).values(capacity=Inventory.sold + 1))
    ids = await rig.disrupt()
    async with rig.c.db.transaction() as s:
        conv = (await s.scalars(select(Conversation).where(Conversation.id.in_(ids)))).one()
        conv.impact = {**conv.impact, "missed_connection": True}
    assert await FanOut(rig.c.service).offer_batch(await _disruption_id(rig), ids) == 1
    assert [(e.reason, e.missed_connection) for e in await rig.escalations(who)] == [("no_options", True)]


async def test_fanout_replans_when_seats_moved_under_it(rig: Rig, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Seats gone between the snapshot and the hold: the batch rolls back and plans again."""
    import conversations.intake.fanout as fanout

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



async def _all_offered(rig: Rig, people: list[Pax]) -> bool:
    return all([(await rig.conversation(p)).status == Status.OFFERED for p in people])


async def test_offer_next_takes_batches_in_priority_order_and_says_when_to_go_on(rig: Rig) -> None:
    people = [await rig.add_pax(("sms",)) for _ in range(5)]
    ids = await rig.disrupt()  # best priority first
    disruption_id = await _disruption_id(rig)
    fan = FanOut(rig.c.service, batch_size=2)
    steps = [await fan.offer_next(disruption_id) for _ in range(4)]
    assert [(s.offered, s.more) for s in steps] == [(2, True), (2, True), (1, False), (0, False)]
    async with rig.c.db.reading() as s:
        batch_of = {c.id: c.offer_id for c in (await s.scalars(select(Conversation))).all()}
    assert [batch_of[i] for i in ids] == sorted(batch_of[i] for i in ids), "offers are created in priority order"
    assert await _all_offered(rig, people)


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_offer_next_leaves_a_disruption_to_the_batch_already_running(rig: Rig) -> None:
    """One batch per disruption runs at a time; a second link stops instead of colliding on seats."""
    who = await rig.add_pax(("sms",))
    await rig.disrupt()
    disruption_id = await _disruption_id(rig)
    fan = FanOut(rig.c.service)
    async with rig.c.db.transaction() as other:
        await other.execute(select(func.pg_advisory_xact_lock(FANOUT_LOCK, disruption_id)))
        step = await fan.offer_next(disruption_id)
        assert (step.offered, step.more) == (0, False)
        assert (await rig.conversation(who)).status == Status.PENDING
    assert (await fan.offer_next(disruption_id)).offered == 1
    assert fan.stats["busy"] == 1
    assert (await rig.conversation(who)).status == Status.OFFERED


@pytest.mark.parametrize("settings_overrides", [{"batch_size": 3}])
async def test_the_job_chain_offers_every_booking_one_batch_at_a_time(rig: Rig) -> None:
    """assess kicks one link; each link offers a batch and kicks the next until none is pending."""
    people = [await rig.add_pax(("sms",)) for _ in range(7)]
    f = rig.disrupted
    recorded = await record_disruption(
        rig.c.db,
        DisruptionRequest(flights=(FlightKey(f.carrier, f.number, f.service_date),), kind=DisruptionKind.CANCELLED),
        clock=rig.clock,
    )
    await rig.c.jobs.disruption_recorded(recorded.disruption_id)
    await rig.c.jobs.wait_idle()
    assert await _all_offered(rig, people)
    async with rig.c.db.reading() as s:
        disruption = await s.get(Disruption, recorded.disruption_id)
    assert disruption is not None and (disruption.batches_total, disruption.batches_done) == (3, 3)


@pytest.mark.parametrize("settings_overrides", [{"batch_size": 2}])
async def test_a_chain_link_that_falls_back_booking_by_booking_keeps_the_chain_going(rig: Rig, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Seats keep moving under every attempt: the link offers its batch one by one and the chain goes on."""
    import conversations.intake.fanout as fanout

    async def always_moved(session, plans):  # type: ignore[no-untyped-def]
        return False

    monkeypatch.setattr(fanout, "hold_planned", always_moved)
    people = [await rig.add_pax(("sms",)) for _ in range(5)]
    await rig.disrupt()
    fan = FanOut(rig.c.service, batch_size=2)
    disruption_id = await _disruption_id(rig)
    first = await fan.offer_next(disruption_id)
    assert (first.offered, first.more) == (2, True)
    while (await fan.offer_next(disruption_id)).more:
        pass
    assert fan.stats["fallbacks"] == 3
    assert await _all_offered(rig, people)


@pytest.mark.parametrize("settings_overrides", [{"batch_size": 2}])
async def test_a_chain_link_that_crashes_is_kicked_again(rig: Rig) -> None:
    people = [await rig.add_pax(("sms",)) for _ in range(3)]
    f = rig.disrupted
    recorded = await record_disruption(
        rig.c.db,
        DisruptionRequest(flights=(FlightKey(f.carrier, f.number, f.service_date),), kind=DisruptionKind.CANCELLED),
        clock=rig.clock,
    )
    real = rig.c.jobs._offer_next
    crashes = {"left": 2}

    async def flaky(disruption_id: int) -> Step:
        if crashes["left"]:
            crashes["left"] -= 1
            raise ConnectionResetError("database went away")
        return await real(disruption_id)

    rig.c.jobs._offer_next = flaky
    await rig.c.jobs.disruption_recorded(recorded.disruption_id)
    await rig.c.jobs.wait_idle()
    assert crashes["left"] == 0
    assert await _all_offered(rig, people)
