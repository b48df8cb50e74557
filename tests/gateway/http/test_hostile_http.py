"""Hostile HTTP against the gateway as `rebook serve` wires it: each input that once answered 500 or held
a connection open, now a 4xx problem, on SQLite and PostgreSQL; body caps and deadlines enforced while
reading; keep-alive kept after a handled error, `Connection: close` after a bug.

Socket-level tests run the app under a real uvicorn server on 127.0.0.1 (with `gateway.http.limits`'s
protocol); they wait for deadlines shortened to fractions of a second and bound the wait generously.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import socket
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.types import Message, Receive, Scope, Send

from consent.models import ConsentEvent
from conversations.broadcasts.models import Broadcast
from conversations.models import InboundMessage, ProcessedEvent
from gateway.http import problems
from gateway.http.app import create_app
from gateway.http.inputs import ID_MAX
from gateway.http.limits import MIB, BoundedBodies, HeaderDeadline, uvicorn_options
from rebooking_core.models import Disruption
from tests.gateway.conftest import DAY, OPS_KEY, Gateway, World, running

WA_SECRET = "wa-secret-for-hostile-http"
WHATSAPP = {
    "phone_number_id": "1234567890",
    "token": "wa-token",
    "app_secret": WA_SECRET,
    "verify_token": "verify-me",
    "api_base": "http://127.0.0.1:9",
}
#: Every route that takes a row id, as (method, url with {id}, JSON body).
ID_ROUTES: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("GET", "/v1/disruptions/{id}", None),
    ("GET", "/v1/broadcasts/{id}", None),
    ("GET", "/v1/passengers/{id}/consent", None),
    ("PUT", "/v1/passengers/{id}/consent/sms/service", {"state": "granted"}),
    ("GET", "/v1/passengers/{id}/export", None),
    ("DELETE", "/v1/passengers/{id}", None),
    ("GET", "/v1/escalations?disruption_id={id}", None),
)
OUT_OF_RANGE = (str(2**63), str(2**64), "9" * 40, "0", "-1", "-" + str(2**63 + 1))
BAD_CHARS = ("\x00", "a\x00b", "\x1b[31m", "line\nbreak", "\x7f", "\x85")


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and isinstance(body["detail"], str) and body["type"]
    return body


async def count(g: Gateway, model: Any) -> int:
    async with g.container.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def wa_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(WA_SECRET.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
async def hostile(db_url: str, world: World) -> AsyncIterator[Gateway]:
    """The app with WhatsApp webhooks enabled, on each database, with no flights or bookings loaded."""
    async with running(db_url, world, load=False, whatsapp=WHATSAPP) as g:
        yield g


@pytest.fixture
async def loaded(db_url: str, world: World) -> AsyncIterator[Gateway]:
    """The same, holding the world's flights and bookings."""
    async with running(db_url, world, whatsapp=WHATSAPP) as g:
        yield g


# --- ids and strings --------------------------------------------------------------------------


async def test_ids_past_int64_or_below_1_are_422_on_every_route_with_an_id(hostile: Gateway) -> None:
    for method, url, body in ID_ROUTES:
        for bad in OUT_OF_RANGE:
            response = await hostile.client.request(method, url.format(id=bad), json=body)
            problem = assert_problem(response, 422)
            assert problem["errors"] and problem["errors"][0]["type"]
        # The largest id the database holds is a valid id: not found, not an error.
        response = await hostile.client.request(method, url.format(id=ID_MAX), json=body)
        assert response.status_code in (200, 404), (url, response.text)
        if response.status_code == 404:
            assert_problem(response, 404)


def disruption(world: World, **extra: Any) -> dict[str, Any]:
    carrier, number, date = world.target
    return {"flight": {"carrier": carrier, "number": number, "date": date.isoformat()}, "kind": "cancelled", **extra}


