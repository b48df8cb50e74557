"""The ops API through the app as wired by `build()`, on SQLite and PostgreSQL, with the sandbox channels."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import func, select

from channels.sandbox import SandboxMessage
from conversations.models import Conversation, Escalation, OutboxMessage
from rebooking_core.models import Disruption, Flight, SeatHold
from tests.gateway.conftest import DAY, FlightId, Gateway, World, running
from tests.gateway.http.pages import every

STATE_COUNTERS = ("pending", "offered", "booked", "escalated", "opted_out")


async def count(g: Gateway, model: Any) -> int:
    async with g.container.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def party(g: Gateway, message: SandboxMessage) -> int:
    """Passengers on the booking whose contact got this message."""
    for booking in g.world.bookings:
        if any(c.address == message.to for c in booking.passengers[0].contacts):
            return len(booking.passengers)
    raise LookupError("message to a number that is in no booking")


def path(flight: FlightId) -> str:
    carrier, number, date = flight
    return f"/v1/flights/{carrier}/{number}/{date.isoformat()}/inventory"


async def cancelled(g: Gateway) -> int:
    response = await g.disrupt(g.world.target, idempotency_key="storm-1")
    assert response.status_code == 202, response.text
    await g.settle()
    return int(response.json()["id"])


async def status_of(g: Gateway, disruption_id: int) -> dict[str, Any]:
    response = await g.client.get(f"/v1/disruptions/{disruption_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sms_offers(g: Gateway) -> list[SandboxMessage]:
    return [m for m in g.sandbox.messages if m.channel == "sms" and m.tokens]


# --- authentication -------------------------------------------------------------------------


PROTECTED = (
    ("POST", "/v1/disruptions"),
    ("GET", "/v1/disruptions/1"),
    ("GET", f"/v1/flights?date={DAY.isoformat()}"),
    ("GET", f"/v1/flights/RB/1/{DAY.isoformat()}/inventory"),
    ("GET", "/v1/escalations"),
)


async def test_every_ops_route_refuses_a_missing_or_wrong_key(gateway: Gateway) -> None:
    gateway.client.headers.pop("Authorization")
    carrier, number, date = gateway.world.target
    body = {"flight": {"carrier": carrier, "number": number, "date": date.isoformat()}, "kind": "cancelled"}
    for headers in ({}, {"Authorization": "Bearer k-wrong"}, {"Authorization": "Bearer "}, {"Authorization": "Basic azp0ZXN0"}):
        for method, url in PROTECTED:
            response = await gateway.client.request(method, url, headers=headers, json=body if method == "POST" else None)
            assert response.status_code == 401, (headers, url)
            assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await count(gateway, Disruption) == 0
    assert gateway.sandbox.messages == []


async def test_any_key_of_a_comma_separated_list_is_accepted(db_url: str, world: World) -> None:
    async with running(db_url, world, load=False, ops_api_keys=" k-old , k-new ") as g:
        for key, expected in (("k-old", 200), ("k-new", 200), ("k-old , k-new", 401), ("k-old,", 401), ("k-ol", 401)):
            response = await g.client.get("/v1/escalations", headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == expected, key


# --- recording a disruption --------------------------------------------------------------------


async def test_a_cancellation_is_accepted_and_offers_go_out(gateway: Gateway) -> None:
    response = await gateway.disrupt(gateway.world.target, reason="TECH")
    assert response.status_code == 202
    body = response.json()
    assert body["created"] is True
    assert isinstance(body["id"], int)

    await gateway.settle()
    status = await status_of(gateway, body["id"])
    assert status["kind"] == "cancelled"
    assert status["reason"] == "TECH"
    assert status["impacted"] == gateway.world.passengers_on(gateway.world.target)
    assert status["bookings"] == gateway.world.bookings_on(gateway.world.target)
    assert status["pending"] == 0
    assert status["offered"] > 0
    assert status["notified"] == status["offered"]
    assert status["impacted"] == sum(status[k] for k in STATE_COUNTERS)
    first_wave = [m.to for m in gateway.sandbox.messages]
    assert len(first_wave) == len(set(first_wave)) > 0


async def test_the_same_idempotency_key_names_the_same_disruption_and_sends_no_second_wave(gateway: Gateway) -> None:
    first = await gateway.disrupt(gateway.world.target, idempotency_key="storm-1")
    await gateway.settle()
    outbox, sent, conversations = await count(gateway, OutboxMessage), len(gateway.sandbox.messages), await count(gateway, Conversation)
    assert first.json()["created"] is True
    assert outbox > 0

    again = await gateway.disrupt(gateway.world.target, idempotency_key="storm-1")
    await gateway.settle()

    assert again.status_code == 202
    assert again.json() == {"id": first.json()["id"], "created": False}
    assert await count(gateway, OutboxMessage) == outbox
    assert await count(gateway, Conversation) == conversations
    assert len(gateway.sandbox.messages) == sent
    assert await count(gateway, Disruption) == 1


async def test_concurrent_posts_with_one_key_create_one_disruption(gateway: Gateway) -> None:
    responses = await asyncio.gather(*(gateway.disrupt(gateway.world.target, idempotency_key="dup") for _ in range(4)))
    await gateway.settle()

    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.json()["created"] for r in responses) == 1
    assert await count(gateway, Disruption) == 1
    assert await count(gateway, Conversation) == gateway.world.bookings_on(gateway.world.target)


async def test_an_unknown_flight_is_404_with_the_flight_named(gateway: Gateway) -> None:
    response = await gateway.disrupt(("RB", "9999", DAY))
    assert response.status_code == 404
    assert response.json()["detail"] == f"no flight RB9999 on {DAY.isoformat()}"
    assert await count(gateway, Disruption) == 0


async def test_a_delay_without_new_departure_is_422_and_changes_nothing(gateway: Gateway) -> None:
    response = await gateway.disrupt(gateway.world.target, kind="delayed")
    assert response.status_code == 422
    assert "new_departure" in response.json()["detail"]
    assert await count(gateway, Disruption) == 0
    flights = await every(gateway.client, "/v1/flights", date=DAY.isoformat())
    target = next(f for f in flights if f["number"] == gateway.world.target[1])
    assert target["status"] == "scheduled"


MALFORMED: tuple[dict[str, Any], ...] = (
    {"kind": "delayed", "new_departure": "2030-01-01T10:00:00"},
    {"kind": "diverted"},
    {"kind": "cancelled", "flight": {"carrier": "rb", "number": "211", "date": DAY.isoformat()}},
    {"kind": "cancelled", "flight": {"carrier": "RB", "number": "12345", "date": DAY.isoformat()}},
    {"kind": "cancelled", "reason": "WAY-TOO-LONG"},
    {"kind": "cancelled", "idempotency_key": "k" * 129},
)


async def test_malformed_disruptions_are_422_and_record_nothing(gateway: Gateway) -> None:
    carrier, number, date = gateway.world.target
    for body in MALFORMED:
        payload = {"flight": {"carrier": carrier, "number": number, "date": date.isoformat()}, **body}
        response = await gateway.client.post("/v1/disruptions", json=payload)
        assert response.status_code == 422, body
    assert await count(gateway, Disruption) == 0


async def test_a_delay_moves_the_estimated_departure(gateway: Gateway) -> None:
    carrier, number, date = gateway.world.target
    before = next(
        f for f in await every(gateway.client, "/v1/flights", date=date.isoformat()) if f["number"] == number
    )
    new_departure = dt.datetime.fromisoformat(before["departure"]) + dt.timedelta(hours=5)
    response = await gateway.disrupt(gateway.world.target, kind="delayed", new_departure=new_departure.isoformat())
    assert response.status_code == 202
    after = next(
        f for f in await every(gateway.client, "/v1/flights", date=date.isoformat()) if f["number"] == number
    )
    assert after["status"] == "delayed"
    assert dt.datetime.fromisoformat(after["estimated_departure"]) == new_departure


# --- status, flights, inventory, escalations ---------------------------------------------------


async def test_disruption_counters_partition_the_impacted_passengers(gateway: Gateway) -> None:
    disruption_id = await cancelled(gateway)
    status = await status_of(gateway, disruption_id)
    assert status["impacted"] == sum(status[k] for k in STATE_COUNTERS)
    base_escalated = status["escalated"]

    chooser, asker, leaver, changes_mind = sms_offers(gateway)[:4]
    await gateway.say(chooser, "1")
    await gateway.say(asker, "AGENT")
    await gateway.say(leaver, "STOP")
    await gateway.say(changes_mind, "AGENT")
    await gateway.say(changes_mind, "1")

    status = await status_of(gateway, disruption_id)
    assert status["booked"] == party(gateway, chooser) + party(gateway, changes_mind)
    assert status["accepted"] == status["booked"]
    assert status["opted_out"] == party(gateway, leaver)
    assert status["escalated"] == base_escalated + party(gateway, asker)
    assert status["impacted"] == sum(status[k] for k in STATE_COUNTERS)


async def test_unknown_disruption_is_404(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/disruptions/424242")
    assert response.status_code == 404
    assert response.json()["detail"] == "no disruption 424242"


async def test_flights_of_a_day_list_their_booked_passengers(gateway: Gateway) -> None:
    flights = await every(gateway.client, "/v1/flights", date=DAY.isoformat())
    assert len(flights) == sum(1 for r in gateway.world.schedule if r.date == DAY)
    assert [f["departure"] for f in flights] == sorted(f["departure"] for f in flights)
    by_number = {f["number"]: f for f in flights}
    for flight in (gateway.world.target, gateway.world.other):
        assert by_number[flight[1]]["booked_passengers"] == gateway.world.passengers_on(flight)
        assert by_number[flight[1]]["booked_passengers"] > 0

    empty = await gateway.client.get("/v1/flights", params={"date": (DAY - dt.timedelta(days=400)).isoformat()})
    assert empty.json() == {"items": [], "next_cursor": None}
    assert (await gateway.client.get("/v1/flights", params={"date": "tomorrow"})).status_code == 422


async def held_by_ledger(g: Gateway) -> dict[tuple[FlightId, str], int]:
    """Seats the hold rows say are held, per flight and cabin."""
    async with g.container.db.reading() as s:
        rows = (
            await s.execute(
                select(Flight.carrier, Flight.number, Flight.service_date, SeatHold.cabin, func.sum(SeatHold.seats))
                .join(Flight, Flight.id == SeatHold.flight_id)
                .where(SeatHold.status == "held")
                .group_by(Flight.carrier, Flight.number, Flight.service_date, SeatHold.cabin)
            )
        ).all()
    return {((c, n, d), cabin): int(seats) for c, n, d, cabin, seats in rows}


async def cabins(g: Gateway, flight: FlightId) -> dict[str, dict[str, int]]:
    response = await g.client.get(path(flight))
    assert response.status_code == 200, response.text
    return {c["cabin"]: c for c in response.json()["cabins"]}


async def test_inventory_shows_held_seats_after_offers_and_sold_seats_after_a_choice(gateway: Gateway) -> None:
    before_target = (await gateway.client.get(path(gateway.world.target))).json()
    await cancelled(gateway)

    ledger = await held_by_ledger(gateway)
    assert ledger
    for (flight, cabin), seats in ledger.items():
        row = (await cabins(gateway, flight))[cabin]
        assert row["held"] == seats > 0
        assert row["available"] == row["capacity"] - row["sold"] - row["held"]

    chooser = sms_offers(gateway)[0]
    seats = party(gateway, chooser)
    flights = {flight for flight, _ in ledger}
    sold_before = {f: sum(c["sold"] for c in (await cabins(gateway, f)).values()) for f in flights}
    await gateway.say(chooser, "1")

    sold_after = {f: sum(c["sold"] for c in (await cabins(gateway, f)).values()) for f in flights}
    gained = {f: sold_after[f] - sold_before[f] for f in flights if sold_after[f] != sold_before[f]}
    assert gained and set(gained.values()) == {seats}
    for (flight, cabin), held in (await held_by_ledger(gateway)).items():
        assert (await cabins(gateway, flight))[cabin]["held"] == held

    after_target = (await gateway.client.get(path(gateway.world.target))).json()
    assert after_target["status"] == "cancelled"
    assert after_target["segments_confirmed"] == before_target["segments_confirmed"] - 1
    sold = {c["cabin"]: c["sold"] for c in after_target["cabins"]}
    was = {c["cabin"]: c["sold"] for c in before_target["cabins"]}
    assert sum(was.values()) - sum(sold.values()) == seats


async def test_inventory_of_an_unknown_flight_is_404(gateway: Gateway) -> None:
    response = await gateway.client.get(path(("RB", "9999", DAY)))
    assert response.status_code == 404
    assert response.json()["detail"] == f"no flight RB9999 on {DAY.isoformat()}"


async def test_escalations_list_the_passengers_waiting_for_an_agent(gateway: Gateway) -> None:
    assert (await gateway.client.get("/v1/escalations")).json() == {"items": [], "next_cursor": None}
    disruption_id = await cancelled(gateway)
    first, second = sms_offers(gateway)[:2]
    await gateway.say(first, "AGENT")
    await gateway.say(second, "AGENT")

    rows = await every(gateway.client, "/v1/escalations", disruption_id=disruption_id)
    async with gateway.container.db.reading() as s:
        asked = set(
            (
                await s.scalars(
                    select(Conversation.id).where(Conversation.status == "escalated", Conversation.escalation_reason == "passenger_request")
                )
            ).all()
        )
    assert len(asked) == 2
    assert {r["conversation_id"] for r in rows if r["reason"] == "passenger_request"} == asked
    assert len(rows) == await count(gateway, Escalation)
    assert {r["disruption_id"] for r in rows} == {disruption_id}
    assert all(r["status"] == "open" for r in rows)
    tiers = [r["tier"] for r in rows]
    assert tiers == sorted(tiers, reverse=True)

    first_page = (await gateway.client.get("/v1/escalations", params={"limit": 1})).json()
    assert len(first_page["items"]) == 1 and first_page["next_cursor"] is not None
    assert (await gateway.client.get("/v1/escalations", params={"disruption_id": disruption_id + 1})).json()["items"] == []
    assert (await gateway.client.get("/v1/escalations", params={"limit": 0})).status_code == 422
