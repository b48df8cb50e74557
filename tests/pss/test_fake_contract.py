"""The fake PSS keeps the contract (so tests against it mean something), and the contract itself is well formed."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator

from rebooking_core.airline.ports import FlightKey
from tests.fakes.pss import SPEC, TOKEN, FakePss
from tests.fakes.server import LocalServer

LX100 = FlightKey("LX", "100", dt.date(2031, 3, 1))
LX104 = FlightKey("LX", "104", dt.date(2031, 3, 1))
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FLIGHT = {"carrier": "LX", "number": "104", "date": "2031-03-01"}
SEG: dict[str, Any] = {
    "flight": {"carrier": "LX", "number": "100", "date": "2031-03-01"},
    "cabin": "Y",
}
SELL: dict[str, Any] = {"flight": FLIGHT, "cabin": "Y"}
GOOD: dict[str, Any] = {"version": 1, "cancel": [SEG], "sell": [SELL], "passengers": 1}


@pytest.fixture
def fake() -> FakePss:
    pss = FakePss()
    pss.add_flight(LX100, {"Y": 10}, sold={"Y": 1})
    pss.add_flight(LX104, {"Y": 10})
    pss.add_pnr("ABC123", [(LX100, "Y")])
    return pss


@pytest.fixture
def server(fake: FakePss) -> Iterator[LocalServer]:
    with LocalServer(fake.app) as srv:
        yield srv
    assert fake.violations == []  # every answer the fake gave is one the contract lists


@pytest.fixture
async def http(server: LocalServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        yield client


async def _modify(http: httpx.AsyncClient, body: Any, **headers: str) -> httpx.Response:
    return await http.post("/pnrs/ABC123/modifications", json=body, headers=headers)


async def test_no_or_a_wrong_token_is_401(http: httpx.AsyncClient, fake: FakePss) -> None:
    assert (await http.get("/pnrs/ABC123")).status_code == 401
    assert (
        await http.get("/pnrs/ABC123", headers={"Authorization": "Bearer guess"})
    ).status_code == 401
    assert (await _modify(http, GOOD, **{"Idempotency-Key": "k1"})).status_code == 401
    assert fake.applied == []


async def test_a_change_without_an_idempotency_key_is_400_and_changes_nothing(
    http: httpx.AsyncClient, fake: FakePss
) -> None:
    answer = await _modify(http, GOOD, **AUTH)
    assert answer.status_code == 400 and answer.json()["reason"] == "malformed"
    assert answer.headers["content-type"] == "application/problem+json"
    bad_key = await _modify(http, GOOD, **AUTH, **{"Idempotency-Key": "spaces are not allowed"})
    assert bad_key.status_code == 400
    assert fake.applied == [] and fake.pnr("ABC123").version == 1


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in GOOD.items() if k != "version"},  # optimistic version is required
        {**GOOD, "version": "1"},
        {**GOOD, "sell": []},
        {**GOOD, "passengers": 0},
        {**GOOD, "sell": [{**SELL, "cabin": "economy"}]},
        {**GOOD, "sell": [{**SELL, "flight": {**FLIGHT, "date": "1 March"}}]},
        {**GOOD, "surprise": True},
        ["not", "an", "object"],
    ],
)
async def test_a_body_that_breaks_the_schema_is_400(
    http: httpx.AsyncClient, fake: FakePss, body: Any
) -> None:
    answer = await _modify(http, body, **AUTH, **{"Idempotency-Key": "k1"})
    assert answer.status_code == 400 and answer.json()["reason"] == "malformed"
    assert fake.applied == []


async def test_a_hold_needs_its_key_and_a_whole_body(
    http: httpx.AsyncClient, fake: FakePss
) -> None:
    body = {
        "flight": SELL["flight"],
        "cabin": "Y",
        "seats": 2,
        "expires_at": "2031-03-01T09:00:00+00:00",
    }
    assert (await http.post("/holds", json=body, headers=AUTH)).status_code == 400
    no_expiry = {k: v for k, v in body.items() if k != "expires_at"}
    assert (
        await http.post("/holds", json=no_expiry, headers={**AUTH, "Idempotency-Key": "h"})
    ).status_code == 400
    assert fake.seats(LX104, "Y").held == 0


async def test_the_same_key_with_another_body_is_refused_and_replays_never_change_twice(
    http: httpx.AsyncClient, fake: FakePss
) -> None:
    first = await _modify(http, GOOD, **AUTH, **{"Idempotency-Key": "k1"})
    replay = await _modify(http, GOOD, **AUTH, **{"Idempotency-Key": "k1"})
    assert first.status_code == replay.status_code == 200 and first.json() == replay.json()
    other = await _modify(http, {**GOOD, "passengers": 2}, **AUTH, **{"Idempotency-Key": "k1"})
    assert other.status_code == 422 and other.json()["reason"] == "key_reused"
    assert fake.applied == [("ABC123", "k1")] and fake.pnr("ABC123").version == 2


async def test_a_bad_locator_is_400_and_an_unknown_one_404(http: httpx.AsyncClient) -> None:
    assert (await http.get("/pnrs/abc", headers=AUTH)).status_code == 400
    assert (await http.get("/pnrs/ZZZ999", headers=AUTH)).status_code == 404


def test_the_contract_is_openapi_3_1_with_valid_schemas_and_resolvable_refs() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    for schema in spec["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    for ref in refs:
        target: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
    changing = [
        op
        for path in spec["paths"].values()
        for method, op in path.items()
        if method == "post" and op["operationId"] != "searchAvailability"
    ]
    assert changing and all(
        any(p.get("$ref") == "#/components/parameters/IdempotencyKey" for p in op["parameters"])
        for op in changing
    )