async def test_control_characters_in_any_string_field_are_422_and_write_nothing(hostile: Gateway) -> None:
    g = hostile
    carrier, number, date = g.world.target
    requests: list[tuple[str, str, dict[str, Any] | None]] = []
    for bad in BAD_CHARS:
        q = urllib.parse.quote(bad, safe="")
        requests += [
            ("POST", "/v1/disruptions", disruption(g.world, reason=bad)),
            ("POST", "/v1/disruptions", disruption(g.world, idempotency_key=f"key{bad}")),
            ("POST", "/v1/disruptions", {**disruption(g.world), "flight": {"carrier": carrier + bad, "number": number, "date": date.isoformat()}}),
            ("POST", "/v1/disruptions", {**disruption(g.world), "flight": {"carrier": carrier, "number": number + bad, "date": date.isoformat()}}),
            ("POST", "/v1/broadcasts", {"target": f"FRA{bad}", "message": "broadcast.delay"}),
            ("POST", "/v1/broadcasts", {"target": "FRA", "message": "broadcast.delay", "idempotency_key": f"k{bad}"}),
            ("PUT", "/v1/passengers/1/consent/sms/service", {"state": "withdrawn", "reason": f"asked{bad}"}),
            ("PUT", "/v1/passengers/1/consent/sms/service", {"state": "withdrawn", "legal_basis": f"consent{bad}"}),
            ("GET", f"/v1/passengers/1/export?reason=audit{q}", None),
            ("DELETE", f"/v1/passengers/1?reason=audit{q}", None),
            ("GET", f"/v1/flights/{carrier}{q}/{number}/{date.isoformat()}/inventory", None),
            ("GET", f"/v1/flights/{carrier}/{number}{q}/{date.isoformat()}/inventory", None),
        ]
        if bad not in ("\n", "line\nbreak"):  # free text keeps its line breaks
            requests.append(("POST", "/v1/broadcasts", {"target": "FRA", "message": f"Gate change{bad}"}))
    consent_before = await count(g, ConsentEvent)
    for method, url, body in requests:
        response = await g.client.request(method, url, json=body)
        assert_problem(response, 422)
    assert await count(g, Disruption) == 0
    assert await count(g, Broadcast) == 0
    assert await count(g, ConsentEvent) == consent_before


async def test_a_lone_surrogate_in_json_is_422(hostile: Gateway) -> None:
    body = json.dumps(disruption(hostile.world)).replace('"cancelled"', '"cancelled", "reason": "\\ud800"')
    response = await hostile.client.post("/v1/disruptions", content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 422)
    assert await count(hostile, Disruption) == 0


async def test_a_new_departure_at_the_end_of_time_is_422_not_an_overflow(hostile: Gateway) -> None:
    for when in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
        response = await hostile.disrupt(hostile.world.target, kind="delayed", new_departure=when)
        assert_problem(response, 422)
    assert await count(hostile, Disruption) == 0


# --- idempotency --------------------------------------------------------------------------------


async def test_twenty_concurrent_creates_with_one_key_give_one_disruption_and_twenty_202(loaded: Gateway) -> None:
    responses = await asyncio.gather(*(loaded.disrupt(loaded.world.target, idempotency_key="storm-20") for _ in range(20)))
    assert [r.status_code for r in responses] == [202] * 20, [r.text for r in responses if r.status_code != 202]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.json()["created"] for r in responses) == 1
    assert await count(loaded, Disruption) == 1
    again = await loaded.disrupt(loaded.world.target, idempotency_key="storm-20")
    assert again.status_code == 202 and again.json() == {"id": responses[0].json()["id"], "created": False}


async def test_twenty_concurrent_broadcasts_with_one_key_give_one_broadcast_and_one_message_each(loaded: Gateway) -> None:
    carrier, number, date = loaded.world.target
    body = {"target": f"{carrier}{number}/{date.isoformat()}", "message": "Gate B12 is closed.", "idempotency_key": "notice-20"}
    responses = await asyncio.gather(*(loaded.client.post("/v1/broadcasts", json=body) for _ in range(20)))
    assert [r.status_code for r in responses] == [202] * 20, [r.text for r in responses if r.status_code != 202]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count(loaded, Broadcast) == 1
    await loaded.settle()
    got = (await loaded.client.get(f"/v1/broadcasts/{responses[0].json()['id']}")).json()
    assert got["targeted"] > 0 and got["sent"] + got["skipped_consent"] + got["failed"] == got["targeted"]
    notices = [m for m in loaded.sandbox.messages if m.idempotency_key.startswith("b")]
    assert len(notices) == got["sent"] == len({m.to for m in notices}), "nobody was messaged twice"


