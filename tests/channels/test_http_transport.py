"""httpx over aiohttp (`infra.http`): what the WhatsApp adapter sends through it, errors, pools, closing."""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import gzip
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace

import aiohttp
import httpx
import pytest
from aiohttp import web
from pydantic import ValidationError

from channels.sms import SmsChannel
from channels.whatsapp import WhatsAppChannel
from conversations.ports import OutboundMessage, ProviderUnavailable, RateLimited
from gateway.settings import SlackSettings, TwilioSettings, WhatsAppSettings
from infra.http import (
    DEFAULT_MAX_CONNECTIONS,
    AiohttpTransport,
    ProviderClient,
    async_client,
    client_session,
)
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio

PHONE_ID = "1099000111"


def text_message(n: int = 1) -> OutboundMessage:
    return OutboundMessage(
        idempotency_key=f"msg-{n}",
        to="+34600111222",
        locale="en",
        body=f"Your new booking {n} is confirmed.",
        window_open_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )


@dataclass
class Seen:
    method: str
    path: str
    raw_path: str
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int]


@dataclass
class Echo:
    """An aiohttp server on a loopback port that records each request and answers what a route says."""

    sock: socket.socket
    url: str = ""
    seen: list[Seen] = field(default_factory=list)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def echo() -> AsyncIterator[tuple[Echo, web.Application]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    state = Echo(sock, url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    app = web.Application()

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else ("", 0)
        state.seen.append(
            Seen(
                request.method,
                request.path,
                request.raw_path,
                {k.lower(): v for k, v in request.headers.items()},
                await request.read(),
                (peer[0], peer[1]),
            )
        )
        return await handler(request)

    app.middlewares.append(record)
    yield state, app
    sock.close()


async def serve(app: web.Application, state: Echo) -> web.AppRunner:
    """Start `app` on the fixture's port once the test has added its routes."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, state.sock).start()
    return runner


async def graph_success(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": "34600111222", "wa_id": "34600111222"}],
            "messages": [{"id": f"wamid.{request.path.count('/')}"}],
        }
    )


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraphAPI, str]]:
    fake = FakeGraphAPI()
    with LocalServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A server that accepts connections and never answers, to drive read timeouts."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


# --------------------------------------------------------------------- the WhatsApp adapter


async def test_whatsapp_sends_path_headers_and_json_through_aiohttp(
    echo: tuple[Echo, web.Application],
) -> None:
    state, app = echo
    app.router.add_post("/v21.0/{phone}/messages", graph_success)
    runner = await serve(app, state)
    channel = WhatsAppChannel(phone_number_id=PHONE_ID, token="tok", api_base=state.url)
    try:
        result = await channel.send(text_message())
    finally:
        await channel.aclose()
        await runner.cleanup()
    assert result.provider_message_id.startswith("wamid.")
    [seen] = state.seen
    assert (seen.method, seen.path) == ("POST", f"/v21.0/{PHONE_ID}/messages")
    assert seen.headers["authorization"] == "Bearer tok"
    assert seen.headers["content-type"] == "application/json"
    assert int(seen.headers["content-length"]) == len(seen.body)
    assert "transfer-encoding" not in seen.headers
    body = httpx.Response(200, content=seen.body).json()
    assert body["to"] == "34600111222" and body["type"] == "text"
    assert body["text"]["body"] == "Your new booking 1 is confirmed."


async def test_whatsapp_pool_is_bounded_by_max_connections(
    echo: tuple[Echo, web.Application],
) -> None:
    state, app = echo
    app.router.add_post("/v21.0/{phone}/messages", graph_success)
    runner = await serve(app, state)
    channel = WhatsAppChannel(
        phone_number_id=PHONE_ID, token="tok", api_base=state.url, max_connections=2
    )
    try:
        results = await asyncio.gather(*(channel.send(text_message(n)) for n in range(12)))
    finally:
        await channel.aclose()
        await runner.cleanup()
    assert len(results) == 12 and len(state.seen) == 12
    assert len({seen.peer for seen in state.seen}) <= 2


async def test_whatsapp_rate_limit_through_the_transport_keeps_retry_after(
    graph: tuple[FakeGraphAPI, str],
) -> None:
    fake, url = graph
    channel = WhatsAppChannel(phone_number_id=fake.phone_number_id, token=fake.token, api_base=url)
    fake.fail_next(1, status=429, code=130429, retry_after="12")
    fake.fail_next(1, status=502, code=2, message="Service temporarily unavailable")
    try:
        with pytest.raises(RateLimited) as limited:
            await channel.send(text_message())
        with pytest.raises(ProviderUnavailable) as unavailable:
            await channel.send(text_message())
        sent = await channel.send(text_message())
    finally:
        await channel.aclose()
    assert (limited.value.code, limited.value.retry_after) == ("130429", 12.0)
    assert unavailable.value.code == "2"
    assert sent.provider_message_id.startswith("wamid.")


async def test_whatsapp_read_timeout_is_provider_unavailable(silent_port: int) -> None:
    channel = WhatsAppChannel(
        phone_number_id=PHONE_ID,
        token="tok",
        api_base=f"http://127.0.0.1:{silent_port}",
        timeout=0.2,
    )
    try:
        with pytest.raises(ProviderUnavailable) as info:
            await channel.send(text_message())
    finally:
        await channel.aclose()
    assert info.value.code == "timeout"


async def test_whatsapp_server_hanging_up_is_provider_unavailable(
    echo: tuple[Echo, web.Application],
) -> None:
    state, app = echo

    async def hang_up(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    app.router.add_post("/v21.0/{phone}/messages", hang_up)
    runner = await serve(app, state)
    channel = WhatsAppChannel(phone_number_id=PHONE_ID, token="tok", api_base=state.url)
    try:
        with pytest.raises(ProviderUnavailable) as info:
            await channel.send(text_message())
    finally:
        await channel.aclose()
        await runner.cleanup()
    assert info.value.code == "transport"


async def test_whatsapp_closes_its_session_and_can_send_again(
    graph: tuple[FakeGraphAPI, str],
) -> None:
    fake, url = graph
    channel = WhatsAppChannel(phone_number_id=fake.phone_number_id, token=fake.token, api_base=url)
    await channel.send(text_message(1))
    await channel.aclose()
    await channel.aclose()
    await channel.send(text_message(2))  # a fresh client after a close, e.g. a restarted loop
    await channel.aclose()
    gc.collect()  # an unclosed aiohttp session would warn here, and warnings are errors
    assert [b["text"]["body"] for b in fake.bodies] == [
        "Your new booking 1 is confirmed.",
        "Your new booking 2 is confirmed.",
    ]


# --------------------------------------------------------------------- the transport itself


async def test_transport_passes_method_query_headers_and_body(
    echo: tuple[Echo, web.Application],
) -> None:
    state, app = echo

    async def answer(request: web.Request) -> web.Response:
        return web.Response(
            status=418,
            reason="Teapot",
            body=b"short and stout",
            headers={"X-Trace": "abc", "Set-Cookie": "sid=1; Path=/"},
        )

    app.router.add_route("*", "/{tail:.*}", answer)
    runner = await serve(app, state)
    client = async_client(timeout=5.0)
    try:
        client.base_url = httpx.URL(state.url + "/v1")
        first = await client.put(
            "/things/a%2Fb", params={"q": "x y"}, content=b"payload", headers={"X-One": "1"}
        )
        await client.get("/things")
    finally:
        await client.aclose()
        await runner.cleanup()
    assert (first.status_code, first.reason_phrase, first.text) == (
        418,
        "Teapot",
        "short and stout",
    )
    assert first.headers["x-trace"] == "abc"
    one, two = state.seen
    assert (one.method, one.raw_path) == (
        "PUT",
        "/v1/things/a%2Fb?q=x+y",
    )  # sent as httpx encoded it
    assert one.headers["x-one"] == "1" and one.body == b"payload"
    assert (two.method, two.path, two.body) == ("GET", "/v1/things", b"")
    assert "cookie" not in two.headers  # provider clients keep no cookies
    assert not client.cookies


async def test_transport_lets_httpx_decode_gzip_and_the_charset(
    echo: tuple[Echo, web.Application],
) -> None:
    state, app = echo

    async def zipped(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress("Zoë flies at 07:40".encode("latin-1")),
            headers={"Content-Encoding": "gzip", "Content-Type": "text/plain; charset=latin-1"},
        )

    app.router.add_get("/zipped", zipped)
    runner = await serve(app, state)
    client = async_client(timeout=5.0)
    try:
        response = await client.get(state.url + "/zipped")
    finally:
        await client.aclose()
        await runner.cleanup()
    assert response.encoding == "latin-1"
    assert response.text == "Zoë flies at 07:40"


async def test_transport_streams_a_request_body_with_a_length(
    echo: tuple[Echo, web.Application],
) -> None:
    state, app = echo

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_post("/upload", ok)
    runner = await serve(app, state)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"one,"
        yield b"two"

    client = async_client(timeout=5.0)
    try:
        await client.post(state.url + "/upload", content=chunks())
    finally:
        await client.aclose()
        await runner.cleanup()
    [seen] = state.seen
    assert seen.body == b"one,two"
    assert seen.headers["content-length"] == "7" and "transfer-encoding" not in seen.headers


async def test_transport_maps_refused_connections_and_silence_to_httpx_errors(
    silent_port: int,
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    client = async_client(timeout=0.2)
    try:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{closed_port}/")
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"http://127.0.0.1:{silent_port}/")
    finally:
        await client.aclose()


async def test_provider_client_resolves_endpoints_against_the_current_base_url() -> None:
    client = async_client(timeout=1.0)
    try:
        client.base_url = httpx.URL("https://graph.example/v21.0")
        assert str(client.build_request("POST", "/1/messages").url) == (
            "https://graph.example/v21.0/1/messages"
        )
        assert str(client.build_request("GET", "/1/messages?x=1").url) == (
            "https://graph.example/v21.0/1/messages?x=1"
        )
        client.base_url = httpx.URL("http://127.0.0.1:9/v22.0")
        assert str(client.build_request("POST", "/1/messages").url) == (
            "http://127.0.0.1:9/v22.0/1/messages"
        )
        assert str(client.build_request("GET", "https://other.example/x").url) == (
            "https://other.example/x"
        )
        with pytest.raises(TypeError):
            client.cookies = {"sid": "1"}
    finally:
        await client.aclose()
    assert isinstance(client, ProviderClient)


async def test_provider_client_builds_a_json_post_byte_for_byte_as_httpx_does() -> None:
    client = async_client(timeout=3.0)
    try:
        client.base_url = httpx.URL("https://graph.example/v21.0")
        client.headers.update({"Authorization": "Bearer t", "Content-Type": "application/json"})
        payload = {"to": "34600111222", "text": {"body": "Vuelo — elige ✈"}, "n": [1, 2.5, None]}
        fast = client.build_request("POST", "/1/messages", json=payload)
        plain = httpx.AsyncClient.build_request(
            client, "POST", httpx.URL("https://graph.example/v21.0/1/messages"), json=payload
        )
        assert fast.headers.raw == plain.headers.raw  # Host first, Content-Length last, same values
        assert await fast.aread() == plain.content
        assert (fast.method, fast.url) == (plain.method, plain.url)
        assert fast.extensions == plain.extensions  # the client's timeouts
        client.headers["Authorization"] = "Bearer rotated"  # a header changed later is sent at once
        rotated = client.build_request("POST", "/1/messages", json=payload)
        assert rotated.headers["authorization"] == "Bearer rotated"
        # anything besides a JSON body takes httpx's own path
        with_query = client.build_request("POST", "/1/messages", json=payload, params={"a": "1"})
        assert str(with_query.url) == "https://graph.example/v21.0/1/messages?a=1"
    finally:
        await client.aclose()


async def test_transport_closes_its_session() -> None:
    transport = AiohttpTransport(max_connections=4)
    client = httpx.AsyncClient(transport=transport)
    await client.aclose()
    assert transport.session.closed
    assert transport.session.connector is None or transport.session.connector.closed


async def test_client_session_refuses_an_empty_pool() -> None:
    with pytest.raises(ValueError, match="max_connections"):
        client_session(0)
    session = client_session(3)
    try:
        assert isinstance(session.connector, aiohttp.TCPConnector)
        assert session.connector.limit == 3
    finally:
        await session.close()


def test_pool_bounds_are_settings_with_the_shared_default() -> None:
    assert TwilioSettings().max_connections == DEFAULT_MAX_CONNECTIONS
    assert WhatsAppSettings(max_connections=8).max_connections == 8
    for model in (TwilioSettings, WhatsAppSettings, SlackSettings):
        with pytest.raises(ValidationError):
            model(max_connections=0)


async def test_sms_sends_on_one_bounded_session_and_the_sdk_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTwilio()
    caplog.set_level(logging.DEBUG)
    with LocalServer(fake.app) as srv:
        channel = SmsChannel(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            from_number="+14155550100",
            api_base=srv.url,
            max_connections=3,
        )
        try:
            for n in range(2):
                await channel.send(replace(text_message(n), to="+447700900123"))
            http = channel._http
            assert http is not None and isinstance(http.session.connector, aiohttp.TCPConnector)
            assert http.session.connector.limit == 3
        finally:
            await channel.aclose()
    assert len(fake.requests) == 2
    assert [r for r in caplog.records if r.name.startswith("twilio")] == []
