"""The agent API beside Slack: one queue, one owner per escalation, whichever desk acted; its refusals as problems."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from conversations.desk.models import AgentDecision
from conversations.engine import Status
from conversations.models import Escalation, OutboxMessage
from gateway.http.problems import PROBLEM_JSON
from rebooking_core.models import Segment
from tests.conversations.conftest import Pax, Rig
from tests.e2e.desk.conftest import Desk, escalate

SLACK_AGENT = "UAGENT1"
ALICE = {"Authorization": "Bearer k-agent", "Rebook-Agent": "alice"}
BOB = {"Authorization": "Bearer k-agent", "Rebook-Agent": "bob"}


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any]) -> dict[str, Any]:
    """Slack as the desk tests set it, and keys: an agent desk's, an ops system's, a feeds system's."""
    return {**settings_overrides, "ops_api_keys": "k-agent:agents,k-ops:ops,k-feeds:feeds"}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def post(desk: Desk, escalation_id: int, action: str, who: dict[str, str] = ALICE, **kw: Any) -> httpx.Response:
    headers = {**who, **kw.pop("headers", {})}
    return await desk.http.post(f"/v1/escalations/{escalation_id}/{action}", headers=headers, **kw)


async def sold(rig: Rig, flight_id: int) -> int:
    async with rig.c.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(Segment).where(Segment.flight_id == flight_id, Segment.status == "HK")) or 0)


async def test_slack_and_the_api_share_one_disruption_with_one_owner_each(desk: Desk) -> None:
    rig, fake = desk.rig, desk.fake
    a, b = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    await escalate(desk, a, b, channel="sms")
    await desk.agents.pump()
    [esc_a], [esc_b] = await rig.escalations(a), await rig.escalations(b)
    assert esc_a.disruption_id == esc_b.disruption_id

    # Slack takes A.
    await desk.click("take", str(esc_a.id), user=SLACK_AGENT)
    await desk.settle()

    # The API sees A taken by the Slack agent and B waiting.
    listed = await desk.http.get("/v1/escalations", params={"disruption_id": esc_a.disruption_id}, headers=ALICE)
    assert listed.status_code == 200, listed.text
    by_id = {e["id"]: e for e in listed.json()["items"]}
    assert (by_id[esc_a.id]["status"], by_id[esc_a.id]["owner"]) == ("claimed", SLACK_AGENT)
    assert (by_id[esc_b.id]["status"], by_id[esc_b.id]["owner"]) == ("open", None)

    # The API claims B; A is not the API's to take.
    claimed = await post(desk, esc_b.id, "claim")
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status"], claimed.json()["owner"]) == ("claimed", "api:alice")
    assert (await rig.conversation(b)).status == Status.AGENT
    refused = problem(await post(desk, esc_a.id, "claim"), 409)
    assert refused["detail"] == f"escalation {esc_a.id} is owned by {SLACK_AGENT}"
    problem(await post(desk, esc_b.id, "claim", BOB), 409)

    # Slack sees B as taken: its card is posted with the API agent as owner, and a Slack take is refused.
    await desk.settle()
    await desk.agents.pump()
    card_b = next(p for p in fake.posts() if b.locator in str(p.get("blocks")))
    assert "api:alice" in str(card_b["blocks"])
    await desk.click("take", str(esc_b.id), user=SLACK_AGENT)
    await desk.settle()
    assert fake.responses[-1]["text"] == "api:alice already owns this passenger."

    # Neither desk can act for the other's passenger.
    before_a, before_b = len(rig.inbox("sms", a)), len(rig.inbox("sms", b))
    problem(await post(desk, esc_a.id, "refund"), 409)
    problem(await post(desk, esc_a.id, "reply", json={"text": "hello"}, headers={"Idempotency-Key": "x1"}), 409)
    await desk.click("voucher", str(esc_b.id), user=SLACK_AGENT)
    await desk.settle()
    assert (len(rig.inbox("sms", a)), len(rig.inbox("sms", b))) == (before_a, before_b)

    # Each books its own passenger, each seat once; the queue card counts both as taken.
    option_a, option_b = (await rig.options(a))[0], (await rig.options(b))[1]
    sold_before = {f: await sold(rig, f) for f in {option_a.flight_ids[0], option_b.flight_ids[0]}}
    await desk.click("rebook_1", f"{esc_a.id}:{option_a.id}", user=SLACK_AGENT)
    booked = await post(desk, esc_b.id, "book", json={"option_id": option_b.id})
    assert booked.status_code == 200, booked.text
    await desk.settle()
    assert (await rig.conversation(a)).booked_option_id == option_a.id
    assert (await rig.conversation(b)).booked_option_id == option_b.id
    expected = dict(sold_before)
    expected[option_a.flight_ids[0]] += 1
    expected[option_b.flight_ids[0]] += 1
    assert {f: await sold(rig, f) for f in expected} == expected
    desk.rig.clock.advance(seconds=10)
    await desk.agents.pump()
    queue = [c.body for c in fake.of("chat.update") if "Waiting" in str(c.body.get("blocks"))]
    assert queue and "*Taken*\\n2" in str(queue[-1]["blocks"])

    # Slack returns A to the bot; the API closes B. Both resolved, each by its own agent.
    await desk.click("release", str(esc_a.id), user=SLACK_AGENT)
    closed = await post(desk, esc_b.id, "close")
    assert closed.status_code == 200, closed.text
    await desk.settle()
    [esc_a], [esc_b] = await rig.escalations(a), await rig.escalations(b)
    assert (esc_a.status, esc_a.agent, esc_a.resolution) == ("resolved", SLACK_AGENT, "booked")
    assert (esc_b.status, esc_b.agent, esc_b.resolution) == ("resolved", "api:alice", "booked")


