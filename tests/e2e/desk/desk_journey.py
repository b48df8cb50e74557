"""A passenger taken over in Slack: card posted, their messages relayed to its thread, the agent answering."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.models import Escalation
from tests.conversations.conftest import Pax
from tests.e2e.desk.conftest import ESC, Desk

AGENT = "UAGENT1"


@dataclass(frozen=True)
class TakenOver:
    escalation: Escalation
    relays: tuple[str, ...]
    agent_text: str


async def take_over(desk: Desk, who: Pax, *, passenger_texts: tuple[str, ...], agent_text: str) -> TakenOver:
    """Take next on the queue card, the passenger writes (relayed), the agent replies in the thread and sends a voucher."""
    rig = desk.rig
    await desk.agents.pump()
    conv = await rig.conversation(who)
    assert (await desk.click("take_next", str(conv.disruption_id), user=AGENT)).status_code == 200
    await desk.settle()
    [esc] = await rig.escalations(who)
    assert esc.status == "claimed" and esc.card_ts is not None
    for text in passenger_texts:
        await rig.reply("whatsapp", who, text)
    await desk.settle()
    await desk.agents.pump()
    relays = tuple(desk.fake.thread(ESC, esc.card_ts))
    assert [r["text"] for r in relays] == [f"Passenger: {t}" for t in passenger_texts]
    relay_ts = tuple(ts for (ch, ts), body in desk.fake.messages.items() if any(body is r for r in relays))
    # What the agent types reaches Slack by itself (Slack holds it; our bot may not delete it) and us by event.
    desk.fake.human_reply(ESC, esc.card_ts, AGENT, agent_text)
    assert (await desk.reply_in_thread(esc.card_ts, agent_text, user=AGENT)).status_code == 200
    await desk.click("voucher", str(esc.id), user=AGENT)
    await desk.settle()
    [esc] = await rig.escalations(who)
    return TakenOver(esc, relay_ts, agent_text)
