"""Erasure reaches Slack: the passenger card becomes the erased card, our relays leave its thread, failures are retried."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from sqlalchemy import select, update

from conversations.desk.models import AgentRelay
from infra import crypto
from rebooking_core.models import ContactPoint, Passenger
from tests.conversations.conftest import Pax
from tests.e2e.desk.conftest import ESC, Desk, escalate
from tests.e2e.desk.desk_journey import AGENT, TakenOver, take_over
from tests.e2e.privacy.conftest import OPS_API_KEYS, auth

GIVEN, FAMILY, EMAIL = "Ottoline", "Brackenbury", "ottoline.b@example.net"
WROTE = ("My daughter Ottoline is travelling alone", "email ottoline.b@example.net please")


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any]) -> dict[str, Any]:
    return {**settings_overrides, "ops_api_keys": OPS_API_KEYS}


async def _named(desk: Desk) -> Pax:
    """A WhatsApp passenger with a real-looking name and an e-mail address."""
    rig = desk.rig
    who = await rig.add_pax(("whatsapp",))
    async with rig.c.db.transaction() as s:
        await s.execute(update(Passenger).where(Passenger.id == who.passenger_id).values(given_name=GIVEN, family_name=FAMILY))
        s.add(ContactPoint(passenger_id=who.passenger_id, channel="email", address=EMAIL,
                           address_hash=crypto.keyring().blind_index(EMAIL), preference=5))
    return who


async def _taken(desk: Desk) -> tuple[Pax, TakenOver]:
    who = await _named(desk)
    await escalate(desk, who)
    taken = await take_over(desk, who, passenger_texts=WROTE, agent_text=f"{GIVEN}, I will call you on {who.phone}")
    card = desk.fake.messages[(ESC, str(taken.escalation.card_ts))]
    assert GIVEN in json.dumps(card), "the card named the passenger before the erasure"
    return who, taken


def _secrets(who: Pax) -> list[str]:
    return [GIVEN, FAMILY, EMAIL, who.phone, who.phone.lstrip("+"), who.locator, *WROTE]


def _leaks(body: dict[str, Any], who: Pax) -> list[str]:
    text = json.dumps(body, ensure_ascii=False)
    return [s for s in _secrets(who) if s in text]


async def test_erasure_redacts_the_card_and_deletes_our_relays(desk: Desk) -> None:
    who, taken = await _taken(desk)
    card_ts = str(taken.escalation.card_ts)
    deletes_before = len(desk.fake.of("chat.delete"))

    r = await desk.http.delete(f"/v1/passengers/{who.passenger_id}", headers=auth("erase"))
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["redactions"] == [
        {"store": "slack", "table": "escalations", "rows": 1},
        {"store": "slack", "table": "agent_relays", "rows": 2},
    ]
    by_table = {t["table"]: t for t in receipt["tables"]}
    assert by_table["escalations"]["columns"] == ["status"] and by_table["agent_relays"]["rows"] == 2
    assert "params" in by_table["outbox"]["columns"]
    assert len(desk.fake.of("chat.delete")) == deletes_before, "the erasure itself does not call Slack"

    report = await desk.agents.pump()

    assert report.failed == [] and report.redacted == 3, desk.fake.calls[-4:]
    deleted = sorted(c.body["ts"] for c in desk.fake.of("chat.delete"))
    assert deleted == sorted(taken.relays)
    # What a person wrote in the thread stays (a bot may not delete it); our relays are gone.
    assert [m.get("user") for m in desk.fake.thread(ESC, card_ts)] == [AGENT]
    [last] = [c.body for c in desk.fake.of("chat.update") if c.body["ts"] == card_ts][-1:]
    assert "Passenger data erased" in json.dumps(last) and _leaks(last, who) == []
    assert _leaks(desk.fake.messages[(ESC, card_ts)], who) == []
    ours = {k: b for k, b in desk.fake.messages.items() if "user" not in b}
    assert [k for k, b in ours.items() if _leaks(b, who)] == []
    [esc] = await desk.rig.escalations(who)
    assert (esc.status, esc.card_ts) == ("closed", "redacted")
    async with desk.rig.c.db.reading() as s:
        relays = (await s.scalars(select(AgentRelay.status).where(AgentRelay.escalation_id == esc.id))).all()
    assert list(relays) == ["redacted", "redacted"]

    # Done once: the next pump and a repeated erasure touch nothing in Slack.
    calls = [(c.method, c.body.get("ts")) for c in desk.fake.calls]
    assert (await desk.agents.pump()).redacted == 0
    assert [c for c in [(c.method, c.body.get("ts")) for c in desk.fake.calls][len(calls):] if c[1] == card_ts or c[0] == "chat.delete"] == []
    again = await desk.http.delete(f"/v1/passengers/{who.passenger_id}", headers=auth("erase"))
    assert again.json()["redactions"] == [] and again.json()["already_erased"] is True

    # The agent can no longer speak to the erased passenger through the old thread.
    await desk.reply_in_thread(card_ts, f"{GIVEN}, are you there?", user=AGENT)
    await desk.settle()
    assert [c for c in [(c.method, c.body.get("ts")) for c in desk.fake.calls][len(calls):] if c[1] == card_ts] == []
    assert [m.params for m in await desk.rig.outbox(who) if m.params] == []


@pytest.mark.parametrize("failing", ["chat.delete", "conversations.replies", "chat.update"])
async def test_a_slack_failure_is_retried_on_the_next_pump(desk: Desk, failing: str) -> None:
    who, taken = await _taken(desk)
    card_ts = str(taken.escalation.card_ts)
    assert (await desk.http.delete(f"/v1/passengers/{who.passenger_id}", headers=auth("erase"))).status_code == 200
    desk.fake.fail_next(failing, 500, error="internal_error", retry_after=None)

    first = await desk.agents.pump()

    assert first.failed == ["ProviderUnavailable"]
    [esc] = await desk.rig.escalations(who)
    assert esc.card_ts == card_ts, "the card is still to redact"
    assert GIVEN in json.dumps(desk.fake.messages[(ESC, card_ts)])

    second = await desk.agents.pump()

    assert second.failed == []
    assert _leaks(desk.fake.messages[(ESC, card_ts)], who) == []
    assert [m.get("user") for m in desk.fake.thread(ESC, card_ts)] == [AGENT]
    [esc] = await desk.rig.escalations(who)
    assert esc.card_ts == "redacted"
    assert first.redacted + second.redacted >= 3


async def test_a_card_being_posted_when_the_passenger_is_erased_is_redacted_once_posted(desk: Desk) -> None:
    rig = desk.rig
    who = await _named(desk)
    await escalate(desk, who)
    await desk.agents.pump()
    conv = await rig.conversation(who)
    desk.fake.fail_next("chat.postMessage", 500, error="internal_error", retry_after=None)
    await desk.click("take_next", str(conv.disruption_id), user=AGENT)
    await desk.settle()
    [esc] = await rig.escalations(who)
    assert esc.status == "claimed" and esc.card_ts is None, "Slack refused the card"

    assert (await desk.http.delete(f"/v1/passengers/{who.passenger_id}", headers=auth("erase"))).status_code == 200
    posts_before = len(desk.fake.of("chat.postMessage"))
    await desk.agents.pump()

    # The hand-over is closed, so no card about the erased passenger is ever posted.
    new_posts = [c.body for c in desk.fake.of("chat.postMessage")[posts_before:]]
    assert [b for b in new_posts if _leaks(b, who)] == []
    [esc] = await rig.escalations(who)
    assert (esc.status, esc.card_ts) == ("closed", None)


async def test_a_long_thread_is_read_page_by_page_and_only_our_messages_are_listed(desk: Desk) -> None:
    parts = desk.rig.c.desk
    assert parts is not None and parts.desk is not None
    base = 1690000000 + time.monotonic_ns() % 10_000_000  # the fake outlives one test: a thread of its own
    card = f"{base}.000000"
    # Slack already holds a card with 230 of our relays and a person's reply (seeded: posting them costs 10 s).
    ours = [f"{base}.{n + 1:06d}" for n in range(230)]
    desk.fake.messages[(ESC, card)] = {"channel": ESC, "text": "card"}
    for n, ts in enumerate(ours):
        desk.fake.messages[(ESC, ts)] = {"channel": ESC, "text": f"Passenger: relay {n}", "thread_ts": card}
    desk.fake.human_reply(ESC, card, AGENT, "a person's reply")
    pages_before = len(desk.fake.of("conversations.replies"))

    listed = await parts.desk.thread_posts(ESC, card)

    assert listed == ours
    assert len(desk.fake.of("conversations.replies")) - pages_before == 2
    for ts in listed[:3]:
        await parts.desk.delete_message(ESC, ts)
    await parts.desk.delete_message(ESC, listed[0])  # already gone: counts as deleted
    assert len(desk.fake.thread(ESC, card)) == 230 - 3 + 1


async def _relays(desk: Desk, escalation_id: int) -> list[tuple[str, bool]]:
    async with desk.rig.c.db.reading() as s:
        rows = (await s.execute(select(AgentRelay.status, AgentRelay.posted_at).where(AgentRelay.escalation_id == escalation_id).order_by(AgentRelay.id))).all()
    return [(status, posted_at is not None) for status, posted_at in rows]


async def test_a_relay_on_its_way_during_the_erasure_is_waited_for_then_deleted(desk: Desk) -> None:
    who, taken = await _taken(desk)
    card_ts = str(taken.escalation.card_ts)
    await desk.rig.reply("whatsapp", who, "one more thing about Ottoline")
    await desk.settle()
    hold = desk.fake.hold_next("chat.postMessage")
    posting = asyncio.create_task(desk.agents.pump())
    assert await asyncio.to_thread(hold.arrived.wait, 30), "the relay reached Slack, which has not answered yet"

    assert (await desk.http.delete(f"/v1/passengers/{who.passenger_id}", headers=auth("erase"))).status_code == 200
    waiting = await desk.agents.pump()
    assert waiting.redacted == 0 and GIVEN in json.dumps(desk.fake.messages[(ESC, card_ts)])
    hold.release.set()
    await posting
    assert await _relays(desk, taken.escalation.id) == [("redact", True)] * 3

    done = await desk.agents.pump()

    assert done.redacted == 4
    assert [m.get("user") for m in desk.fake.thread(ESC, card_ts)] == [AGENT]
    assert _leaks(desk.fake.messages[(ESC, card_ts)], who) == []
    assert await _relays(desk, taken.escalation.id) == [("redacted", True)] * 3


async def test_a_relay_cut_off_by_a_crash_holds_the_redaction_back_only_for_post_timeout(desk: Desk) -> None:
    who, taken = await _taken(desk)
    card_ts = str(taken.escalation.card_ts)
    await desk.rig.reply("whatsapp", who, "are you still there?")
    async with desk.rig.c.db.transaction() as s:  # a worker claimed the relay, then died before posting it
        await s.execute(update(AgentRelay).where(AgentRelay.status == "pending").values(status="posting"))
    assert (await desk.http.delete(f"/v1/passengers/{who.passenger_id}", headers=auth("erase"))).status_code == 200

    assert (await desk.agents.pump()).redacted == 0
    desk.rig.clock.advance(seconds=61)
    assert (await desk.agents.pump()).redacted == 3

    assert [m.get("user") for m in desk.fake.thread(ESC, card_ts)] == [AGENT]
    assert _leaks(desk.fake.messages[(ESC, card_ts)], who) == []