async def claimed_by_alice(desk: Desk, *also: Pax) -> tuple[Pax, int]:
    """A passenger (on SMS) who asked for an agent, claimed by alice through the API; `also` escalate with them."""
    rig = desk.rig
    pax = await rig.add_pax(("sms",))
    await escalate(desk, pax, *also, channel="sms")
    [esc] = await rig.escalations(pax)
    assert (await post(desk, esc.id, "claim")).status_code == 200
    return pax, esc.id


async def test_retried_actions_send_and_book_once(desk: Desk) -> None:
    rig = desk.rig
    pax, eid = await claimed_by_alice(desk)
    assert (await post(desk, eid, "claim")).status_code == 200

    before = len(rig.inbox("sms", pax))
    replayed = []
    for key in ("m-1", "m-1", "m-2"):
        answer = await post(desk, eid, "reply", json={"text": "Looking at the evening flight."}, headers={"Idempotency-Key": key})
        assert answer.status_code == 202, answer.text
        replayed.append(answer.headers.get("Idempotent-Replayed"))
    assert replayed == [None, "true", None]
    problem(await post(desk, eid, "reply", json={"text": "Something else."}, headers={"Idempotency-Key": "m-1"}), 422)
    await rig.c.dispatcher.drain()
    assert [m.text for m in rig.inbox("sms", pax)[before:]] == ["Looking at the evening flight."] * 2

    for _ in range(2):
        assert (await post(desk, eid, "refund")).status_code == 200
        assert (await post(desk, eid, "voucher")).status_code == 200
    option = (await rig.options(pax))[1]
    was = await sold(rig, option.flight_ids[0])
    for _ in range(2):
        answer = await post(desk, eid, "book", json={"option_id": option.id})
        assert answer.status_code == 200, answer.text
    card = answer.json()
    assert [o["seat_status"] for o in card["options"] if o["option_id"] == option.id] == ["booked"]
    assert await sold(rig, option.flight_ids[0]) == was + 1
    other = (await rig.options(pax))[0]
    assert "already booked" in problem(await post(desk, eid, "book", json={"option_id": other.id}), 409)["detail"]
    await rig.c.dispatcher.drain()
    texts = [m.text for m in rig.inbox("sms", pax)[before:]]  # the first offer's notice of rights names a refund too
    assert sum("refund" in t for t in texts) == 1 and sum("voucher" in t for t in texts) == 1
    async with rig.c.db.reading() as s:
        kinds = sorted((await s.scalars(select(AgentDecision.kind).where(AgentDecision.escalation_id == eid))).all())
        told = (await s.scalars(select(OutboxMessage.key).where(OutboxMessage.conversation_id == (await rig.conversation(pax)).id))).all()
    assert kinds == ["rebook", "refund", "voucher"]
    assert list(told).count("booked") == 1

    for _ in range(2):
        answer = await post(desk, eid, "release")
        assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["resolution"]) == ("resolved", "refunded")
    assert "already resolved" in problem(await post(desk, eid, "voucher"), 409)["detail"]


