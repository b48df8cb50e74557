"""Claims under contention, and a 2,000-escalation disruption that Slack's rate limit can carry."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, insert, select

from conversations.desk.ports import DeskReply, TakeNext, TakePassenger
from conversations.engine import Status
from conversations.models import Conversation, Escalation
from rebooking_core.models import Booking, Disruption, Passenger
from tests.e2e.desk.conftest import ESC, Desk, escalate


async def test_two_agents_taking_next_at_once_get_different_passengers(desk: Desk) -> None:
    people = [await desk.rig.add_pax(("sms",)) for _ in range(4)]
    await escalate(desk, *people, channel="sms")
    await desk.agents.pump()
    disruption = (await desk.rig.conversation(people[0])).disruption_id
    replies = await asyncio.gather(*(desk.agents.act(TakeNext(disruption, ESC, f"U{i}")) for i in range(4)))
    assert replies == [None] * 4
    async with desk.rig.c.db.reading() as s:
        owners = dict((await s.execute(select(Escalation.conversation_id, Escalation.agent))).all())
    assert sorted(owners.values()) == ["U0", "U1", "U2", "U3"]
    assert len(set(owners)) == 4


async def test_two_claims_of_the_same_passenger_leave_exactly_one_owner(desk: Desk) -> None:
    pax = await desk.rig.add_pax(("sms",))
    await escalate(desk, pax, channel="sms")
    await desk.agents.pump()
    [esc] = await desk.rig.escalations(pax)
    replies = await asyncio.gather(*(desk.agents.act(TakePassenger(esc.id, f"U{i}")) for i in range(5)))
    [esc] = await desk.rig.escalations(pax)
    assert esc.status == "claimed" and esc.agent is not None
    assert replies.count(None) == 1
    assert all(r == DeskReply("owned", owner=esc.agent) for r in replies if r is not None)
    assert (await desk.rig.conversation(pax)).status == Status.AGENT


async def _bulk_escalations(desk: Desk, disruption_id: int, start: int, n: int) -> None:
    """`n` escalated conversations on the disrupted flight, written in bulk (the engine path is tested above)."""
    rig = desk.rig
    now = rig.clock()
    async with rig.c.db.transaction() as s:
        bookings = [{"locator": f"S{start + i:05d}", "created_at": now} for i in range(n)]
        ids = list((await s.scalars(insert(Booking).returning(Booking.id), bookings)).all())
        pids = list(
            (
                await s.scalars(
                    insert(Passenger).returning(Passenger.id),
                    [{"booking_id": b, "given_name": "Ana", "family_name": "X", "tier": (start + i) % 4, "language": "en", "is_contact": True}
                     for i, b in enumerate(ids)],
                )
            ).all()
        )
        convs = list(
            (
                await s.scalars(
                    insert(Conversation).returning(Conversation.id),
                    [{"disruption_id": disruption_id, "booking_id": b, "flight_id": rig.disrupted.id, "origin": "FRA", "passenger_id": p,
                      "tier": (start + i) % 4, "status": "escalated", "impact": {}, "window_open_until": {}, "created_at": now, "updated_at": now}
                     for i, (b, p) in enumerate(zip(ids, pids, strict=True))],
                )
            ).all()
        )
        await s.execute(
            insert(Escalation),
            [{"conversation_id": c, "disruption_id": disruption_id, "reason": ("passenger_request", "no_options", "deadline")[i % 3],
              "tier": (start + i) % 4, "status": "open", "created_at": now, "missed_connection": i % 5 == 0}
             for i, c in enumerate(convs)],
        )


async def test_two_thousand_escalations_cost_a_bounded_number_of_slack_calls(desk: Desk) -> None:
    rig, fake = desk.rig, desk.fake
    await rig.disrupt()
    async with rig.c.db.reading() as s:
        disruption_id = int(await s.scalar(select(func.max(Disruption.id))) or 0)
    # 2,000 escalations arrive over 20 seconds; the worker pumps every second.
    for wave in range(20):
        await _bulk_escalations(desk, disruption_id, wave * 100, 100)
        await desk.agents.pump()
        rig.clock.advance(seconds=1)
    rig.clock.advance(seconds=5)
    await desk.agents.pump()
    queue_calls = fake.api_calls
    # One post, then at most one update per 5-second debounce window: not 2,000 messages.
    assert queue_calls <= 1 + 25 // 5 + 1
    last = fake.of("chat.update")[-1].body if fake.of("chat.update") else fake.of("chat.postMessage")[-1].body
    assert "*Waiting*\\n2000" in str(last["blocks"])
    assert "deadline: 660 · no_options: 660 · passenger_request: 680" in str(last["blocks"])

    # Every escalation can be taken, best tier first, each by exactly one agent.
    assert await desk.agents.act(TakeNext(disruption_id, ESC, "UFIRST")) is None
    async with rig.c.db.reading() as s:
        first = (await s.scalars(select(Escalation).where(Escalation.agent == "UFIRST"))).one()
    assert (first.tier, first.missed_connection) == (3, True)

    async def agent(name: str) -> int:
        taken = 0
        while await desk.agents.act(TakeNext(disruption_id, ESC, name)) is None:
            taken += 1
        return taken

    taken = await asyncio.gather(*(agent(f"U{i}") for i in range(8)))
    assert sum(taken) == 1999
    async with rig.c.db.reading() as s:
        claimed = await s.scalar(select(func.count()).select_from(Escalation).where(Escalation.status == "claimed", Escalation.card_ts.is_not(None)))
        agents = await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.status == Status.AGENT.value))
    assert claimed == 2000 and agents == 2000
    assert len(fake.of("chat.postMessage")) == 1 + 2000
