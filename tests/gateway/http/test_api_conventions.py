"""API conventions (#18 point 5), checked on every route the app has, so a route added later is covered too.

Routes are enumerated from `app.routes` (FastAPI's route contexts, included routers flattened):
every error answers as an RFC 9457 problem (401 without a key, 403 with a key lacking the scope,
404 for an unknown id, 422 for a bad body), every list pages with a cursor, every POST under /v1
takes `Idempotency-Key`, every operation documents its answer and its problems.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from gateway.http.api import authenticate
from gateway.http.idempotency import HEADER
from gateway.http.pagination import Page
from gateway.http.problems import PROBLEM_JSON, Problem
from tests.gateway.conftest import DAY, OPS_KEY, Gateway, World, running
from tests.gateway.http.pages import every

#: A key with every scope (OPS_KEY) and two keys that each lack all but one scope.
KEYS = f"{OPS_KEY},k-feeds:feeds,k-consent:consent:read"
LIMITED = ("k-feeds", "k-consent")
PROBLEM_SCHEMA = Problem.model_json_schema()
#: An id no test creates.
UNKNOWN_ID = 987654321
#: POST routes under /v1 that take no Idempotency-Key, and why.
NOT_CREATING = {
    "/v1/webhooks/{subscription_id}/enable": "turns a subscription back on; twice is once",
    "/v1/app/actions": "its action token is spent once: a retry is a 409, never a second booking",
    "/v1/app/opened": "marks a delivery read; twice is once",
}
#: Routes under /v1 whose credential is not the bearer API key, and what it is instead.
OTHER_CREDENTIALS = {
    "/v1/app/actions": "the signed action token in the body",
    "/v1/app/opened": "the signed action token in the body",
}


def assert_problem(response: httpx.Response, status: int, where: str = "") -> dict[str, Any]:
    """An RFC 9457 problem with this status: media type, members and their types."""
    assert response.status_code == status, (where, response.status_code, response.text[:300])
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON, (where, response.headers["content-type"])
    body: dict[str, Any] = response.json()
    jsonschema.validate(body, PROBLEM_SCHEMA)
    assert body["status"] == status and body["title"] and isinstance(body["detail"], str), (where, body)
    return body


def routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """(method, path template, route) of every API route, included routers flattened."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            for method in sorted(context.methods or ()):
                if method != "HEAD":
                    yield method, context.path, route


def v1(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    found = [r for r in routes(app) if r[1].startswith("/v1/")]
    assert len(found) > 10, "the ops API's routes were not found: has FastAPI's route layout changed?"
    return found


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def keyed(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """The /v1 routes behind a bearer API key; any other must say what its credential is."""
    found = []
    for method, path, route in v1(app):
        if authenticate in set(_calls(route.dependant)):
            found.append((method, path, route))
        else:
            assert path in OTHER_CREDENTIALS, f"{method} {path} checks no API key: add require_scope(...) or say why in OTHER_CREDENTIALS"
    return found


#: Values that satisfy a path parameter's pattern when the parameter is not an id.
CANDIDATES = ("ZZ", "1", "2030-01-01", "sms", "service", "ZZ1", "x", "ZZZZZ9")


def sample(schema: dict[str, Any], *, unknown_id: int = UNKNOWN_ID) -> str:
    """A value a path parameter accepts (ids: one that names nothing)."""
    if "anyOf" in schema:
        return sample(next(s for s in schema["anyOf"] if s.get("type") != "null"), unknown_id=unknown_id)
    if "enum" in schema:
        return str(schema["enum"][0])
    if schema.get("type") == "integer":
        return str(unknown_id)
    if schema.get("format") == "date":
        return "2030-01-01"
    pattern = schema.get("pattern")
    for candidate in CANDIDATES:
        if pattern is None or re.search(pattern, candidate):
            return candidate
    raise AssertionError(f"no sample value for a path parameter with schema {schema}: add one to CANDIDATES")


def concrete(app: FastAPI, method: str, path: str) -> str:
    """The path with each parameter filled from the OpenAPI document's schema for it."""
    operation = app.openapi()["paths"][path][method.lower()]
    schemas = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "path"}
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: sample(schemas[m.group(1)]), path)


