"""A whole takeover through Slack: queue card, Take next, passenger card, relays both ways, rebook once, back to the bot."""

from __future__ import annotations

from sqlalchemy import func, select

from conversations.desk.models import AgentDecision
from conversations.engine import Status
from conversations.models import Escalation
from rebooking_core.models import Segment
from tests.e2e.desk.conftest import ESC, Desk, escalate
from tests.fakes.slack_api import BOT_ID


def _texts(blocks: object) -> str:
    return str(blocks)


async def test_whole_takeover(desk: Desk) -> None:
    rig, fake = desk.rig, desk.fake
    pax = await rig.add_pax(("whatsapp",))
    await escalate(desk, pax)
    conv = await rig.conversation(pax)
    assert conv.status == Status.ESCALATED

    # The queue card counts the escalation.
    await desk.agents.pump()
    [card] = fake.posts()
    assert card["channel"] == ESC
    assert "*Waiting*\\n1" in _texts(card["blocks"]) and "passenger_request: 1" in _texts(card["blocks"])
    queue_ts = next(ts for (ch, ts), body in fake.messages.items() if body is card)

    # Take next: acknowledged, then the passenger card is posted and the agent owns the conversation.
    r = await desk.click("take_next", str(conv.disruption_id))
    assert r.status_code == 200
    await desk.settle()
    [esc] = await rig.escalations(pax)
    assert (esc.status, esc.agent) == ("claimed", "UAGENT1")
    assert (await rig.conversation(pax)).status == Status.AGENT
    passenger_card = next(p for p in fake.posts() if p is not card)
    assert esc.card_ts is not None and esc.card_ts != queue_ts
    blocks = _texts(passenger_card["blocks"])
    assert pax.locator in blocks and "Given0" in blocks and "Family" not in blocks
    assert "Rebook option 2" in blocks and "Offer refund" in blocks and "Send voucher" in blocks and "Return to bot" in blocks
    assert pax.phone not in blocks

    # A second agent is told who owns the passenger.
    await desk.click("take", str(esc.id), user="UAGENT2")
    await desk.settle()
    assert fake.responses[-1]["text"] == "<@UAGENT1> already owns this passenger."

    # The passenger writes: relayed to the thread, and the bot stays silent.
    sent_before = len(rig.inbox("whatsapp", pax))
    await rig.reply("whatsapp", pax, "Can I leave in the afternoon?")
    await desk.settle()
    await desk.agents.pump()
    relays = fake.posts(thread_ts=esc.card_ts)
    assert [p["text"] for p in relays] == ["Passenger: Can I leave in the afternoon?"]
    assert len(rig.inbox("whatsapp", pax)) == sent_before

    # The agent replies in the thread: relayed to WhatsApp as written; notes and bot echoes are not.
    await desk.reply_in_thread(esc.card_ts, "note: checking the 16:00 flight")
    await desk.event({"type": "message", "channel": ESC, "bot_id": BOT_ID, "text": "Passenger: echo", "ts": "1800000001.000001", "thread_ts": esc.card_ts})
    r = await desk.reply_in_thread(esc.card_ts, "Yes: I will book option 2 for you now.")
    assert r.status_code == 200
    await desk.settle()
    assert [m.text for m in rig.inbox("whatsapp", pax)[sent_before:]] == ["Yes: I will book option 2 for you now."]

    # Rebook option 2, and Slack retries the same click: booked once.
    option2 = (await rig.options(pax))[1]
    async with rig.c.db.reading() as s:
        sold_before = await s.scalar(select(func.count()).select_from(Segment).where(Segment.flight_id == option2.flight_ids[0]))
    value = f"{esc.id}:{option2.id}"
    for _ in range(2):
        await desk.click("rebook_2", value, trigger="trig-rebook-once")
    await desk.click("rebook_2", value, trigger="trig-rebook-again")
    await desk.settle()
    conv = await rig.conversation(pax)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, option2.id)
    async with rig.c.db.reading() as s:
        sold_after = await s.scalar(select(func.count()).select_from(Segment).where(Segment.flight_id == option2.flight_ids[0]))
        decisions = (await s.scalars(select(AgentDecision.kind).where(AgentDecision.escalation_id == esc.id))).all()
    assert sold_after == (sold_before or 0) + 1
    assert list(decisions) == ["rebook"]
    booked = [m for m in rig.inbox("whatsapp", pax) if pax.locator in m.text]
    assert len(booked) == 1
    assert fake.responses[-1]["text"] == "This passenger is already booked."

    # Return to bot: the escalation is resolved as booked and the card shows it.
    await desk.click("release", str(esc.id))
    await desk.settle()
    [esc] = await rig.escalations(pax)
    assert (esc.status, esc.resolution) == ("resolved", "booked")
    assert (await rig.conversation(pax)).status == Status.BOOKED
    updates = [c.body for c in fake.of("chat.update") if c.body["ts"] == esc.card_ts]
    assert updates and "resolved (booked)" in _texts(updates[-1]["blocks"]) and "Return to bot" not in _texts(updates[-1]["blocks"])


