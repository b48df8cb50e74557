"""`PUT /v1/bookings/{locator}` and `GET /v1/bookings/{locator}` (#17.4): upsert by version, 409 stale, Idempotency-Key, problems."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from gateway.http.idempotency import REPLAYED
from rebooking_core.models import Flight, Inventory
from tests.gateway.conftest import FlightId, Gateway
from tests.gateway.http.test_api_conventions import assert_problem as problem


def _record(locator: str, version: int | None, *flights: FlightId, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "locator": locator,
        "passengers": [
            {
                "given_name": "Ana",
                "family_name": "Ejemplo",
                "language": "es",
                "contacts": [
                    {
                        "channel": "sms",
                        "address": "+34600000001",
                        "consent": {"service": True, "marketing": False},
                    }
                ],
            }
        ],
        "segments": [{"carrier": c, "number": n, "date": d.isoformat()} for c, n, d in flights],
        **over,
    }
    if version is not None:
        body["version"] = version
    return body


async def _sold(g: Gateway, flight: FlightId) -> int:
    carrier, number, date = flight
    async with g.container.db.reading() as s:
        return int(
            await s.scalar(
                select(Inventory.sold)
                .join(Flight, Flight.id == Inventory.flight_id)
                .where(
                    Flight.carrier == carrier,
                    Flight.number == number,
                    Flight.service_date == date,
                    Inventory.cabin == "Y",
                )
            )
            or 0
        )


async def test_put_adds_changes_cancels_and_refuses_a_stale_version(gateway: Gateway) -> None:
    g, target, other = gateway, gateway.world.target, gateway.world.other
    sold = (await _sold(g, target), await _sold(g, other))

    added = await g.client.put("/v1/bookings/ZZZZZ1", json=_record("ZZZZZ1", 3, target))
    assert added.status_code == 201, added.text
    body = added.json()
    assert (body["outcome"], body["version"], body["status"], body["conversations_closed"]) == (
        "added",
        3,
        "active",
        0,
    )
    assert [(s["number"], s["status"]) for s in body["segments"]] == [(target[1], "HK")]
    assert len(body["passengers"]) == 1 and body["passengers"][0]["is_contact"] is True
    assert "Ana" not in added.text and "+34" not in added.text
    assert await _sold(g, target) == sold[0] + 1

    moved = await g.client.put("/v1/bookings/ZZZZZ1", json=_record("ZZZZZ1", 4, other))
    assert moved.status_code == 200 and moved.json()["outcome"] == "changed"
    assert (await _sold(g, target), await _sold(g, other)) == (sold[0], sold[1] + 1)
    same = await g.client.put("/v1/bookings/ZZZZZ1", json=_record("ZZZZZ1", 4, other))
    assert same.status_code == 200 and same.json()["outcome"] == "unchanged"

    stale = await g.client.put("/v1/bookings/ZZZZZ1", json=_record("ZZZZZ1", 2, target))
    assert "not newer than the stored version 4" in problem(stale, 409)["detail"]
    assert (await _sold(g, target), await _sold(g, other)) == (sold[0], sold[1] + 1)

    gone = await g.client.put(
        "/v1/bookings/ZZZZZ1", json=_record("ZZZZZ1", 5, other, status="cancelled")
    )
    assert gone.status_code == 200 and (gone.json()["outcome"], gone.json()["status"]) == (
        "cancelled",
        "cancelled",
    )
    assert await _sold(g, other) == sold[1]

    shown = await g.client.get("/v1/bookings/ZZZZZ1")
    assert shown.status_code == 200
    assert {k: shown.json()[k] for k in ("locator", "version", "status")} == {
        "locator": "ZZZZZ1",
        "version": 5,
        "status": "cancelled",
    }
    problem(await g.client.get("/v1/bookings/NOSUCH"), 404)


async def test_put_problems_name_the_field_and_change_nothing(gateway: Gateway) -> None:
    g, target = gateway, gateway.world.target
    sold = await _sold(g, target)
    wrong_path = await g.client.put("/v1/bookings/ZZZZZ2", json=_record("ZZZZZ3", 1, target))
    assert "locator" in problem(wrong_path, 422)["detail"]
    unversioned = await g.client.put("/v1/bookings/ZZZZZ2", json=_record("ZZZZZ2", None, target))
    assert problem(unversioned, 422)["detail"].startswith("version:")
    unknown = await g.client.put(
        "/v1/bookings/ZZZZZ2", json=_record("ZZZZZ2", 1, ("RB", "9999", dt.date(2030, 1, 1)))
    )
    assert problem(unknown, 422)["detail"].startswith("segments.0: no flight RB9999")
    bad_phone = _record("ZZZZZ2", 1, target)
    bad_phone["passengers"][0]["contacts"][0]["address"] = "+1000"
    detail = problem(await g.client.put("/v1/bookings/ZZZZZ2", json=bad_phone), 422)["detail"]
    assert detail.startswith("passengers.0.contacts.0") and "+1000" not in detail
    problem(
        await g.client.put(
            "/v1/bookings/ZZZZZ2", content=b"[1, 2", headers={"Content-Type": "application/json"}
        ),
        400,
    )
    problem(await g.client.put("/v1/bookings/zz", json=_record("ZZZZZ2", 1, target)), 422)
    assert await _sold(g, target) == sold
    problem(await g.client.get("/v1/bookings/ZZZZZ2"), 404)
    anonymous = await g.client.put(
        "/v1/bookings/ZZZZZ2", json=_record("ZZZZZ2", 1, target), headers={"Authorization": ""}
    )
    problem(anonymous, 401)


async def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    gateway: Gateway,
) -> None:
    g, target, other = gateway, gateway.world.target, gateway.world.other
    key = {"Idempotency-Key": "put-booking-1"}
    first = await g.client.put(
        "/v1/bookings/ZZZZZ4", json=_record("ZZZZZ4", 1, target), headers=key
    )
    assert first.status_code == 201 and REPLAYED not in first.headers
    sold = await _sold(g, target)
    again = await g.client.put(
        "/v1/bookings/ZZZZZ4", json=_record("ZZZZZ4", 1, target), headers=key
    )
    assert (again.status_code, again.content, again.headers[REPLAYED]) == (
        201,
        first.content,
        "true",
    )
    assert await _sold(g, target) == sold
    other_body = await g.client.put(
        "/v1/bookings/ZZZZZ4", json=_record("ZZZZZ4", 2, other), headers=key
    )
    assert "another request" in problem(other_body, 422)["detail"]
    assert (await g.client.get("/v1/bookings/ZZZZZ4")).json()["version"] == 1
