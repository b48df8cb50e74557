"""A provider fake for waves too large for an ASGI server: raw asyncio HTTP/1.1, answers late, only counts.

Why not `bench/paced.py`'s `PacedFake` under uvicorn: the fake shares the two cores with the
workers it measures, and uvicorn + an ASGI app cost far more CPU per request than the
client-side send they answer (`bench/wave.py --fake uvicorn` prints both). This one parses just
what it counts (path, Content-Length, Twilio's idempotency header, WhatsApp's tracker), answers
each request after a uniform 50–150 ms like `PacedFake`, in order per connection, with the
success shapes the twilio and pywa SDKs parse, and never rate-limits. `GET /stats` returns
requests per channel and, per conversation (`c<id>` of the idempotency key), when its first
message was accepted.

    .venv/bin/python bench/fakes.py 18792 0.05 0.15     # port (0: any; printed), answer delay range
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import random
import sys
import time
from typing import Any

ACCOUNT = "AC" + "0" * 32

_WHATSAPP = (
    b'{"messaging_product":"whatsapp","contacts":[{"input":"1","wa_id":"1"}],'
    b'"messages":[{"id":"wamid.%d"}]}'
)
_TWILIO = (
    b'{"account_sid":"' + ACCOUNT.encode() + b'","api_version":"2010-04-01","body":"x",'
    b'"date_created":"Sun, 06 Dec 2026 00:00:00 +0000","date_sent":null,'
    b'"date_updated":"Sun, 06 Dec 2026 00:00:00 +0000","direction":"outbound-api",'
    b'"error_code":null,"error_message":null,"from":"+15005550006","messaging_service_sid":null,'
    b'"num_media":"0","num_segments":"1","price":null,"price_unit":"USD","sid":"SM%032d",'
    b'"status":"queued","subresource_uris":{},"to":"+34600111222","uri":"/x.json"}'
)
_TRACKER = b'"biz_opaque_callback_data":"'
_IDEMPOTENCY = "i-twilio-idempotency-token"


class Tally:
    """What the fake accepted: requests per channel and sender, and each conversation's first acceptance."""

    def __init__(self) -> None:
        self.requests: collections.Counter[str] = collections.Counter()
        self.senders: collections.Counter[str] = collections.Counter()
        self.first_at: dict[str, float] = {}
        self.first_request_at: float | None = None
        self.last_request_at: float | None = None

    def accepted(self, channel: str, sender: str, key: str, at: float | None = None) -> None:
        now = time.time() if at is None else at
        self.requests[channel] += 1
        self.senders[f"{channel}:{sender}"] += 1
        if self.first_request_at is None:
            self.first_request_at = now
        self.last_request_at = now
        conversation = key.split("-", 1)[0]
        if conversation and conversation not in self.first_at:
            self.first_at[conversation] = now

    def stats(self) -> dict[str, Any]:
        firsts = sorted(self.first_at.values())
        return {
            "requests": dict(self.requests),
            "senders": dict(self.senders),
            "conversations": len(firsts),
            "first_request_at": self.first_request_at,
            "last_request_at": self.last_request_at,
            "last_first_message_at": firsts[-1] if firsts else None,
            # when each tenth of the conversations had its first message: the wave's shape
            "first_message_deciles_at": [
                firsts[min(len(firsts) - 1, len(firsts) * k // 10)] for k in range(1, 11)
            ]
            if firsts
            else [],
        }


class LateProvider(asyncio.Protocol):
    """One keep-alive connection: Content-Length bodies only (all the SDKs send), answers in request order."""

    counter = itertools.count(1)

    def __init__(self, tally: Tally, delay: tuple[float, float]) -> None:
        self.tally = tally
        self.delay = delay
        self.buffer = b""
        self.due = 0.0  # when this connection's last queued answer goes out
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self._request(lines[0].split(" ", 2)[1], headers, body)

    def _request(self, path: str, headers: dict[str, str], body: bytes) -> None:
        n = next(self.counter)
        if path == "/stats":
            self._write(b"200 OK", json.dumps(self.tally.stats()).encode())
            return
        if path.endswith("/Messages.json"):
            self.tally.accepted("sms", "", headers.get(_IDEMPOTENCY, ""))
            status, answer = b"201 Created", _TWILIO % n
        elif path.endswith("/messages"):
            at = body.find(_TRACKER)
            key = (
                body[at + len(_TRACKER) : body.find(b'"', at + len(_TRACKER))].decode()
                if at >= 0
                else ""
            )
            self.tally.accepted("whatsapp", path.rstrip("/").split("/")[-2], key)
            status, answer = b"200 OK", _WHATSAPP % n
        else:
            status, answer = b"404 Not Found", b"{}"
        loop = asyncio.get_running_loop()
        self.due = max(self.due, loop.time() + random.uniform(*self.delay))
        loop.call_at(self.due, self._write, status, answer)

    def _write(self, status: bytes, body: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json; charset=utf-8\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int, delay: tuple[float, float]) -> None:
    """Serve until stdin closes; print the port first (a line on stdout) so a parent can connect."""
    tally = Tally()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: LateProvider(tally, delay), "127.0.0.1", port, backlog=1024
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    low = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
    high = float(sys.argv[3]) if len(sys.argv) > 3 else 0.15
    asyncio.run(serve(port, (low, high)))


if __name__ == "__main__":
    main()
