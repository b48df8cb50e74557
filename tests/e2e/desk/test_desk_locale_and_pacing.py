"""Agent-facing Slack text follows REBOOK_SLACK__LOCALE; broadcasts spend the dispatcher's provider budget;
an interrupted queue card post is retried."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select, update

import locales
from conversations.broadcasts.broadcaster import broadcast_counts
from conversations.broadcasts.ports import BroadcastRequested
from conversations.desk.models import QueueCard
from conversations.models import Escalation
from tests.e2e.desk.conftest import ESC, SECRET, Desk, escalate
from tests.fakes.pacing import Unlimited
from tests.fakes.slack_api import FakeSlack

BUTTON_KEYS = ("slack.take_next", "slack.take", "slack.rebook_option", "slack.offer_refund", "slack.send_voucher", "slack.return_to_bot")


@pytest.fixture
def settings_overrides(slack_server: tuple[FakeSlack, str]) -> dict[str, Any]:
    return {
        "slack": {
            "bot_token": slack_server[0].token,
            "signing_secret": SECRET,
            "api_base": f"{slack_server[1]}/api/",
            "escalation_channel": ESC,
            "card_debounce_seconds": 5,
            "locale": "es",
        }
    }


async def test_cards_buttons_and_replies_use_the_desk_language(desk: Desk) -> None:
    rig, fake = desk.rig, desk.fake
    pax = await rig.add_pax(("whatsapp",))
    await escalate(desk, pax)
    conv = await rig.conversation(pax)

    await desk.agents.pump()
    [card] = fake.posts()
    queue = str(card["blocks"])
    assert "Escalados" in queue and "*En espera*\\n1" in queue and "Tomar siguiente" in queue
    assert "Take next" not in queue and "Waiting" not in queue
    assert card["text"].startswith("1 en espera")

    await desk.click("take_next", str(conv.disruption_id))
    await desk.settle()
    passenger = str(next(p for p in fake.posts() if p is not card)["blocks"])
    assert "Reubicar en opción 2" in passenger and "Ofrecer reembolso" in passenger and "Devolver al bot" in passenger
    assert "Conversación hasta ahora" in passenger and "`note:`" in passenger
    assert "Rebook option" not in passenger and "Return to bot" not in passenger

    [esc] = await rig.escalations(pax)
    await desk.click("take", str(esc.id), user="UAGENT2")
    await desk.settle()
    assert fake.responses[-1]["text"] == "<@UAGENT1> ya atiende a este pasajero."

    r = await desk.command("nonsense")
    assert r.status_code == 200 and "Uso: /rebook broadcast" in r.text


@pytest.mark.parametrize("lang", locales.SUPPORTED)
def test_button_labels_fit_block_kit(lang: str) -> None:
    for key in BUTTON_KEYS:
        assert len(locales.render(key, lang, number=20)) <= 75, (lang, key)


class RecordingPacer(Unlimited):
    """Records what the dispatcher asks of the shared provider budget for each send."""

    def __init__(self) -> None:
        self.acquired: list[tuple[str, str]] = []
        self.settled: list[tuple[str, str, int]] = []

    async def acquire(
        self, channel: str, recipient: str = "", sender: str = "", *, answer: bool = False, cost: int = 1
    ) -> None:
        self.acquired.append((channel, recipient))

    async def settle(self, channel: str, recipient: str, segments: int, sender: str = "", *, paid: int = 1) -> None:
        self.settled.append((channel, recipient, segments))

    async def slow_down(self, channel: str, recipient: str, seconds: float, code: str | None = None, sender: str = "") -> None:
        raise AssertionError("no provider answered 429 here")


async def test_a_broadcast_is_sent_by_the_dispatcher_taking_a_token_for_every_send(desk: Desk) -> None:
    rig = desk.rig
    parts = rig.c.desk
    assert parts is not None
    people = [await rig.add_pax(("whatsapp",)) for _ in range(3)]
    pacer = RecordingPacer()
    rig.c.dispatcher.pacer = pacer
    flight = f"{rig.disrupted.carrier}{rig.disrupted.number}/{rig.disrupted.service_date.isoformat()}"
    bid = await parts.broadcaster.start(BroadcastRequested(target=flight, message="Gate B12 is closed.", requested_by="test"))
    await rig.c.dispatcher.drain()
    await parts.broadcaster.follow()

    counts = await broadcast_counts(rig.c.db, bid)
    assert counts is not None and counts.sent == 3 and counts.finished
    sent = [(m.channel, m.to) for m in rig.sandbox.messages if m.to in {p.phone for p in people}]
    assert sorted(pacer.acquired) == sorted(sent) and len(sent) == 3
    assert sorted((c, to) for c, to, _ in pacer.settled) == sorted(sent)


async def test_a_queue_card_cut_off_mid_post_is_posted_after_the_timeout(desk: Desk) -> None:
    rig, fake = desk.rig, desk.fake
    pax = await rig.add_pax(("whatsapp",))
    await escalate(desk, pax)
    conv = await rig.conversation(pax)
    async with rig.c.db.transaction() as s:
        # What a worker leaves behind when it crashes between claiming the card and Slack's answer.
        await s.execute(update(Escalation).where(Escalation.conversation_id == conv.id).values(route=ESC))
        await s.execute(
            insert(QueueCard).values(disruption_id=conv.disruption_id, route=ESC, dirty=False, posted_at=rig.clock(), updates=1)
        )

    await desk.agents.pump()
    rig.clock.advance(seconds=30)
    await desk.agents.pump()
    assert fake.posts() == []

    rig.clock.advance(seconds=31)
    await desk.agents.pump()
    [card] = fake.posts()
    assert "*En espera*\\n1" in str(card["blocks"])
    async with rig.c.db.reading() as s:
        ts = (await s.scalars(select(QueueCard.ts))).one()
    assert ts is not None
    await desk.agents.pump()
    assert len(fake.posts()) == 1
