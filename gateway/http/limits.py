"""Bounded work before authentication: a body cap per route, deadlines for headers and body.

Measured before these existed: the WhatsApp webhook read a whole 20 MB body before it checked
the signature (10 such requests: +160 MB RSS, never given back) and a request that stopped
halfway was held open for 30 s and more. Now:

- `BoundedBodies` (ASGI middleware, outermost) refuses a declared `Content-Length` above the
  route's cap with 413 before reading a byte, and otherwise reads the body itself, counting as
  it goes: 413 as soon as the count passes the cap, 408 when the whole body has not arrived
  within `body_timeout_s`. Only then does the app run, with the body replayed to it, so no
  handler (and no signature check) ever sees a partial or oversized body. Both answers close
  the connection: the rest of the body is never read.
- `HeaderDeadline` (uvicorn protocol, `rebook serve`) closes with 408 a connection whose request
  line and headers are not complete within `HEADER_TIMEOUT_S` of its first byte (or of opening),
  and with 431 one whose headers pass `MAX_HEADER_BYTES`: httptools itself bounds neither.

Nothing here logs a body; a refusal is logged with method, path and size only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.http.problems import PROBLEM_JSON, problem_bytes

log = logging.getLogger(__name__)

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class BodyLimit:
    """Requests whose path starts with `prefix` may carry at most `max_bytes` of body."""

    prefix: str
    max_bytes: int


#: The longest matching prefix wins. Webhook caps sit above each provider's documented maximum.
BODY_LIMITS: tuple[BodyLimit, ...] = (
    # Meta: "Webhooks payloads can be up to 3MB" (Cloud API webhooks overview). Refusing a real
    # batch would make Meta retry it for a day and then disable the webhook, so 3 MB + margin.
    BodyLimit("/webhooks/whatsapp", 4 * MIB),
    # A Twilio SMS/status form has ~30 fields; a 1,600-character body of emoji is ~19 KB
    # url-encoded, MMS adds up to 10 media URLs.
    BodyLimit("/webhooks/twilio/", 64 * KIB),
    # SNS: a message is at most 256 KB, and its JSON envelope escapes the SES notification inside it.
    BodyLimit("/webhooks/ses", 768 * KIB),
    # A Telegram update: a callback query echoes the tapped message (4,096 UTF-16 units, each up to a
    # 6-byte JSON escape) with its keyboard (up to 100 buttons of 64-byte data) and entities.
    BodyLimit("/webhooks/telegram", 256 * KIB),
    # Slack documents no size; a block_actions payload carries the whole message (up to 50 blocks
    # of up to 3,000 characters), JSON inside a url-encoded form (up to 3× on the wire).
    BodyLimit("/slack/", 1 * MIB),
    # The passenger page's forms: a CSRF token, an option id, a language, a few channel names.
    BodyLimit("/p/", 16 * KIB),
    # RFC 8058's one-click body is `List-Unsubscribe=One-Click`.
    BodyLimit("/email/unsubscribe/", 4 * KIB),
    # A flight-status push: up to 100 status documents of ~1 KB each (webhooks/flightstatus.py).
    BodyLimit("/webhooks/flightstatus/", 256 * KIB),
    # IATA text: an MVT or an ASM sub-message is well under 2 KB; 500 messages a request at most.
    BodyLimit("/v1/feeds/", 1 * MIB),
    # The ops API takes small JSON objects (the largest field is a 1,024-character message).
    BodyLimit("/v1/", 256 * KIB),
)
#: Anything else (health, metrics, docs) takes no body worth the name.
DEFAULT_MAX_BYTES = 64 * KIB
#: A whole body must arrive within this long of the headers (a 4 MB webhook over a slow link is
#: well under it; Slack and Meta time out their own calls after 3 s and 10 s anyway).
BODY_TIMEOUT_S = 10.0
#: Request line and headers within this long of the connection's first byte (or of opening).
HEADER_TIMEOUT_S = 10.0
#: Request line plus headers, in bytes (uvicorn's h11 default for incomplete events is 16 KB).
MAX_HEADER_BYTES = 32 * KIB
#: An idle keep-alive connection is closed after this long (uvicorn's default is 5 s).
KEEP_ALIVE_S = 5


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail


class BoundedBodies:
    """ASGI middleware: read each body under a cap and a deadline before the app sees the request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Sequence[BodyLimit] = BODY_LIMITS,
        default_max_bytes: int = DEFAULT_MAX_BYTES,
        body_timeout_s: float = BODY_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.limits = sorted(limits, key=lambda limit: len(limit.prefix), reverse=True)
        self.default_max_bytes = default_max_bytes
        self.body_timeout_s = body_timeout_s

    def max_bytes(self, path: str) -> int:
        for limit in self.limits:
            if path.startswith(limit.prefix):
                return limit.max_bytes
        return self.default_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.max_bytes(scope["path"])
        try:
            declared = _content_length(scope)
            if declared is not None and declared > cap:
                raise _Refused(413, f"request body of {declared} bytes is over this route's {cap}")
            try:
                async with asyncio.timeout(self.body_timeout_s):
                    body = await _read(receive, cap)
            except TimeoutError:
                raise _Refused(408, f"request body not received within {self.body_timeout_s:g} s") from None
        except _Refused as refused:
            log.warning("request refused: %s %s -> %d (%s)", scope["method"], scope["path"], refused.status, refused.detail)
            await _answer(send, refused.status, refused.detail)
            return
        except _Disconnected:
            return
        await self.app(scope, _replay(body, receive), send)


