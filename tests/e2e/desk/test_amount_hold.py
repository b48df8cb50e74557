"""Issue #21.4: an agent's free text naming an amount other than the rights engine's is held until the agent confirms.

Through the agent API (409 problem with the confirm link) and Slack (a note in the passenger's thread,
"confirm" in the thread), on both databases: a held reply is not sent, a confirmed one is sent once,
a reply whose amount is the engine's goes out at once, and every check is kept as the audit.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from conversations.desk.models import AmountCheck
from conversations.engine import MessageKind
from gateway.http.problems import PROBLEM_JSON
from rebooking_core.models import Claim
from tests.conversations.conftest import Pax, Rig
from tests.e2e.desk.conftest import Desk, escalate

AGENT = "UAGENT1"
ALICE = {"Authorization": "Bearer k-agent", "Rebook-Agent": "alice"}


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any]) -> dict[str, Any]:
    return {**settings_overrides, "ops_api_keys": "k-agent:agents"}


async def post(desk: Desk, path: str, key: str | None = None, **kw: Any) -> httpx.Response:
    headers = {**ALICE, **({"Idempotency-Key": key} if key else {})}
    return await desk.http.post(path, headers=headers, **kw)


async def engine_amount(rig: Rig, who: Pax) -> tuple[int, str]:
    async with rig.c.db.reading() as s:
        claim = (await s.scalars(select(Claim).where(Claim.passenger_id == who.passenger_id))).one()
    assert claim.status == "owed" and claim.amount > 0, (
        "a cancellation with no reason is the carrier's risk: compensation owed"
    )
    return claim.amount, claim.currency


async def agent_texts(rig: Rig, who: Pax) -> list[str]:
    """What reached the passenger from the agent (the sandbox SMS inbox), in order."""
    await rig.c.dispatcher.drain()
    rows = [r for r in await rig.outbox(who) if r.key == MessageKind.AGENT_TEXT.value]
    return [m.text for m in rig.inbox("sms", who)][-len(rows) :] if rows else []


async def checks(rig: Rig) -> list[tuple[str, str, int | None]]:
    async with rig.c.db.reading() as s:
        rows = await s.scalars(select(AmountCheck).order_by(AmountCheck.id))
        return [(c.status, c.named, c.engine_amount) for c in rows]


async def test_the_api_holds_a_reply_with_another_amount_and_sends_it_once_confirmed(
    desk: Desk,
) -> None:
    rig = desk.rig
    pax = await rig.add_pax(("sms",))
    await escalate(desk, pax, channel="sms")
    [esc] = await rig.escalations(pax)
    assert (await post(desk, f"/v1/escalations/{esc.id}/claim")).status_code == 200
    amount, currency = await engine_amount(rig, pax)
    symbol = {"EUR": "€", "GBP": "£"}[currency]

    # The engine's own amount: sent as today.
    same = f"Your compensation is {symbol}{amount}."
    assert (
        await post(desk, f"/v1/escalations/{esc.id}/reply", "r-1", json={"text": same})
    ).status_code == 202
    assert await agent_texts(rig, pax) == [same]

    # Another amount: held, not sent; the agent is told why and where to confirm.
    promise = f"We will pay you {amount + 350} {currency} today."
    held = await post(desk, f"/v1/escalations/{esc.id}/reply", "r-2", json={"text": promise})
    assert held.status_code == 409 and held.headers["content-type"] == PROBLEM_JSON, held.text
    confirm = held.headers["Location"]
    assert confirm in held.json()["detail"] and "held, not sent" in held.json()["detail"]
    assert await agent_texts(rig, pax) == [same]
    assert await checks(rig) == [
        ("matched", f"{currency} {amount}", amount),
        ("held", f"{currency} {amount + 350}", amount),
    ]

    # Confirmed: sent once, as written; a second confirmation finds nothing held.
    assert (await post(desk, confirm, "c-1")).status_code == 202
    assert (await post(desk, confirm, "c-2")).status_code == 404
    assert await agent_texts(rig, pax) == [same, promise]
    assert [c[0] for c in await checks(rig)] == ["matched", "confirmed"]

    # Text without any amount is not checked at all.
    plain = "Looking at the evening flight."
    assert (
        await post(desk, f"/v1/escalations/{esc.id}/reply", "r-3", json={"text": plain})
    ).status_code == 202
    assert await agent_texts(rig, pax) == [same, promise, plain]
    assert len(await checks(rig)) == 2


async def test_an_amount_when_the_engine_owes_none_is_held(desk: Desk) -> None:
    rig = desk.rig
    pax = await rig.add_pax(("sms",))
    await escalate(desk, pax, channel="sms")
    [esc] = await rig.escalations(pax)
    async with (
        rig.c.db.transaction() as s
    ):  # the engine found nothing owed (e.g. extraordinary circumstances)
        claim = (await s.scalars(select(Claim).where(Claim.passenger_id == pax.passenger_id))).one()
        claim.status, claim.amount = "not_owed", 0
    assert (await post(desk, f"/v1/escalations/{esc.id}/claim")).status_code == 200
    held = await post(
        desk, f"/v1/escalations/{esc.id}/reply", "r-1", json={"text": "You get €250 for this."}
    )
    assert held.status_code == 409
    assert await agent_texts(rig, pax) == []
    assert await checks(rig) == [("held", "EUR 250", None)]


async def test_slack_holds_a_thread_reply_notes_why_and_confirm_sends_it_once(desk: Desk) -> None:
    rig = desk.rig
    pax = await rig.add_pax(("sms",))
    await escalate(desk, pax, channel="sms")
    await desk.agents.pump()
    conv = await rig.conversation(pax)
    assert (await desk.click("take_next", str(conv.disruption_id), user=AGENT)).status_code == 200
    await desk.settle()
    [esc] = await rig.escalations(pax)
    assert esc.card_ts is not None
    amount, currency = await engine_amount(rig, pax)

    promise = f"You will get {amount * 2}€ in compensation."
    assert (await desk.reply_in_thread(esc.card_ts, promise, user=AGENT)).status_code == 200
    await desk.settle()
    assert await agent_texts(rig, pax) == []
    await desk.agents.pump()
    notes = [
        p["text"] for p in desk.fake.posts(thread_ts=esc.card_ts) if "Not sent" in p.get("text", "")
    ]
    assert notes == [
        f"Not sent: your reply names EUR {amount * 2}, but the rights engine computed {currency} {amount} for this "
        "passenger. Reply confirm in this thread to send it as written."
    ]

    # Another agent's "confirm" does nothing; the owner's sends it, once.
    for user, text in (("UOTHER", "confirm"), (AGENT, "Confirm"), (AGENT, "confirm")):
        assert (await desk.reply_in_thread(esc.card_ts, text, user=user)).status_code == 200
        await desk.settle()
    assert await agent_texts(rig, pax) == [promise]
    assert await checks(rig) == [("confirmed", f"EUR {amount * 2}", amount)]
