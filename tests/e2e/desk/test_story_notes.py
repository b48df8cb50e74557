"""The flight's story reaches the agent who owns a passenger: the card shows the new situation and options, one note in its thread.

Against the fake Slack Web API (slack_sdk's real client) and through the agent API. The passenger
hears nothing from the bot while the agent owns the conversation.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from conversations.engine import Status
from conversations.intake.story import apply_update
from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind
from tests.e2e.desk.conftest import ESC, Desk

SLACK_AGENT = "UAGENT1"
API = {"Authorization": "Bearer k-agent", "Rebook-Agent": "alice"}


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any]) -> dict[str, Any]:
    return {**settings_overrides, "ops_api_keys": "k-agent:agents"}


async def _tell(desk: Desk, n: int, kind: UpdateKind, **fields: Any) -> int:
    """One feed update of the rig's flight; the fan-out and the desk catch up as the worker would."""
    rig = desk.rig
    rig.clock.advance(minutes=1)
    f = rig.disrupted
    applied = await apply_update(
        rig.c.service,
        FlightUpdate("mvt", f"notes-{n}", FlightRef(f.carrier, f.number, f.service_date), kind, rig.clock(), **fields),
    )
    if applied.needs_fanout and applied.disruption_id is not None:
        await rig.c.jobs.disruption_recorded(applied.disruption_id)
        await rig.c.jobs.wait_idle()
    await desk.settle()
    return applied.updated


def _notes(desk: Desk, card_ts: str) -> list[str]:
    return [str(p["text"]) for p in desk.fake.posts(thread_ts=card_ts)]


async def test_an_update_refreshes_the_agents_card_and_leaves_one_note(desk: Desk) -> None:
    rig, fake = desk.rig, desk.fake
    held, waiting = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    await _tell(desk, 1, UpdateKind.DELAY, new_departure=rig.disrupted.dep_utc + dt.timedelta(hours=5))
    await rig.reply("sms", held, "agent")
    await desk.settle()
    await desk.agents.pump()
    [esc] = await rig.escalations(held)
    await desk.click("take", str(esc.id), user=SLACK_AGENT)
    await desk.settle()
    assert [p for p in fake.posts() if held.locator in str(p.get("blocks"))]
    [esc] = await rig.escalations(held)
    card_ts = str(esc.card_ts)
    before_options = [o.id for o in await rig.options(held)]
    shown = (await desk.http.get(f"/v1/escalations/{esc.id}", headers=API)).json()
    assert [o["option_id"] for o in shown["options"]] == before_options
    assert shown["disruption"]["kind"] == "delayed"
    heard = len(rig.inbox("sms", held))

    # Cancelled: the waiting passenger is told; the agent's passenger is re-planned silently.
    assert await _tell(desk, 2, UpdateKind.CANCELLATION) == 1
    assert "now cancelled" in rig.last("sms", waiting).text
    assert (await rig.conversation(held)).status == Status.AGENT
    after_options = [o.id for o in await rig.options(held)]
    assert after_options and not set(after_options) & set(before_options)
    assert len(rig.inbox("sms", held)) == heard
    report = await desk.agents.pump()
    assert report.notes == 1
    [note] = _notes(desk, card_ts)
    assert note.startswith("Flight update: flight now cancelled. The options were re-planned") and f"({len(after_options)} held)" in note
    # The card in Slack shows the new options (their rebook buttons carry the new option ids) ...
    refreshed = [c.body for c in fake.of("chat.update") if c.body.get("ts") == card_ts]
    # Button values "<escalation>:<option>", matched whole: option 5 is not option 51.
    shown_values = set(re.findall(rf"(?<!\d){esc.id}:(\d+)(?!\d)", str(refreshed[-1]["blocks"])))
    assert refreshed and {str(o) for o in after_options} <= shown_values
    assert not {str(o) for o in before_options} & shown_values
    # ... and so does the agent API.
    shown = (await desk.http.get(f"/v1/escalations/{esc.id}", headers=API)).json()
    assert [o["option_id"] for o in shown["options"]] == after_options
    assert {o["seat_status"] for o in shown["options"]} == {"held"}
    assert (shown["disruption"]["kind"], shown["passenger"]["conversation_status"]) == ("cancelled", "agent")

    # Another pump, the same update again: no second note.
    await desk.agents.pump()
    await _tell(desk, 2, UpdateKind.CANCELLATION)
    await desk.agents.pump()
    assert len(_notes(desk, card_ts)) == 1

    # Reinstated: the agent is told the passenger may keep the flight; the passenger still hears only the agent.
    await _tell(desk, 3, UpdateKind.REINSTATEMENT)
    await desk.agents.pump()
    assert _notes(desk, card_ts)[1:] == [
        "Flight update: the flight operates again; the passenger may keep their booking. Nothing was sent to them."
    ]
    assert len(rig.inbox("sms", held)) == heard
    assert fake.posts(thread_ts=card_ts)[0]["channel"] == ESC