async def test_return_to_bot_without_booking_offers_fresh_options(desk: Desk) -> None:
    rig = desk.rig
    pax = await rig.add_pax(("sms",))
    await escalate(desk, pax, channel="sms")
    conv = await rig.conversation(pax)
    old_offer = conv.offer_id
    await desk.agents.pump()
    await desk.click("take_next", str(conv.disruption_id))
    await desk.settle()
    [esc] = await rig.escalations(pax)
    await desk.click("release", str(esc.id))
    await desk.settle()
    conv = await rig.conversation(pax)
    assert conv.status == Status.OFFERED and conv.offer_id != old_offer
    assert rig.last("sms", pax).text.count("1") >= 1
    [esc] = await rig.escalations(pax)
    assert (esc.status, esc.resolution) == ("resolved", "returned")


async def test_refund_and_voucher_are_recorded_once_and_told_to_the_passenger(desk: Desk) -> None:
    rig = desk.rig
    pax = await rig.add_pax(("sms",))
    await escalate(desk, pax, channel="sms")
    conv = await rig.conversation(pax)
    await desk.agents.pump()
    await desk.click("take_next", str(conv.disruption_id))
    await desk.settle()
    [esc] = await rig.escalations(pax)
    before = len(rig.inbox("sms", pax))  # the first offer's notice of rights names a refund too
    for action in ("refund", "refund", "voucher"):
        await desk.click(action, str(esc.id))
    await desk.settle()
    texts = [m.text for m in rig.inbox("sms", pax)[before:]]
    assert sum("refund" in t for t in texts) == 1
    assert sum("voucher" in t and "100" in t for t in texts) == 1
    await desk.click("release", str(esc.id))
    await desk.settle()
    assert (await rig.conversation(pax)).status == Status.CLOSED
    async with rig.c.db.reading() as s:
        kinds = sorted((await s.scalars(select(AgentDecision.kind).where(AgentDecision.escalation_id == esc.id))).all())
        resolution = (await s.scalars(select(Escalation.resolution).where(Escalation.id == esc.id))).one()
    assert kinds == ["refund", "voucher"] and resolution == "refunded"


async def test_a_non_owner_cannot_act_or_speak(desk: Desk) -> None:
    rig = desk.rig
    pax = await rig.add_pax(("sms",))
    await escalate(desk, pax, channel="sms")
    conv = await rig.conversation(pax)
    await desk.agents.pump()
    await desk.click("take_next", str(conv.disruption_id))
    await desk.settle()
    [esc] = await rig.escalations(pax)
    before = len(rig.inbox("sms", pax))
    await desk.click("refund", str(esc.id), user="UAGENT2")
    await desk.reply_in_thread(esc.card_ts or "", "hello from someone else", user="UAGENT2")
    await desk.settle()
    assert len(rig.inbox("sms", pax)) == before
    assert fake_text(desk) == "<@UAGENT1> already owns this passenger."


def fake_text(desk: Desk) -> str:
    return str(desk.fake.responses[-1]["text"])


async def test_slack_429_is_retried_after_retry_after(desk: Desk) -> None:
    rig = desk.rig
    pax = await rig.add_pax(("sms",))
    await escalate(desk, pax, channel="sms")
    desk.fake.fail_next("chat.postMessage", 429, retry_after="0")
    report = await desk.agents.pump()
    assert report.queue_posts == 1 and report.failed == []
    assert len(desk.fake.of("chat.postMessage")) == 2
