"""POST /v1/disruptions takes every kind the flight's story knows (#16): diverted, equipment, time change, reinstated.

Each kind needs its own fields and refuses the others' with a 422 problem; a valid one moves the
flight's story as a feed update would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from conversations.models import Conversation
from rebooking_core.models import Disruption, DisruptionUpdate, Flight, Inventory
from tests.gateway.conftest import Gateway
from tests.gateway.http.test_ops_disruptions import count, departure


async def flight_row(g: Gateway) -> Flight:
    carrier, number, date = g.world.target
    async with g.container.db.reading() as s:
        return (await s.scalars(select(Flight).where(Flight.carrier == carrier, Flight.number == number, Flight.service_date == date))).one()


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"kind": "diverted"}, "needs diverted_to"),
        ({"kind": "diverted", "diverted_to": "ZZZ"}, "unknown airport"),
        ({"kind": "diverted", "diverted_to": "vlc"}, "diverted_to"),
        ({"kind": "equipment"}, "needs capacity"),
        ({"kind": "equipment", "capacity": {}}, "capacity"),
        ({"kind": "equipment", "capacity": {"Y": -1}}, "capacity"),
        ({"kind": "equipment", "capacity": {"economy": 140}}, "capacity"),
        ({"kind": "time_change"}, "needs new_departure"),
        ({"kind": "cancelled", "capacity": {"Y": 140}}, "capacity does not belong to a cancelled"),
        ({"kind": "reinstated", "diverted_to": "VLC"}, "diverted_to does not belong"),
        ({"kind": "time_change", "new_departure": "2030-01-01T10:00:00Z", "new_arrival": "2030-01-01T12:00:00"}, "time zone"),
        ({"kind": "landed"}, "kind"),
    ],
)
async def test_each_kind_needs_its_fields_and_refuses_the_others(gateway: Gateway, extra: dict[str, Any], says: str) -> None:
    response = await gateway.disrupt(gateway.world.target, **extra)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert says in response.text
    assert await count(gateway, Disruption) == 0


async def test_a_diversion_through_the_api_moves_the_story_once(gateway: Gateway) -> None:
    first = await gateway.disrupt(gateway.world.target, kind="diverted", diverted_to="VLC", idempotency_key="div-1")
    assert first.status_code == 202, first.text
    assert first.json()["created"] is True
    await gateway.settle()
    flight = await flight_row(gateway)
    assert flight.status == "diverted"
    assert await count(gateway, Conversation) == gateway.world.bookings_on(gateway.world.target)
    again = await gateway.disrupt(gateway.world.target, kind="diverted", diverted_to="VLC", idempotency_key="div-1")
    assert again.json() == {"id": first.json()["id"], "created": False}
    assert await count(gateway, DisruptionUpdate) == 1


async def test_an_equipment_change_moves_only_the_overflow(gateway: Gateway) -> None:
    flight = await flight_row(gateway)
    async with gateway.container.db.reading() as s:
        inv = await s.get(Inventory, (flight.id, "Y"))
    assert inv is not None and inv.sold > 2
    response = await gateway.disrupt(gateway.world.target, kind="equipment", capacity={"Y": inv.sold - 2})
    assert response.status_code == 202, response.text
    await gateway.settle()
    async with gateway.container.db.reading() as s:
        moved = await s.scalar(select(func.coalesce(func.sum(Conversation.passengers), 0)))
    assert 2 <= int(moved or 0) < inv.sold


async def test_a_time_change_then_a_cancellation_and_a_reinstatement(gateway: Gateway) -> None:
    carrier, number, date = gateway.world.target
    dep = await departure(gateway, number, date)
    moved = await gateway.disrupt(gateway.world.target, kind="time_change", new_departure=(dep + dt.timedelta(minutes=30)).isoformat())
    assert moved.status_code == 202, moved.text
    assert (await flight_row(gateway)).dep_utc == dep + dt.timedelta(minutes=30)
    nothing = await gateway.disrupt(gateway.world.target, kind="reinstated")
    assert nothing.json() == {"id": moved.json()["id"], "created": False}  # not cancelled: the story is unchanged
    async with gateway.container.db.reading() as s:
        outcomes = list((await s.scalars(select(DisruptionUpdate.outcome).order_by(DisruptionUpdate.id))).all())
    assert outcomes == ["applied", "unchanged"]
    cancelled = await gateway.disrupt(gateway.world.target)
    await gateway.settle()
    back = await gateway.disrupt(gateway.world.target, kind="reinstated")
    assert back.status_code == 202, back.text
    await gateway.settle()
    assert back.json()["id"] == cancelled.json()["id"]
    assert (await flight_row(gateway)).status == "scheduled"
    async with gateway.container.db.reading() as s:
        statuses = set((await s.scalars(select(Conversation.status))).all())
    assert statuses <= {"closed", "booked"}