@pytest.fixture
async def conventions(db_url: str, world: World) -> AsyncIterator[Gateway]:
    async with running(db_url, world, ops_api_keys=KEYS, rate_limit={"per_key_per_minute": 0, "per_ip_per_minute": 0}) as g:
        yield g


def app_of(g: Gateway) -> FastAPI:
    transport = g.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    app = transport.app
    assert isinstance(app, FastAPI)
    return app


def takes_body(route: APIRoute) -> bool:
    return bool(route.dependant.body_params)


async def test_every_v1_route_answers_401_as_a_problem_without_a_key_or_with_a_wrong_one(conventions: Gateway) -> None:
    app = app_of(conventions)
    for method, path, _ in keyed(app):
        url = concrete(app, method, path)
        for auth in ({"Authorization": ""}, {"Authorization": "Bearer not-a-key"}, {"Authorization": "Basic eDp5"}):
            response = await conventions.client.request(method, url, headers=auth, json={})
            assert_problem(response, 401, f"{method} {path} {auth}")


async def test_every_v1_route_answers_403_as_a_problem_to_a_key_without_its_scope(conventions: Gateway) -> None:
    app = app_of(conventions)
    for method, path, _ in keyed(app):
        url = concrete(app, method, path)
        answers = [
            await conventions.client.request(method, url, headers={"Authorization": f"Bearer {key}"}, json={}) for key in LIMITED
        ]
        refused = [r for r in answers if r.status_code == 403]
        assert refused, f"{method} {path}: no limited key was refused ({[r.status_code for r in answers]})"
        for response in refused:
            assert_problem(response, 403, f"{method} {path}")


async def test_an_unknown_id_is_a_404_problem_and_a_bad_body_a_422_problem(conventions: Gateway) -> None:
    app = app_of(conventions)
    checked_404 = checked_422 = 0
    for method, path, route in v1(app):
        url = concrete(app, method, path)
        has_id = any(p.field_info.annotation is int for p in route.dependant.path_params)
        if takes_body(route):
            for bad in ([1, 2], {"unexpected": True}, "not an object"):
                response = await conventions.client.request(method, url, json=bad)
                # An unknown id in the path may be found first; a refused body is the other answer.
                assert_problem(response, 404 if response.status_code == 404 and has_id else 422, f"{method} {path} {bad!r}")
            garbled = await conventions.client.request(method, url, content=b"{not json", headers={"Content-Type": "application/json"})
            assert garbled.status_code in (400, 404, 422), (method, path, garbled.status_code)
            assert_problem(garbled, garbled.status_code, f"{method} {path} garbled")
            checked_422 += 1
        elif has_id:
            response = await conventions.client.request(method, url)
            if response.status_code == 404:
                assert_problem(response, 404, f"{method} {path}")
                checked_404 += 1
            else:
                # A route whose id is not the last word may need more (e.g. a query) first: never the other shape.
                assert_problem(response, response.status_code, f"{method} {path}")
    assert checked_404 >= 5 and checked_422 >= 3, (checked_404, checked_422)


async def test_a_thousand_random_unknown_paths_answer_404_problems(conventions: Gateway) -> None:
    app = app_of(conventions)
    rng = random.Random(18_5)
    alphabet = string.ascii_letters + string.digits + "-._~%!$&'()*+,;=:@"
    known = [re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$") for _, path, _ in routes(app)]
    methods = ("GET", "POST", "PUT", "DELETE", "PATCH")
    seen = 0
    while seen < 1000:
        segments = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(rng.randint(1, 4))]
        prefix = rng.choice(("", "/v1", "/v1/disruptions/1", "/webhooks", "/.well-known", "/admin"))
        path = prefix + "/" + "/".join(segments)
        if any(k.match(path) for k in known) or path.startswith("/p/"):
            continue
        response = await conventions.client.request(rng.choice(methods), path)
        assert_problem(response, 404, path)
        seen += 1


