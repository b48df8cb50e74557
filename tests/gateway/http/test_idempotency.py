"""`Idempotency-Key` (#18 point 5): a retry replays the first answer, in any gateway process; another body is 422."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import func, select, text, update

from consent.retention import ANSWERS_KEPT
from conversations.idempotent_answers import IdempotentAnswer, claim
from gateway.http.idempotency import REPLAYED, fingerprint, key_hash
from gateway.worker.privacy import run_purge
from rebooking_core.models import Disruption, Flight
from tests.gateway.conftest import OPS_KEY, Gateway, World, running
from tests.gateway.http.test_api_conventions import assert_problem as problem
from tests.gateway.http.test_feeds import mvt_delay


def cancel(flight: tuple[str, str, dt.date], **extra: Any) -> dict[str, Any]:
    carrier, number, date = flight
    return {"flight": {"carrier": carrier, "number": number, "date": date.isoformat()}, "kind": "cancelled", **extra}


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


async def count(g: Gateway, model: Any) -> int:
    async with g.container.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


@contextlib.asynccontextmanager
async def two_gateways(db_url: str, world: World) -> AsyncIterator[tuple[Gateway, Gateway]]:
    """Two app instances (each its own container, engine and pool) on one database, as two `serve` processes."""
    async with running(db_url, world) as first, running(db_url, world, load=False) as second:
        yield first, second


async def test_a_retry_through_another_process_replays_the_first_answer_without_running_again(db_url: str, world: World) -> None:
    async with two_gateways(db_url, world) as (a, b):
        key = {"Idempotency-Key": "7d3c1e5a-0001"}
        first = await a.client.post("/v1/disruptions", json=cancel(world.target), headers=key)
        assert first.status_code == 202, first.text
        assert first.json()["created"] is True and REPLAYED not in first.headers

        # Run again, the route would answer created=false (the flight's disruption exists): the replay is the first answer.
        again = await b.client.post("/v1/disruptions", json=cancel(world.target), headers=key)
        assert (again.status_code, again.content) == (202, first.content)
        assert again.headers[REPLAYED] == "true"
        # Same body by value: key order and spacing do not make another request.
        reordered = await b.client.post(
            "/v1/disruptions", content=b'{"kind":  "cancelled", "flight": ' + _json(cancel(world.target)["flight"]) + b"}",
            headers={**key, "Content-Type": "application/json"},
        )
        assert (reordered.status_code, reordered.content) == (202, first.content)
        assert await count(a, Disruption) == 1

        unkeyed = await b.client.post("/v1/disruptions", json=cancel(world.target))
        assert unkeyed.json() == {"id": first.json()["id"], "created": False}


async def test_the_same_key_with_another_body_is_422_in_any_process_and_changes_nothing(db_url: str, world: World) -> None:
    async with two_gateways(db_url, world) as (a, b):
        key = {"Idempotency-Key": "reused"}
        assert (await a.client.post("/v1/disruptions", json=cancel(world.target), headers=key)).status_code == 202
        other = await b.client.post("/v1/disruptions", json=cancel(world.other), headers=key)
        assert "another request" in problem(other, 422)["detail"]
        # Another route with the key is another request too.
        mvt = await b.client.post("/v1/feeds/mvt", content="MVT\n", headers={**key, "Content-Type": "text/plain"})
        problem(mvt, 422)
        assert await count(a, Disruption) == 1
        fresh = await b.client.post("/v1/disruptions", json=cancel(world.other), headers={"Idempotency-Key": "fresh"})
        assert fresh.status_code == 202 and fresh.json()["created"] is True


async def test_a_failed_request_spends_no_key(gateway: Gateway) -> None:
    key = {"Idempotency-Key": "after-a-404"}
    unknown = await gateway.client.post("/v1/disruptions", json=cancel(("RB", "9999", gateway.world.target[2])), headers=key)
    problem(unknown, 404)
    invalid = await gateway.client.post("/v1/disruptions", json=cancel(gateway.world.target, kind="delayed"), headers=key)
    problem(invalid, 422)
    assert await count(gateway, IdempotentAnswer) == 0
    fixed = await gateway.client.post("/v1/disruptions", json=cancel(gateway.world.target), headers=key)
    assert fixed.status_code == 202 and fixed.json()["created"] is True


async def test_keys_belong_to_their_credentials_and_need_them(db_url: str, world: World) -> None:
    async with running(db_url, world, ops_api_keys=f"{OPS_KEY},k-second") as g:
        key = {"Idempotency-Key": "shared-name"}
        mine = await g.client.post("/v1/disruptions", json=cancel(world.target), headers=key)
        theirs = await g.client.post(
            "/v1/disruptions", json=cancel(world.other), headers={**key, "Authorization": "Bearer k-second"}
        )
        assert mine.status_code == theirs.status_code == 202 and mine.json()["id"] != theirs.json()["id"]
        for auth in ({"Authorization": "Bearer wrong"}, {"Authorization": ""}):
            problem(await g.client.post("/v1/disruptions", json=cancel(world.target), headers={**key, **auth}), 401)
        assert await count(g, IdempotentAnswer) == 2


async def test_a_key_whose_first_request_still_runs_is_409_with_retry_after(gateway: Gateway) -> None:
    body = cancel(gateway.world.target)
    async with gateway.container.db.transaction() as s:
        seen = fingerprint("POST", "/v1/disruptions", b"", _json(body), "application/json")
        await claim(s, key_hash=key_hash(f"Bearer {OPS_KEY}", "busy"), fingerprint=seen, now=gateway.container.clock())
    running_ = await gateway.client.post("/v1/disruptions", json=body, headers={"Idempotency-Key": "busy"})
    problem(running_, 409)
    assert running_.headers["Retry-After"] == "1"
    assert await count(gateway, Disruption) == 0


async def test_concurrent_retries_run_the_request_once(gateway: Gateway) -> None:
    key = {"Idempotency-Key": "burst"}
    answers = await asyncio.gather(
        *(gateway.client.post("/v1/disruptions", json=cancel(gateway.world.target), headers=key) for _ in range(12))
    )
    done = [r for r in answers if r.status_code == 202]
    assert {r.status_code for r in answers} <= {202, 409}
    assert len({r.content for r in done}) == 1 and done[0].json()["created"] is True
    again = await gateway.client.post("/v1/disruptions", json=cancel(gateway.world.target), headers=key)
    assert again.content == done[0].content and again.headers[REPLAYED] == "true"


async def test_answers_expire_after_24_hours_and_the_purge_removes_them(gateway: Gateway) -> None:
    key = {"Idempotency-Key": "day-old"}
    first = await gateway.client.post("/v1/disruptions", json=cancel(gateway.world.target), headers=key)
    assert first.status_code == 202
    async with gateway.container.db.transaction() as s:
        old = gateway.container.clock() - ANSWERS_KEPT - dt.timedelta(minutes=1)
        await s.execute(update(IdempotentAnswer).values(created_at=old))
    # Past 24 h the key is free again: another body runs instead of 422.
    other = await gateway.client.post("/v1/disruptions", json=cancel(gateway.world.other), headers=key)
    assert other.status_code == 202 and other.json()["created"] is True and REPLAYED not in other.headers
    async with gateway.container.db.transaction() as s:
        await s.execute(update(IdempotentAnswer).values(created_at=old))
    kept = await gateway.client.post("/v1/disruptions", json=cancel(gateway.world.target), headers={"Idempotency-Key": "today"})
    assert kept.status_code == 202
    report = await run_purge(gateway.container.db, gateway.container.settings.retention, clock=gateway.container.clock, dry_run=False)
    assert report.removed.get("idempotent_answers") == 1
    assert await count(gateway, IdempotentAnswer) == 1


async def test_feeds_and_broadcasts_replay_too(gateway: Gateway) -> None:
    carrier, number, date = gateway.world.target
    async with gateway.container.db.reading() as s:
        dep = (
            await s.scalars(select(Flight.dep_utc).where(Flight.carrier == carrier, Flight.number == number, Flight.service_date == date))
        ).one()
    text = mvt_delay(gateway.world.target, dep + dt.timedelta(hours=4))
    headers = {"Idempotency-Key": "mvt-1", "Content-Type": "text/plain"}
    first = await gateway.client.post("/v1/feeds/mvt", content=text, headers=headers)
    assert first.status_code == 200, first.text
    again = await gateway.client.post("/v1/feeds/mvt", content=text, headers=headers)
    assert again.content == first.content and again.headers[REPLAYED] == "true"

    body = {"target": f"{carrier}{number}/{date.isoformat()}", "message": "broadcast.weather"}
    sent = await gateway.client.post("/v1/broadcasts", json=body, headers={"Idempotency-Key": "b-1"})
    assert sent.status_code == 202, sent.text
    resent = await gateway.client.post("/v1/broadcasts", json=body, headers={"Idempotency-Key": "b-1"})
    assert resent.content == sent.content and resent.headers[REPLAYED] == "true"
    problem(await gateway.client.post("/v1/broadcasts", json={**body, "target": "FRA"}, headers={"Idempotency-Key": "b-1"}), 422)


async def test_a_malformed_key_is_422(gateway: Gateway) -> None:
    for bad in ("", "has space", "k" * 256, "tab\there"):
        response = await gateway.client.post("/v1/disruptions", json=cancel(gateway.world.target), headers={"Idempotency-Key": bad})
        problem(response, 422)
    assert await count(gateway, Disruption) == 0


async def test_answers_are_encrypted_at_rest_and_an_erasure_forgets_them_all(gateway: Gateway) -> None:
    key = {"Idempotency-Key": "before-erasure"}
    first = await gateway.client.post("/v1/disruptions", json=cancel(gateway.world.target), headers=key)
    assert first.status_code == 202
    async with gateway.container.db.reading() as s:
        raw = (await s.execute(text("SELECT body FROM idempotent_answers"))).scalar_one()
    assert raw and "created" not in raw and len(raw.split(":")) == 3, "the answer is stored as ciphertext"
    erased = await gateway.client.delete("/v1/passengers/1")
    assert erased.status_code == 200, erased.text
    assert {"table": "idempotent_answers", "action": "deleted", "rows": 1, "columns": []} in erased.json()["tables"]
    assert await count(gateway, IdempotentAnswer) == 0
    # The key is free again: the retry runs (and the domain's own dedupe names the same disruption).
    again = await gateway.client.post("/v1/disruptions", json=cancel(gateway.world.target), headers=key)
    assert again.status_code == 202 and REPLAYED not in again.headers and again.json()["id"] == first.json()["id"]