async def test_closing_ends_the_case_and_gives_the_held_seats_back(desk: Desk) -> None:
    rig = desk.rig
    pax, eid = await claimed_by_alice(desk)
    held_before = sum(held for _, held in (await rig.inventory()).values())
    assert held_before > 0
    for _ in range(2):
        answer = await post(desk, eid, "close")
        assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["resolution"]) == ("resolved", "closed")
    assert (await rig.conversation(pax)).status == Status.CLOSED
    assert sum(held for _, held in (await rig.inventory()).values()) == 0
    # Closed means closed: no release, no second claim, nothing more to the passenger.
    assert "already resolved (closed)" in problem(await post(desk, eid, "release"), 409)["detail"]
    problem(await post(desk, eid, "claim"), 409)
    problem(await post(desk, eid, "reply", json={"text": "hi"}, headers={"Idempotency-Key": "late"}), 409)


async def test_the_card_shows_options_and_transcript_but_no_contact(desk: Desk) -> None:
    rig = desk.rig
    pax, eid = await claimed_by_alice(desk)
    await rig.reply("sms", pax, "Is there anything this evening?")
    card = await desk.http.get(f"/v1/escalations/{eid}", headers=ALICE)
    assert card.status_code == 200, card.text
    body = card.json()
    assert body["passenger"]["locator"] == pax.locator and body["first_name"] == "Given0"
    assert [o["number"] for o in body["options"]] == [1, 2, 3] and {o["seat_status"] for o in body["options"]} == {"held"}
    assert body["hold_expires_at"] is not None
    assert ("passenger", "Is there anything this evening?") in [(t["author"], t["text"]) for t in body["transcript"]]
    assert pax.phone not in card.text and "Family" not in card.text
    listed = (await desk.http.get("/v1/escalations", headers=ALICE)).json()["items"]
    assert pax.phone not in str(listed) and "Given0" not in str(listed)
    summary = next(e for e in listed if e["id"] == eid)
    assert summary["flight"]["number"] == rig.disrupted.number and summary["airport"] == "FRA"
    assert summary["hold_expires_at"] == body["hold_expires_at"]


async def test_filters_and_pages_walk_the_queue_in_priority_order(desk: Desk) -> None:
    rig = desk.rig
    people = [await rig.add_pax(("sms",)) for _ in range(5)]
    await escalate(desk, *people, channel="sms")
    ids = [(await rig.escalations(p))[0].id for p in people]
    async with rig.c.db.transaction() as s:
        for eid, tier in zip(ids, (0, 3, 1, 3, 0), strict=True):
            (await s.get(Escalation, eid)).tier = tier  # type: ignore[union-attr]
    assert (await post(desk, ids[2], "claim")).status_code == 200

    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await desk.http.get("/v1/escalations", params=params, headers=ALICE)).json()
        seen += [(e["id"], e["tier"]) for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i for i, _ in seen] == [ids[1], ids[3], ids[2], ids[0], ids[4]]

    async def listed(**params: Any) -> list[int]:
        answer = await desk.http.get("/v1/escalations", params=params, headers=ALICE)
        assert answer.status_code == 200, answer.text
        return [e["id"] for e in answer.json()["items"]]

    assert await listed(status="claimed") == [ids[2]]
    assert await listed(owner="api:alice") == [ids[2]]
    assert await listed(tier=3) == [ids[1], ids[3]]
    assert await listed(status="open", tier=0) == [ids[0], ids[4]]
    assert await listed(reason="passenger_request", airport="FRA") == [ids[1], ids[3], ids[2], ids[0], ids[4]]
    assert await listed(airport="MAD") == [] and await listed(reason="deadline") == []
    for bad in ({"status": "lost"}, {"airport": "fra"}, {"tier": -1}, {"cursor": "bm90IGEgY3Vyc29y"}, {"limit": 201}):
        problem(await desk.http.get("/v1/escalations", params=bad, headers=ALICE), 422)


