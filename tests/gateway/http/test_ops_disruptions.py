"""Disruptions as resources (#16): a flight's second event updates its live disruption, several flights make one, lists filter and page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from conversations.models import Conversation, OutboxMessage
from rebooking_core.models import Disruption
from tests.gateway.conftest import Gateway
from tests.gateway.http.pages import every


async def count(g: Gateway, model: Any) -> int:
    async with g.container.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def departure(g: Gateway, number: str, date: dt.date) -> dt.datetime:
    flights = await every(g.client, "/v1/flights", date=date.isoformat())
    return dt.datetime.fromisoformat(next(f for f in flights if f["number"] == number)["departure"])


async def test_a_second_event_for_a_flight_updates_its_disruption_and_messages_each_passenger_once(gateway: Gateway) -> None:
    carrier, number, date = gateway.world.target
    dep = await departure(gateway, number, date)
    first = await gateway.disrupt(gateway.world.target, kind="delayed", new_departure=(dep + dt.timedelta(hours=5)).isoformat())
    assert first.status_code == 202, first.text
    await gateway.settle()
    conversations, messages = await count(gateway, Conversation), await count(gateway, OutboxMessage)
    assert conversations == gateway.world.bookings_on(gateway.world.target)

    second = await gateway.disrupt(gateway.world.target)
    await gateway.settle()
    assert second.status_code == 202, second.text
    assert second.json() == {"id": first.json()["id"], "created": False}
    assert await count(gateway, Disruption) == 1
    assert await count(gateway, Conversation) == conversations
    async with gateway.container.db.reading() as s:
        updated = await s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.key == "offer_updated"))
        live = await s.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.status.in_(["offered", "escalated"]))
        )
    assert updated == live and await count(gateway, OutboxMessage) == messages + updated

    same = await gateway.disrupt(gateway.world.target)
    await gateway.settle()
    assert same.json() == {"id": first.json()["id"], "created": False}
    assert await count(gateway, OutboxMessage) == messages + updated


async def test_a_delay_not_after_the_schedule_is_422_and_changes_nothing(gateway: Gateway) -> None:
    carrier, number, date = gateway.world.target
    dep = await departure(gateway, number, date)
    for when in (dep, dep - dt.timedelta(hours=2)):
        response = await gateway.disrupt(gateway.world.target, kind="delayed", new_departure=when.isoformat())
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "after the schedule" in response.json()["detail"]
    naive = await gateway.disrupt(gateway.world.target, kind="delayed", new_departure="2030-01-01T10:00:00")
    assert naive.status_code == 422
    assert await count(gateway, Disruption) == 0
    flights = await every(gateway.client, "/v1/flights", date=date.isoformat())
    assert next(f for f in flights if f["number"] == number)["status"] == "scheduled"


async def test_one_disruption_covers_several_flights_and_lists_filter_and_page(gateway: Gateway) -> None:
    target, other = gateway.world.target, gateway.world.other
    body = {
        "flights": [{"carrier": f[0], "number": f[1], "date": f[2].isoformat()} for f in (target, other)],
        "kind": "cancelled",
        "reason": "WX",
    }
    both = await gateway.client.post("/v1/disruptions", json=body)
    assert both.status_code == 202, both.text
    await gateway.settle()
    assert await count(gateway, Disruption) == 1
    # The world holds exactly the bookings on either flight: one conversation each, even on both.
    assert await count(gateway, Conversation) == len(gateway.world.bookings)

    listed = await gateway.client.get("/v1/disruptions", params={"flight": f"{other[0]}{other[1]}", "date": other[2].isoformat()})
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert item["id"] == both.json()["id"]
    assert {(f["carrier"], f["number"]) for f in item["flights"]} == {target[:2], other[:2]}
    assert item["impacted"] == item["pending"] + item["offered"] + item["booked"] + item["escalated"] + item["opted_out"] + item["closed"]
    assert item["impacted"] == sum(len(b.passengers) for b in gateway.world.bookings)
    assert listed.json()["next_cursor"] is None
    assert (await gateway.client.get("/v1/disruptions", params={"flight": "ZZ1"})).json()["items"] == []
    assert (await gateway.client.get("/v1/disruptions", params={"status": "settled"})).json()["items"] == []
    for bad in ({"flight": "lh 1"}, {"date": "tomorrow"}, {"cursor": "-1"}, {"status": "done"}, {"limit": "0"}):
        assert (await gateway.client.get("/v1/disruptions", params=bad)).status_code == 422, bad
    assert (await gateway.client.post("/v1/disruptions", json={**body, "flight": body["flights"][0]})).status_code == 422  # type: ignore[index]


async def test_a_cursor_walks_back_through_every_disruption_once(gateway: Gateway) -> None:
    carrier, number, date = gateway.world.target
    ids = []
    for n in range(5):
        # Each is settled before the next, so a new event opens a new disruption.
        response = await gateway.disrupt(gateway.world.target, idempotency_key=f"k{n}")
        ids.append(response.json()["id"])
        await gateway.settle()
        async with gateway.container.db.transaction() as s:
            await s.execute(
                Conversation.__table__.update()
                .where(Conversation.__table__.c.disruption_id == ids[-1])
                .values(status="closed")
            )
        settled = await gateway.client.get(f"/v1/disruptions/{ids[-1]}")
        assert settled.json()["status"] == "settled"
        async with gateway.container.db.transaction() as s:
            await s.execute(Disruption.__table__.update().values(status="settled"))
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "flight": f"{carrier}{number}", "status": "settled"}
        if cursor:
            params["cursor"] = cursor
        page = (await gateway.client.get("/v1/disruptions", params=params)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(set(ids), reverse=True)