async def test_a_wrong_method_and_a_wrong_media_type_are_problems(conventions: Gateway) -> None:
    assert_problem(await conventions.client.request("PATCH", "/v1/disruptions"), 405)
    assert_problem(await conventions.client.request("DELETE", "/healthz"), 405)
    feed = await conventions.client.post("/v1/feeds/mvt", json={"mvt": "x"})
    assert_problem(feed, 415)


async def test_the_passenger_page_keeps_html_error_pages(conventions: Gateway) -> None:
    response = await conventions.client.get("/p/" + "A" * 22)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def _documented(app: FastAPI) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            yield method.upper(), path, operation


async def test_every_operation_documents_its_answer_and_its_problems(conventions: Gateway) -> None:
    app = app_of(conventions)
    documented = {(m, p) for m, p, _ in _documented(app)}
    ids = [operation["operationId"] for _, _, operation in _documented(app)]
    assert len(ids) == len(set(ids)), "two handlers share a name: the generated client names its functions by operationId"
    assert {(m, p) for m, p, _ in v1(app)} <= documented, "a /v1 route is missing from the OpenAPI document"
    for method, path, operation in _documented(app):
        answers = operation["responses"]
        ok = [code for code in answers if code.startswith("2")]
        assert ok, (method, path)
        for code in ok:
            if code == "204":
                continue
            schema = answers[code].get("content", {}).get("application/json", {}).get("schema")
            assert schema, f"{method} {path}: no response model for {code}"
        problems = {code for code in answers if code[0] in "45"}
        if not path.startswith("/v1/"):
            wanted = set()  # health checks: probes read the status (a failing /readyz answers its checks with 503)
        elif path in OTHER_CREDENTIALS:
            wanted = {"401", "422", "429", "500"}
        else:
            wanted = {"401", "403", "422", "429", "500"}
        assert wanted <= problems, f"{method} {path} does not document {sorted(wanted - problems)}"
        for code in problems:
            content = answers[code].get("content", {})
            assert list(content) == [PROBLEM_JSON], (method, path, code, list(content))
            assert content[PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}, (method, path, code)


async def test_every_post_under_v1_takes_an_idempotency_key(conventions: Gateway) -> None:
    app = app_of(conventions)
    for method, path, operation in _documented(app):
        if method != "POST" or not path.startswith("/v1/") or path in NOT_CREATING:
            continue
        headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
        assert HEADER.lower() in headers, f"POST {path}: add `dependencies=[IDEMPOTENT]` (gateway/http/idempotency.py)"
        assert "409" in operation["responses"], f"POST {path}: document 409 (the key's first request still runs)"


def list_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """GET routes under /v1 that answer a page; a route answering a bare list fails here."""
    found = []
    for method, path, route in v1(app):
        model = route.response_model
        if method != "GET" or model is None:
            continue
        assert getattr(model, "__origin__", None) is not list, f"GET {path} answers a bare list: answer a Page (gateway/http/pagination.py)"
        if isinstance(model, type) and issubclass(model, Page):
            found.append((path, route))
    return found


async def test_every_list_takes_cursor_and_limit_and_caps_the_limit(conventions: Gateway) -> None:
    app = app_of(conventions)
    lists = list_routes(app)
    assert {"/v1/disruptions", "/v1/flights"} <= {p for p, _ in lists}
    for path, _ in lists:
        operation = app.openapi()["paths"][path]["get"]
        params = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"cursor", "limit"} <= set(params), path
        assert params["limit"]["schema"]["maximum"] <= 200, path
        required = {n: sample(p["schema"]) for n, p in params.items() if p.get("required")}
        for bad in ({"limit": 0}, {"limit": 201}, {"cursor": "not a cursor"}, {"cursor": "bm90IGpzb24"}, {"cursor": "WzEsMiwzLDQsNV0"}):
            response = await conventions.client.get(path, params={**required, **bad})
            assert_problem(response, 422, f"{path} {bad}")


