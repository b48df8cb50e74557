"""Client CPU of one send through each HTTP adapter, with many sends in flight.

Drives the real adapter classes from `channels/` (pywa for WhatsApp, twilio for SMS, slack_sdk
for the Slack desk) against a minimal loopback fake that answers each provider's success shape
at once. The fake runs in a child process, so `time.process_time()` of this process is the
client's CPU only. Prints JSON lines, one per adapter and transport: sends/s, client CPU ms per
send, p50/p99 latency, and the load average (other processes on the box inflate CPU per send:
compare adapters within one run). `--transport httpx` runs WhatsApp over httpx's own pool (httpcore) as
before; `aiohttp` over `infra.http.AiohttpTransport` as now. SMS and Slack always run on aiohttp.

    .venv/bin/python bench/sends.py
    .venv/bin/python bench/sends.py --adapters whatsapp --transport httpx aiohttp --in-flight 8 64
    .venv/bin/python bench/sends.py --sends 20000 --max-connections 16
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from channels.slack import SlackDesk  # noqa: E402
from channels.sms import SmsChannel  # noqa: E402
from channels.whatsapp import WhatsAppChannel  # noqa: E402
from conversations.ports import ChoiceView, OutboundMessage  # noqa: E402

PHONE_ID = "1099000111"
ACCOUNT = "AC" + "0" * 32

# ------------------------------------------------------------------ the fake (child process)

_WHATSAPP = (
    b'{"messaging_product":"whatsapp","contacts":[{"input":"34600111222","wa_id":"34600111222"}],'
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
_SLACK = b'{"ok":true,"channel":"C0DESK","ts":"1700000000.%06d","message":{"text":"x","ts":"1700000000.%06d"}}'


class _FakeProvider(asyncio.Protocol):
    """HTTP/1.1 keep-alive, Content-Length bodies only: all any of the three SDKs send."""

    counter = itertools.count(1)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self._answer(head.split(" ", 2)[1])

    def _answer(self, path: str) -> None:
        n = next(self.counter)
        if path.endswith("/messages"):
            status, body = b"200 OK", _WHATSAPP % n
        elif path.endswith("/Messages.json"):
            status, body = b"201 Created", _TWILIO % n
        elif path.endswith("/chat.postMessage"):
            status, body = b"200 OK", _SLACK % (n % 1_000_000, n % 1_000_000)
        else:
            status, body = b"404 Not Found", b"{}"
        self.transport.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json; charset=utf-8\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )


async def _serve() -> None:
    server = await asyncio.get_running_loop().create_server(_FakeProvider, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(
        None, sys.stdin.read
    )  # until the parent closes it


# ------------------------------------------------------------------ the adapters (this process)


class _HttpcoreWhatsApp(WhatsAppChannel):
    """The adapter as it was: pywa over httpx's own connection pool (httpcore)."""

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._timeout, limits=httpx.Limits(max_connections=self._max_connections)
        )


def _choices() -> tuple[ChoiceView, ...]:
    return tuple(
        ChoiceView(
            token=f"opt.7f3a9c.{i}",
            number=i,
            title=f"IB{3160 + i} 17:{10 + i:02d}",
            description=f"Arrives 21:{i:02d}, same cabin",
        )
        for i in range(1, 4)
    )


def _message(i: int, *, window: bool) -> OutboundMessage:
    return OutboundMessage(
        idempotency_key=f"msg-{i}",
        to=f"+346{i % 100_000_000:08d}",
        locale="en",
        body="Your flight IB3166 to London was cancelled. Pick a new flight:",
        choices=_choices(),
        choices_prompt="Reply with a number.",
        window_open_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1) if window else None,
    )


def _adapter(
    name: str, transport: str, base: str, max_connections: int
) -> tuple[Any, Callable[[int], Awaitable[object]]]:
    """The real adapter and one send of it, as the dispatcher (or the desk) calls it."""
    if name == "whatsapp":
        cls = _HttpcoreWhatsApp if transport == "httpx" else WhatsAppChannel
        wa = cls(
            phone_number_id=PHONE_ID, token="t", api_base=base, max_connections=max_connections
        )
        return wa, lambda i: wa.send(_message(i, window=True))
    if name == "sms":
        sms = SmsChannel(
            account_sid=ACCOUNT,
            auth_token="t",
            from_number="+15005550006",
            api_base=base,
            max_connections=max_connections,
        )
        return sms, lambda i: sms.send(_message(i, window=False))
    desk = SlackDesk(token="xoxb-t", api_base=f"{base}/api/", max_connections=max_connections)
    return desk, lambda i: desk.post_relay("C0DESK", "1700000000.000001", f"passenger reply {i}")


async def _drive(
    send: Callable[[int], Awaitable[object]], sends: int, in_flight: int, start: int
) -> list[float]:
    numbers = iter(range(start, start + sends))
    latencies: list[float] = []

    async def lane() -> None:
        for i in numbers:
            began = time.perf_counter()
            await send(i)
            latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(lane() for _ in range(in_flight)))
    return latencies


async def _measure(
    name: str, transport: str, base: str, args: argparse.Namespace, in_flight: int
) -> dict[str, object]:
    adapter, send = _adapter(name, transport, base, args.max_connections)
    try:
        await _drive(send, args.warmup, in_flight, 0)  # pools filled, caches and imports warm
        cpu, wall = time.process_time(), time.perf_counter()
        latencies = await _drive(send, args.sends, in_flight, args.warmup)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await adapter.aclose()
    latencies.sort()
    return {
        "adapter": name,
        "transport": transport if name == "whatsapp" else "aiohttp",
        "sniffio": importlib.util.find_spec("sniffio") is not None,
        "in_flight": in_flight,
        "max_connections": args.max_connections,
        "sends": len(latencies),
        "sends_per_s": round(len(latencies) / wall),
        "cpu_ms_per_send": round(cpu * 1000 / len(latencies), 3),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),  # CPU per send rises when the box is busy
    }


async def run(args: argparse.Namespace) -> list[dict[str, object]]:
    fake = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None
        base = f"http://127.0.0.1:{int(fake.stdout.readline())}"
        rows = []
        for name in args.adapters:
            transports = args.transport if name == "whatsapp" else ["aiohttp"]
            for transport, in_flight in itertools.product(transports, args.in_flight):
                row = await _measure(name, transport, base, args, in_flight)
                print(json.dumps(row), flush=True)
                rows.append(row)
        return rows
    finally:
        assert fake.stdin is not None
        fake.stdin.close()
        fake.wait(timeout=10)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    p.add_argument(
        "--adapters",
        nargs="+",
        choices=["whatsapp", "sms", "slack"],
        default=["whatsapp", "sms", "slack"],
    )
    p.add_argument(
        "--transport", nargs="+", choices=["httpx", "aiohttp"], default=["httpx", "aiohttp"]
    )
    p.add_argument("--in-flight", nargs="+", type=int, default=[64])
    p.add_argument("--sends", type=int, default=5000)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--max-connections", type=int, default=64)
    args = p.parse_args()
    if args.serve:
        asyncio.run(_serve())
        return
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
