"""An agent takes a passenger over through the HTTP API alone: no Slack, Twilio's SDK against the Twilio fake."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_http_flow import DAY, SMS_PHONE, World, fakes, world  # noqa: F401  (fixtures)

MARIA = {"Rebook-Agent": "maria"}


async def _json(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_whole_takeover_through_http_only(world: World) -> None:  # noqa: F811  (the fixture)
    http, twilio = world.http, world.twilio
    cancelled = await http.post(
        "/v1/disruptions", json={"flight": {"carrier": "RB", "number": "100", "date": DAY.isoformat()}, "kind": "cancelled"}
    )
    assert cancelled.status_code == 202, cancelled.text
    await world.work()
    assert [r.form["To"] for r in twilio.requests] == [SMS_PHONE]
    assert await world.inventory("104") == {"sold": 0, "held": 3}

    # The passenger asks for a person by SMS (a signed Twilio webhook): an escalation, and nothing on any desk but the API.
    assert (await world.sms("SM" + "a" * 32, "AGENTE")).status_code == 200
    await world.work()
    page = await _json(await http.get("/v1/escalations", params={"status": "open", "reason": "passenger_request", "airport": "FRA"}))
    [item] = page["items"]
    assert page["next_cursor"] is None
    assert item["passenger"] == {
        "tier": item["tier"], "language": "es", "locator": "BBBBBB", "passengers": 2, "channel": "sms", "conversation_status": "escalated",
    }
    assert (item["flight"]["carrier"], item["flight"]["number"], item["disruption"]["kind"]) == ("RB", "100", "cancelled")
    assert item["owner"] is None and item["hold_expires_at"] is not None and item["missed_connection"] is False
    assert SMS_PHONE not in str(page) and "Lucía" not in str(page)
    eid = item["id"]
    told_before = len(twilio.requests)

    # Claimed: the agent owns it, and the passenger's next words reach the card, not the bot.
    claimed = await _json(await http.post(f"/v1/escalations/{eid}/claim", headers=MARIA))
    assert (claimed["status"], claimed["owner"], claimed["passenger"]["conversation_status"]) == ("claimed", "api:maria", "agent")
    assert (await world.sms("SM" + "b" * 32, "¿Hay algo por la tarde?")).status_code == 200
    await world.work()
    assert len(twilio.requests) == told_before
    card = await _json(await http.get(f"/v1/escalations/{eid}"))
    assert ("passenger", "¿Hay algo por la tarde?") in [(t["author"], t["text"]) for t in card["transcript"]]
    assert card["first_name"] == "Lucía" and SMS_PHONE not in str(card)
    by_flight = {o["flights"]: o for o in card["options"]}
    assert set(by_flight) == {"RB102", "RB104"} and {o["seat_status"] for o in card["options"]} == {"held"}

    # The reply goes out through the outbox on the passenger's channel, as written; the same key again sends nothing.
    text = "Sí: le reservo el vuelo de las 16:00."
    for _ in range(2):
        await _json(await http.post(f"/v1/escalations/{eid}/reply", json={"text": text}, headers={**MARIA, "Idempotency-Key": "r-1"}), 202)
        await world.work()
    assert [(r.form["To"], r.form["Body"]) for r in twilio.requests[told_before:]] == [(SMS_PHONE, text)]

    # Booking RB104 moves both passengers' seats once, however often it is asked.
    option = by_flight["RB104"]["option_id"]
    for _ in range(2):
        booked = await _json(await http.post(f"/v1/escalations/{eid}/book", json={"option_id": option}, headers=MARIA))
        await world.work()
    assert booked["passenger"]["conversation_status"] == "booked"
    assert await world.inventory("104") == {"sold": 2, "held": 1}
    assert await world.inventory("102") == {"sold": 0, "held": 1}
    confirmations = [r.form["Body"] for r in twilio.requests[told_before + 1 :]]
    assert len(confirmations) == 1 and "BBBBBB" in confirmations[0]

    # Closed: resolved as booked, the booking stays, and the case takes no more actions.
    closed = await _json(await http.post(f"/v1/escalations/{eid}/close", headers=MARIA))
    assert (closed["status"], closed["resolution"], closed["passenger"]["conversation_status"]) == ("resolved", "booked", "booked")
    resolved = await _json(await http.get("/v1/escalations", params={"status": "resolved", "owner": "api:maria"}))
    assert [e["id"] for e in resolved["items"]] == [eid]
    refused = await http.post(f"/v1/escalations/{eid}/voucher", headers=MARIA)
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert await world.inventory("104") == {"sold": 2, "held": 1}