#: Lists that the seeded world fills with at least two items, so a walk proves the pages join up.
FILLED = {"/v1/disruptions", "/v1/flights", "/v1/escalations", "/v1/conversations", "/v1/passengers"}


async def seed(g: Gateway) -> dict[str, dict[str, Any]]:
    """Two disruptions with their conversations and two escalations; the query each list needs."""
    ids = []
    for flight in (g.world.target, g.world.other):
        carrier, number, date = flight
        body = {"flight": {"carrier": carrier, "number": number, "date": date.isoformat()}, "kind": "cancelled"}
        answer = await g.client.post("/v1/disruptions", json=body)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    await g.settle()
    offers = [m for m in g.sandbox.messages if m.channel == "sms" and m.tokens]
    for message in offers[:2]:
        await g.say(message, "AGENT")
    family = next(b for b in g.world.bookings if len(b.passengers) >= 2)
    return {
        "/v1/flights": {"date": DAY.isoformat()},
        "/v1/conversations": {"disruption": ids[0]},
        "/v1/passengers": {"locator": family.locator},
    }


async def test_every_list_walks_page_by_page_to_the_same_items_once(conventions: Gateway) -> None:
    app = app_of(conventions)
    queries = await seed(conventions)
    for path, _ in list_routes(app):
        params = queries.get(path, {})
        whole = await every(conventions.client, path, **params)
        if path in FILLED:
            assert len(whole) >= 2, (path, len(whole))
        size = 1 if len(whole) <= 40 else 7
        walked: list[dict[str, Any]] = []
        pages = 0
        cursor = None
        while True:
            response = await conventions.client.get(path, params={**params, "limit": size, **({"cursor": cursor} if cursor else {})})
            assert response.status_code == 200, (path, response.text)
            page = response.json()
            assert set(page) == {"items", "next_cursor"}, path
            assert len(page["items"]) <= size and (page["items"] or pages == 0), path
            walked += page["items"]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert walked == whole, f"{path}: the pages of {size} do not make the whole list"
        assert pages == max(1, -(-len(whole) // size)), (path, pages, len(whole))


async def test_past_the_rate_limit_is_a_429_problem_with_retry_after(db_url: str, world: World) -> None:
    async with running(db_url, world, load=False, rate_limit={"per_key_per_minute": 1, "per_ip_per_minute": 0}) as g:
        assert (await g.client.get("/v1/disruptions")).status_code == 200
        refused = await g.client.get("/v1/disruptions")
        assert_problem(refused, 429)
        assert int(refused.headers["Retry-After"]) >= 1


TWILIO = {"account_sid": "AC" + "0" * 32, "auth_token": "twilio-secret", "from_number": "+15550100", "api_base": "http://127.0.0.1:9"}
WHATSAPP = {"phone_number_id": "1234567890", "token": "wa-token", "app_secret": "wa-secret", "verify_token": "v", "api_base": "http://127.0.0.1:9"}


async def test_webhooks_refuse_unsigned_requests_as_problems_never_as_plain_json(db_url: str, world: World) -> None:
    async with running(db_url, world, load=False, twilio=TWILIO, whatsapp=WHATSAPP) as g:
        hooks = [(m, p) for m, p, _ in routes(app_of(g)) if p.startswith("/webhooks/")]
        assert {"/webhooks/twilio/sms", "/webhooks/whatsapp"} <= {p for _, p in hooks}
        for method, path in hooks:
            for body in (b"", b"{}", b"Body=1&From=%2B34600123456"):
                response = await g.client.request(method, path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
                assert response.status_code >= 400, (method, path, response.status_code)
                media = response.headers.get("content-type", "").split(";")[0]
                # A provider-expected plain text (WhatsApp's handshake) is fine; FastAPI's {"detail": …} is not.
                assert media in (PROBLEM_JSON, "text/plain"), (method, path, media, response.text[:200])
                if media == PROBLEM_JSON:
                    assert_problem(response, response.status_code, f"{method} {path}")