async def test_keys_agents_and_bad_input_are_refused_as_problems(desk: Desk) -> None:
    rig = desk.rig
    other = await rig.add_pax(("sms",))
    pax, eid = await claimed_by_alice(desk, other)
    # Reading needs `ops` or `agents`; acting needs `agents` and an agent's name.
    assert (await desk.http.get("/v1/escalations", headers={"Authorization": "Bearer k-ops"})).status_code == 200
    assert (await desk.http.get(f"/v1/escalations/{eid}", headers={"Authorization": "Bearer k-ops"})).status_code == 200
    problem(await desk.http.get("/v1/escalations", headers={"Authorization": "Bearer k-feeds"}), 403)
    problem(await desk.http.get("/v1/escalations"), 401)
    problem(await post(desk, eid, "refund", {"Authorization": "Bearer k-ops", "Rebook-Agent": "alice"}), 403)
    problem(await post(desk, eid, "refund", {"Authorization": "Bearer nope", "Rebook-Agent": "alice"}), 401)
    missing = problem(await post(desk, eid, "refund", {"Authorization": "Bearer k-agent"}), 422)
    assert missing["errors"][0]["loc"] == ["header", "rebook-agent"]
    for name in ("ali ce", "alice@example.com", "x" * 61, ""):
        problem(await post(desk, eid, "refund", {"Authorization": "Bearer k-agent", "Rebook-Agent": name}), 422)
    # 404 for what does not exist, 422 for an option that is not the passenger's, a reply without a key or text.
    assert problem(await post(desk, 10**9, "claim"), 404)["detail"] == f"no escalation {10**9}"
    problem(await desk.http.get(f"/v1/escalations/{10**9}", headers=ALICE), 404)
    problem(await post(desk, eid, "book", json={"option_id": 10**9}), 422)
    problem(await post(desk, eid, "book", json={}), 422)
    problem(await post(desk, eid, "reply", json={"text": "hi"}), 422)
    problem(await post(desk, eid, "reply", json={"text": ""}, headers={"Idempotency-Key": "k"}), 422)
    problem(await post(desk, eid, "reply", json={"text": "x" * 1025}, headers={"Idempotency-Key": "k"}), 422)
    # None of that reached the passenger or the outbox beyond the claim.
    async with rig.c.db.reading() as s:
        rows = (await s.scalars(select(OutboxMessage.key).where(OutboxMessage.conversation_id == (await rig.conversation(pax)).id))).all()
    assert not any(k.startswith("agent_") for k in rows)
    # An action before a claim says to claim first.
    [waiting] = await rig.escalations(other)
    assert "claim it first" in problem(await post(desk, waiting.id, "voucher"), 409)["detail"]


async def test_slack_closes_a_case_the_api_then_sees_closed(desk: Desk) -> None:
    rig, fake = desk.rig, desk.fake
    pax = await rig.add_pax(("sms",))
    await escalate(desk, pax, channel="sms")
    await desk.agents.pump()
    [esc] = await rig.escalations(pax)
    await desk.click("take", str(esc.id), user=SLACK_AGENT)
    await desk.settle()
    [esc] = await rig.escalations(pax)
    card = next(p for p in fake.posts() if pax.locator in str(p.get("blocks")))
    assert "Close case" in str(card["blocks"])

    await desk.click("close", str(esc.id), user="UAGENT2")
    await desk.settle()
    assert fake.responses[-1]["text"] == f"<@{SLACK_AGENT}> already owns this passenger."
    await desk.click("close", str(esc.id), user=SLACK_AGENT)
    await desk.settle()

    assert (await rig.conversation(pax)).status == Status.CLOSED
    seen = (await desk.http.get(f"/v1/escalations/{esc.id}", headers=ALICE)).json()
    assert (seen["status"], seen["resolution"], seen["owner"]) == ("resolved", "closed", SLACK_AGENT)
    assert all(o["seat_status"] != "held" for o in seen["options"])
    detail = problem(await post(desk, esc.id, "claim"), 409)["detail"]
    assert detail == f"escalation {esc.id} is already resolved (closed) by {SLACK_AGENT}"
    updates = [c.body for c in fake.of("chat.update") if c.body["ts"] == esc.card_ts]
    assert updates and "resolved (closed)" in str(updates[-1]["blocks"]) and "Close case" not in str(updates[-1]["blocks"])
