"""The agent workflow with no Slack desk: the API's actions work, the pump only withdraws, nothing is routed or posted."""

from __future__ import annotations

from sqlalchemy import select

from conversations.desk.agents import AgentWorkflow
from conversations.desk.models import QueueCard
from conversations.desk.ports import CloseCase, DeskReply, TakePassenger, WriteToPassenger
from conversations.engine import Status
from conversations.models import Escalation
from tests.conversations.conftest import Rig


def workflow(rig: Rig) -> AgentWorkflow:
    parts = rig.c.desk
    assert parts is not None and parts.agents is not None and parts.slack is None
    return parts.agents


async def test_a_passenger_who_chose_alone_is_withdrawn_and_nothing_is_routed(rig: Rig) -> None:
    a, b = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    await rig.offered(a, b)
    for who in (a, b):
        await rig.reply("sms", who, "agent")
    await rig.reply("sms", b, "1")
    assert (await rig.conversation(b)).status == Status.BOOKED

    report = await workflow(rig).pump()

    assert (report.routed, report.withdrawn, report.cards_posted, report.queue_posts) == (0, 1, 0, 0)
    [esc_a], [esc_b] = await rig.escalations(a), await rig.escalations(b)
    assert (esc_a.status, esc_a.route) == ("open", None)
    assert (esc_b.status, esc_b.resolution) == ("withdrawn", "self_served")
    assert await rig.count(QueueCard) == 0


async def test_claim_write_and_close_run_without_a_desk(rig: Rig) -> None:
    pax = await rig.add_pax(("sms",))
    await rig.offered(pax)
    await rig.reply("sms", pax, "agent")
    [esc] = await rig.escalations(pax)
    agents = workflow(rig)

    assert await agents.act(TakePassenger(esc.id, "api:ann")) is None
    assert await agents.act(TakePassenger(esc.id, "api:bo")) == DeskReply("owned", owner="api:ann")
    assert await agents.act(WriteToPassenger(esc.id, "api:bo", "not mine", "k1")) == DeskReply("owned", owner="api:ann")
    for _ in range(2):
        assert await agents.act(WriteToPassenger(esc.id, "api:ann", "An agent is on it.", "k1")) is None
    await rig.c.dispatcher.drain()
    assert [m.text for m in rig.inbox("sms", pax)].count("An agent is on it.") == 1

    assert await agents.act(CloseCase(esc.id, "api:ann")) is None
    assert (await rig.conversation(pax)).status == Status.CLOSED
    async with rig.c.db.reading() as s:
        row = (await s.scalars(select(Escalation).where(Escalation.id == esc.id))).one()
    assert (row.status, row.resolution, row.card_ts, row.route) == ("resolved", "closed", None, None)
    assert await agents.act(CloseCase(esc.id, "api:ann")) == DeskReply("not_claimed", owner="api:ann")
    assert (await rig.holds()).get("held", 0) == 0