class _Disconnected(Exception):
    pass


def _content_length(scope: Scope) -> int | None:
    values = [v for k, v in scope["headers"] if k == b"content-length"]
    if not values:
        return None
    if len(set(values)) != 1 or not values[0].isdigit() or len(values[0]) > 18:
        raise _Refused(400, "malformed Content-Length")
    return int(values[0])


async def _read(receive: Receive, cap: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            raise _Refused(413, f"request body over this route's {cap} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body in one message, then the server's own receive (so a disconnect is still seen)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _answer(send: Send, status: int, detail: str) -> None:
    body = problem_bytes(status, detail)
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class HeaderDeadline(HttpToolsProtocol):
    """uvicorn's httptools protocol plus a deadline and a size cap on the request line and headers."""

    header_timeout_s: float = HEADER_TIMEOUT_S
    max_header_bytes: int = MAX_HEADER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_headers = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_headers:
            self._header_bytes += len(data)
            if self._header_timer is None:
                self._arm()
            if self._header_bytes > self.max_header_bytes + self.body_allowance(data):
                self._refuse(431, b"Request Header Fields Too Large")
                return
        super().data_received(data)

    def body_allowance(self, data: bytes) -> int:
        """Bytes after the blank line that ends the headers belong to the body, not to the cap."""
        end = data.find(b"\r\n\r\n")
        return len(data) - end - 4 if end >= 0 else 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # The next request's headers start with its first byte: data_received arms the deadline.
        self._in_headers = True

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._refuse, 408, b"Request Timeout")

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _refuse(self, status: int, reason: bytes) -> None:
        self._disarm()
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A request is being answered (a pipelined one is mid-headers): just stop reading more.
            self.transport.close()
            return
        log.warning("connection refused before its headers ended: %d", status)
        body = problem_bytes(status, reason.decode())
        head = b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % (
            status,
            reason,
            PROBLEM_JSON.encode(),
            len(body),
        )
        self.transport.write(head + body)
        self.transport.close()


def uvicorn_options() -> dict[str, Any]:
    """What `rebook serve` hands to `uvicorn.run` so slow or huge headers cannot hold a connection."""
    return {"http": HeaderDeadline, "timeout_keep_alive": KEEP_ALIVE_S}