async def test_a_key_first_used_with_an_unknown_flight_is_not_taken(loaded: Gateway) -> None:
    missing = await loaded.disrupt(("RB", "9999", DAY), idempotency_key="typo-then-right")
    assert_problem(missing, 404)
    right = await loaded.disrupt(loaded.world.target, idempotency_key="typo-then-right")
    assert right.status_code == 202 and right.json()["created"] is True
    assert await count(loaded, Disruption) == 1


# --- body caps and deadlines, at the ASGI boundary -------------------------------------------------


class Feed:
    """A client body offered in chunks: counts what the app pulled; can stall after some chunks."""

    def __init__(self, chunks: int, size: int, *, stall_after: int | None = None) -> None:
        self.chunks, self.size, self.stall_after = chunks, size, stall_after
        self.pulled = 0
        self.never = asyncio.Event()

    async def receive(self) -> Message:
        if self.stall_after is not None and self.pulled >= self.stall_after:
            await self.never.wait()
        self.pulled += 1
        return {"type": "http.request", "body": b"{" * self.size, "more_body": self.pulled < self.chunks}


async def call(app: Any, path: str, feed: Feed, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"rebook.test"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "state": {},
    }
    await app(scope, feed.receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


async def test_a_20_mb_whatsapp_body_is_413_without_being_read(hostile: Gateway) -> None:
    app = create_app(hostile.container)
    declared = Feed(20, MIB)
    status, headers, body = await call(app, "/webhooks/whatsapp", declared, [(b"content-length", str(20 * MIB).encode())])
    assert status == 413 and headers[b"connection"] == b"close" and json.loads(body)["status"] == 413
    assert declared.pulled == 0
    # Chunked (no length declared): reading stops just past the 4 MB cap, not at 20 MB.
    chunked = Feed(20, MIB)
    status, headers, _ = await call(app, "/webhooks/whatsapp", chunked, [(b"transfer-encoding", b"chunked")])
    assert status == 413 and headers[b"connection"] == b"close"
    assert chunked.pulled == 5
    # The handler never ran: nothing received, nothing deduplicated.
    assert await count(hostile, InboundMessage) == 0 and await count(hostile, ProcessedEvent) == 0


async def test_a_body_within_the_cap_reaches_the_webhook_whole(hostile: Gateway) -> None:
    payload = json.dumps({"object": "whatsapp_business_account", "entry": [], "pad": "x" * (2 * MIB)}).encode()
    response = await hostile.client.post(
        "/webhooks/whatsapp", content=payload, headers={"Content-Type": "application/json", "X-Hub-Signature-256": wa_signature(payload)}
    )
    assert response.status_code == 200, response.text
    unsigned = await hostile.client.post("/webhooks/whatsapp", content=payload, headers={"Content-Type": "application/json"})
    assert_problem(unsigned, 401)


async def test_the_ops_api_caps_bodies_at_256_kib(hostile: Gateway) -> None:
    big = disruption(hostile.world, reason="x" * (300 * 1024))
    assert_problem(await hostile.client.post("/v1/disruptions", json=big), 413)
    assert await count(hostile, Disruption) == 0


async def test_a_stalled_body_is_408_and_the_handler_never_runs(hostile: Gateway) -> None:
    app = create_app(hostile.container, body_timeout_s=0.2)
    feed = Feed(3, 10, stall_after=1)
    status, headers, body = await asyncio.wait_for(
        call(app, "/v1/disruptions", feed, [(b"authorization", f"Bearer {OPS_KEY}".encode()), (b"content-length", b"30")]), 10
    )
    assert status == 408 and headers[b"connection"] == b"close" and json.loads(body)["status"] == 408
    assert await count(hostile, Disruption) == 0


async def test_a_malformed_content_length_is_400() -> None:
    seen: list[Scope] = []

    async def downstream(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    app = BoundedBodies(downstream)
    for value in (b"-1", b"12abc", b"1" * 30, b" 5"):
        status, _, _ = await call(app, "/v1/disruptions", Feed(1, 5), [(b"content-length", value)])
        assert status == 400
    status, _, _ = await call(app, "/v1/disruptions", Feed(1, 5), [(b"content-length", b"5"), (b"content-length", b"6")])
    assert status == 400
    assert seen == []


# --- a real server: keep-alive, Connection: close, header deadlines ---------------------------------


class QuickHeaders(HeaderDeadline):
    header_timeout_s = 0.3
    max_header_bytes = 8 * 1024


@contextlib.asynccontextmanager
async def serving(app: Any, **options: Any) -> AsyncIterator[tuple[str, int]]:
    """`app` under uvicorn on a free loopback port, on this event loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_config=None, access_log=False, **{**uvicorn_options(), **options})
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}", port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


def local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


async def test_a_handled_error_keeps_the_connection_for_the_next_request(hostile: Gateway) -> None:
    async with serving(create_app(hostile.container)) as (base, _), httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {OPS_KEY}"}, limits=httpx.Limits(max_connections=1)
    ) as client:
        first = await client.get(f"/v1/disruptions/{2**64}")
        assert_problem(first, 422)
        assert "close" not in first.headers.get("connection", "")
        unauthorized = await client.get("/v1/disruptions/1", headers={"Authorization": "Bearer nope"})
        assert_problem(unauthorized, 401)
        missing = await client.get("/v1/disruptions/1")
        assert_problem(missing, 404)
        ok = await client.get("/healthz")
        assert ok.status_code == 200
        assert len({local_port(r) for r in (first, unauthorized, missing, ok)}) == 1


async def test_an_unhandled_error_answers_a_500_problem_with_connection_close() -> None:
    app = FastAPI()
    problems.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    async with serving(app) as (base, _), httpx.AsyncClient(base_url=base) as client:
        response = await client.get("/boom")
        assert_problem(response, 500)
        assert response.headers["connection"] == "close"
        assert response.json()["detail"] == "internal error"
        assert (await client.get("/boom")).status_code == 500


async def test_a_body_declared_over_the_cap_is_413_before_it_is_sent(hostile: Gateway) -> None:
    async with serving(create_app(hostile.container)) as (_, port):
        head = (
            b"POST /v1/disruptions HTTP/1.1\r\nHost: rebook.test\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + OPS_KEY.encode() + b"\r\nContent-Length: 307200\r\n\r\n"
        )
        answer = await raw_exchange(port, head)
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert b"connection: close" in answer.lower() and b"application/problem+json" in answer


async def raw_exchange(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send `data` and read until the server closes (or `wait` passes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


async def test_headers_that_stop_halfway_are_408_and_closed(hostile: Gateway) -> None:
    async with serving(create_app(hostile.container), http=QuickHeaders) as (_, port):
        answer = await raw_exchange(port, b"GET /healthz HTTP/1.1\r\nHost: rebook.test\r\nX-Slow: ")
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"connection: close" in answer.lower()
        # A connection that never sends a byte is closed too (uvicorn alone would keep it).
        assert (await raw_exchange(port, b"")).startswith(b"HTTP/1.1 408 ")
        # A complete request on the same kind of connection is answered as usual.
        fine = await raw_exchange(port, b"GET /healthz HTTP/1.1\r\nHost: rebook.test\r\nConnection: close\r\n\r\n")
        assert fine.startswith(b"HTTP/1.1 200 ")


async def test_headers_past_the_cap_are_431(hostile: Gateway) -> None:
    flood = b"GET /healthz HTTP/1.1\r\nHost: rebook.test\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 200) for i in range(100))
    async with serving(create_app(hostile.container), http=QuickHeaders) as (_, port):
        answer = await raw_exchange(port, flood)
        assert answer.startswith(b"HTTP/1.1 431 ")


async def test_a_body_that_stops_halfway_is_408_over_a_real_socket(hostile: Gateway) -> None:
    async with serving(create_app(hostile.container, body_timeout_s=0.3), http=QuickHeaders) as (_, port):
        head = (
            b"POST /v1/disruptions HTTP/1.1\r\nHost: rebook.test\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + OPS_KEY.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"flight\":"
        )
        answer = await raw_exchange(port, head)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"application/problem+json" in answer
    assert await count(hostile, Disruption) == 0


async def test_probing_random_paths_mints_no_metric_series_per_path(hostile: Gateway) -> None:
    for i in range(30):
        await hostile.client.get(f"/probe-{i}/x")
        await hostile.client.post(f"/webhooks/probe-{i}", content=b"{}")
    await hostile.client.get("/healthz")
    routes = {s.labels["route"] for m in hostile.container.metrics.http.collect() for s in m.samples}
    providers = {s.labels["provider"] for m in hostile.container.metrics.webhook_rejected.collect() for s in m.samples}
    assert not any("probe" in label for label in routes | providers), routes | providers
    assert {"other", "/healthz"} <= routes
