"""Replies measured the honest way: signed webhooks over HTTP into `rebook serve --workers N`, confirmations timed at the provider.

Path measured: one disruption on PostgreSQL + Redis is fanned out by `rebook worker` processes
through the real twilio and pywa SDKs to a provider fake in its own process (it records each
request's arrival with time.time() and its idempotency key, whose prefix `c<conversation id>`
names the conversation, and answers 50-150 ms later). Once every offer has reached the fake,
`rebook serve --workers N --no-worker` starts (or, with `--embedded`, `rebook serve --workers N`
with an embedded worker in each process and no `rebook worker`), and a load generator in this
process POSTs signed Twilio SMS webhooks (X-Twilio-Signature, form body "1") and signed WhatsApp
webhooks (X-Hub-Signature-256, an interactive button reply carrying the first option's choice
token), alternating, open loop at `--rate` for `--seconds`. Each reply is timed from the moment
its request is sent to the moment the fake receives that conversation's confirmation.
Pacing is off (`REBOOK_PACING__*__RATE=0`): this measures the reply path, not the buckets.

Prints JSON: rate offered/achieved, webhook answer p50/p99, reply->confirmation p50/p99/max,
bookings made vs replies sent, confirmations per conversation, CPU share per process kind, and
the speed probe before and after (seconds for a fixed Python loop: lower is a faster machine).
CPU shares are over the load and the drain after it. PostgreSQL is counted twice: the backends of
this database (found once, at the start of the load) and every postgres process (autovacuum and WAL
writers included, but also other benches' backends); either can read low when a backend exits
meanwhile (it leaves /proc). `machine_cores_busy` counts every process on the machine.

    .venv/bin/python bench/webhooks.py --rate 200 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.paced import answer_json, read_body  # noqa: E402

REDIS = "redis://127.0.0.1:6379/5"
PUBLIC = "https://rebook.example.test"
SMS_NUMBERS = [f"+1555010{i:04d}" for i in range(10)]
WA_NUMBERS = ["1000000000001", "1000000000002"]
SID = "AC" + "0" * 32
TOKEN = "webhooks-bench-twilio-token"
SECRET = "webhooks-bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


# ---- the provider fake (its own process): records arrival, answers after a provider-like delay ----


class ArrivalFake:
    """Twilio's Messages.json and the Graph API's /messages; a send counts when its request arrives."""

    def __init__(self, latency: tuple[float, float]) -> None:
        self.latency = latency
        self.accepted: list[tuple[str, float, str]] = []  # (channel, arrived at, idempotency key)
        self.seq = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        arrived = time.time()
        body = await read_body(receive)
        path = scope["path"]
        if path == "/stats":
            await answer_json(send, 200, {"accepted": self.accepted})
            return
        self.seq += 1
        seq = self.seq
        if path.endswith("/Messages.json"):
            key = dict(scope["headers"]).get(b"i-twilio-idempotency-token", b"").decode()
            self.accepted.append(("sms", arrived, key))
            await asyncio.sleep(random.uniform(*self.latency))
            segments = str(len(parse_qs(body.decode()).get("Body", [""])[0]) // 150 + 1)
            await answer_json(send, 201, {"sid": f"SM{seq:032x}", "status": "queued", "num_segments": segments})
            return
        if path.endswith("/messages"):
            payload = json.loads(body or b"{}")
            self.accepted.append(("whatsapp", arrived, str(payload.get("biz_opaque_callback_data", ""))))
            await asyncio.sleep(random.uniform(*self.latency))
            to = payload.get("to", "")
            await answer_json(
                send,
                200,
                {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": f"wamid.{seq:020d}"}]},
            )
            return
        await answer_json(send, 404, {"error": "unknown path"})


def serve_fake(port: int, low: float, high: float) -> None:
    import uvicorn

    uvicorn.run(ArrivalFake((low, high)), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


# ---- helpers ----


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 4) if ordered else 0.0


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": round(1000 * _pct(values, 0.5), 1),
        "p99": round(1000 * _pct(values, 0.99), 1),
        "max": round(1000 * _pct(values, 1.0), 1),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (uvicorn's workers, multiprocessing's helper)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            for child in (task / "children").read_text().split():
                out += _tree(int(child))
        except OSError:
            continue
    return out


def _backends(database: str) -> list[int]:
    """PostgreSQL backends serving this database (their title names it); other benches' backends are left out."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
            found.append(int(cmdline.parent.name))
    return found


def _machine_busy_s() -> float:
    """CPU seconds every process on the machine has used (/proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _env(url: str, args: argparse.Namespace, fake: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("REBOOK_")},
        "REBOOK_DATABASE_URL": url,
        "REBOOK_REDIS_URL": REDIS,
        "REBOOK_PII_KEYS": f"k1:{SECRET}",
        "REBOOK_BLIND_INDEX_KEY": SECRET,
        "REBOOK_OPS_API_KEYS": SECRET,
        "REBOOK_PUBLIC_BASE_URL": PUBLIC,
        "REBOOK_WORKER_METRICS_PORT": "0",
        "REBOOK_DB_POOL_SIZE": str(args.db_pool),
        "REBOOK_TWILIO__ACCOUNT_SID": SID,
        "REBOOK_TWILIO__AUTH_TOKEN": TOKEN,
        "REBOOK_TWILIO__FROM_NUMBER": SMS_NUMBERS[0],
        "REBOOK_TWILIO__FROM_NUMBERS": ",".join(SMS_NUMBERS[1:]),
        "REBOOK_TWILIO__API_BASE": fake,
        "REBOOK_WHATSAPP__PHONE_NUMBER_ID": WA_NUMBERS[0],
        "REBOOK_WHATSAPP__PHONE_NUMBER_IDS": ",".join(WA_NUMBERS[1:]),
        "REBOOK_WHATSAPP__TOKEN": TOKEN,
        "REBOOK_WHATSAPP__APP_SECRET": SECRET,
        "REBOOK_WHATSAPP__VERIFY_TOKEN": SECRET,
        "REBOOK_WHATSAPP__API_BASE": fake,
        "REBOOK_PACING__SMS__RATE": "0",
        "REBOOK_PACING__WHATSAPP__RATE": "0",
    }


def _twilio_request(i: int, address: str) -> tuple[str, bytes, dict[str, str]]:
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    path = "/webhooks/twilio/sms"
    form = {
        "MessageSid": f"SMbench{i:026d}",
        "AccountSid": SID,
        "From": address,
        "To": SMS_NUMBERS[i % len(SMS_NUMBERS)],
        "Body": "1",
        "NumMedia": "0",
        "NumSegments": "1",
    }
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, form)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return path, urlencode(form).encode(), headers


def _whatsapp_request(i: int, address: str, token: str) -> tuple[str, bytes, dict[str, str]]:
    import hashlib
    import hmac

    number = WA_NUMBERS[i % len(WA_NUMBERS)]
    digits = address.lstrip("+")
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": number, "phone_number_id": number},
                                "contacts": [{"profile": {"name": "x"}, "wa_id": digits}],
                                "messages": [
                                    {
                                        "from": digits,
                                        "id": f"wamid.bench{i:020d}",
                                        "timestamp": str(int(time.time())),
                                        "type": "interactive",
                                        "interactive": {"type": "button_reply", "button_reply": {"id": token, "title": "Option 1"}},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return "/webhooks/whatsapp", body, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


async def _targets(c: Any, limit: int) -> list[tuple[int, str, str, str]]:  # type: ignore[misc]
    """(conversation, channel, address, choice token): offered conversations that are the newest open one at that address."""
    from sqlalchemy import select

    from conversations.models import Conversation
    from rebooking_core.models import ContactPoint, OfferOption

    async with c.db.reading() as s:
        rows = (
            await s.execute(
                select(Conversation.id, Conversation.status, Conversation.offer_id, ContactPoint.address_hash,
                       ContactPoint.address, ContactPoint.channel)
                .join(ContactPoint, ContactPoint.passenger_id == Conversation.passenger_id)
                .where(Conversation.status != "closed", ContactPoint.channel.in_(["sms", "whatsapp"]))
                .order_by(Conversation.id.desc())
            )
        ).all()
        first = dict(
            (await s.execute(select(OfferOption.offer_id, OfferOption.id).where(OfferOption.rank == 1))).all()
        )
    newest: dict[tuple[str, str], tuple[int, str, int | None, str, str]] = {}
    for conv_id, status, offer_id, digest, address, channel in rows:
        newest.setdefault((channel, digest), (conv_id, status, offer_id, channel, address or ""))
    by_channel: dict[str, list[tuple[int, str, str, str]]] = {"sms": [], "whatsapp": []}
    seen: set[int] = set()
    for conv_id, status, offer_id, channel, address in newest.values():
        if status == "offered" and offer_id in first and conv_id not in seen:
            seen.add(conv_id)
            by_channel[channel].append((conv_id, channel, address, f"opt:{offer_id}:{first[offer_id]}"))
    mixed = [t for pair in zip(by_channel["sms"], by_channel["whatsapp"], strict=False) for t in pair]
    random.Random(7).shuffle(mixed)
    return mixed[:limit]


async def _wait_until_sent(c: Any, timeout: float) -> dict[str, int]:
    """Every impacted booking holds options and the outbox has nothing left to send."""
    from sqlalchemy import func, select

    from conversations.models import Conversation, OutboxMessage

    deadline = time.monotonic() + timeout
    while True:
        async with c.db.reading() as s:
            by_status = dict((await s.execute(select(Conversation.status, func.count()).group_by(Conversation.status))).all())
            waiting = await s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"])))
        if by_status and not by_status.get("pending") and not waiting:
            return {str(k): int(v) for k, v in by_status.items()}
        if time.monotonic() > deadline:
            raise RuntimeError(f"the wave did not drain within {timeout:.0f} s: {by_status}, {waiting} outbox rows waiting")
        await asyncio.sleep(1.0)


async def _sessions(database: str) -> int:
    """Connections PostgreSQL has accepted into this database so far (each new one costs a handshake and fresh prepares)."""
    import asyncpg

    from bench.disruption import PG_ADMIN

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        return int(await conn.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = $1", database) or 0)
    finally:
        await conn.close()


async def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{url} exited with {proc.returncode}")
            try:
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
            await asyncio.sleep(0.3)


# ---- the bench ----


async def run(args: argparse.Namespace) -> dict[str, object]:
    import aiohttp
    import asyncpg
    from sqlalchemy import func, select

    from bench.disruption import PG_ADMIN, _cancel, _cpu_s, _pg_create, _pg_drop, _pick, _seed
    from bench.load import _speed_probe
    from conversations.models import Conversation, OutboxMessage
    from gateway.container import build
    from gateway.migrate import upgrade_async
    from gateway.settings import Settings

    probe_before = _speed_probe()
    fake_port, port = args.fake_port or _free_port(), args.port or _free_port()
    fake_url = f"http://127.0.0.1:{fake_port}"
    low, high = (float(x) / 1000 for x in args.provider_latency_ms.split(","))
    logs = Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    fake = subprocess.Popen([sys.executable, __file__, "--fake", str(fake_port), str(low), str(high)])
    name, url = await _pg_create()
    subprocess.run(["redis-cli", "-n", REDIS.rsplit("/", 1)[1], "flushdb"], check=True, capture_output=True)
    env = _env(url, args, fake_url)
    procs: dict[str, list[subprocess.Popen[bytes]]] = {"worker": [], "gateway": []}
    opened: list[Any] = []

    def start(kind: str, *cmd: str) -> subprocess.Popen[bytes]:
        out = (logs / f"{kind}-{len(procs[kind])}.log").open("wb")
        opened.append(out)
        proc = subprocess.Popen([sys.executable, "-m", "gateway.cli.main", *cmd], env=env, cwd=ROOT, stdout=out, stderr=out)
        procs[kind].append(proc)
        return proc

    c = None
    try:
        await upgrade_async(url)
        os.environ.update({k: v for k, v in env.items() if k.startswith("REBOOK_")})
        c = build(Settings())
        await c.start()
        day = dt.date.today() + dt.timedelta(days=1)
        await _seed(c, seed=args.seed, start=day, days=args.days + 1)
        admin = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
        await admin.execute("VACUUM (ANALYZE)")
        await admin.close()
        if not args.embedded:
            for _ in range(args.workers):
                start("worker", "worker")
        flights = []
        for d in range(args.days):  # one disruption over several days: enough offers for rate x seconds
            flights += await _pick(c, day + dt.timedelta(days=d), args.passengers, stride=args.stride)
        recorded = await _cancel(c, flights)
        if args.embedded:  # the gateways' embedded workers fan out too
            start("gateway", "serve", "--workers", str(args.gateways), "--port", str(port))
        await asyncio.sleep(3)
        await c.jobs.disruption_recorded(recorded.disruption_id)
        t_wave = time.perf_counter()
        conversations = await _wait_until_sent(c, timeout=600)
        wave_s = time.perf_counter() - t_wave
        if not args.embedded:
            start("gateway", "serve", "--workers", str(args.gateways), "--no-worker", "--port", str(port))
        await _wait_http(f"http://127.0.0.1:{port}/healthz", procs["gateway"][0], timeout=120)
        warmup = args.warmup if args.warmup is not None else int(args.rate * args.warmup_seconds)
        warmup_rate = args.warmup_rate or args.rate
        wanted = int(args.rate * args.seconds) + warmup
        targets = await _targets(c, wanted)
        if len(targets) < wanted:
            print(f"only {len(targets)} conversations to answer (wanted {wanted}): the run is shorter", file=sys.stderr)
        requests = [
            (conv, channel, *(_twilio_request(i, address) if channel == "sms" else _whatsapp_request(i, address, token)))
            for i, (conv, channel, address, token) in enumerate(targets)
        ]
        gc.collect()
        gc.freeze()
        await asyncio.sleep(args.settle)

        sent_at: dict[int, float] = {}
        answers: list[float] = []
        statuses: dict[int, int] = {}
        connector = aiohttp.TCPConnector(limit=args.connections)
        base = f"http://127.0.0.1:{port}"

        async def post(conv: int, path: str, body: bytes, headers: dict[str, str], measured: bool) -> None:
            t = time.time()
            if measured:
                sent_at[conv] = t
            try:
                async with http.post(base + path, data=body, headers=headers) as r:
                    await r.read()
                    statuses[r.status] = statuses.get(r.status, 0) + 1
            except aiohttp.ClientError:
                statuses[0] = statuses.get(0, 0) + 1
                return
            answers.append(time.time() - t)

        async with aiohttp.ClientSession(connector=connector) as http:
            tasks = []
            w0 = time.perf_counter()
            for i, (conv, _ch, path, body, headers) in enumerate(requests[:warmup]):  # first connections and caches
                await asyncio.sleep(max(0.0, w0 + i / warmup_rate - time.perf_counter()))
                tasks.append(asyncio.create_task(post(conv, path, body, headers, measured=False)))
            await asyncio.gather(*tasks)
            warmup_answers = sorted(answers)
            answers.clear()
            await asyncio.sleep(2.0)
            measured = requests[warmup:]
            pids = {kind: [pid for p in ps for pid in _tree(p.pid)] for kind, ps in procs.items()}
            backends = _backends(name)

            def cpu_now() -> dict[str, float]:
                return {
                    **{kind: sum(_cpu_s(pid=pid) for pid in ps) for kind, ps in pids.items()},
                    "fake": _cpu_s(pid=fake.pid),
                    "postgres_backends_of_this_database": sum(_cpu_s(pid=pid) for pid in backends),
                    "postgres_all_processes": _cpu_s("postgres"),
                    "redis": _cpu_s("redis-server"),
                    "load_generator": _cpu_s(pid=os.getpid()),
                    "machine": _machine_busy_s(),
                }

            print(f"load starts: {len(measured)} replies at {args.rate:g}/s; processes {pids}", file=sys.stderr, flush=True)
            sessions0 = await _sessions(name)
            cpu0, t0 = cpu_now(), time.perf_counter()
            tasks = []
            late = 0.0
            for i, (conv, _ch, path, body, headers) in enumerate(measured):
                due = t0 + i / args.rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    late = max(late, -delay)
                tasks.append(asyncio.create_task(post(conv, path, body, headers, measured=True)))
            offered_s = time.perf_counter() - t0
            await asyncio.gather(*tasks)
            answered_s = time.perf_counter() - t0
            await asyncio.sleep(args.drain)
            cpu1, wall = cpu_now(), time.perf_counter() - t0
            sessions = await _sessions(name) - sessions0
            async with http.get(f"{fake_url}/stats") as r:
                stats = await r.json()
        probe_after = _speed_probe()

        conv_ids = [conv for conv, *_ in measured]
        async with c.db.reading() as s:
            booked = await s.scalar(
                select(func.count()).select_from(Conversation).where(Conversation.id.in_(conv_ids), Conversation.booked_option_id.is_not(None))
            )
            after = dict(
                (
                    await s.execute(
                        select(OutboxMessage.key, func.count())
                        .where(OutboxMessage.conversation_id.in_(conv_ids), OutboxMessage.key != "offer")
                        .group_by(OutboxMessage.key)
                    )
                ).all()
            )
        confirmed: dict[int, float] = {}
        arrivals: dict[int, int] = {}
        for _channel, at, key in stats["accepted"]:
            head = key.split("-")[0]
            if not head.startswith("c") or not head[1:].isdigit():
                continue
            conv = int(head[1:])
            if conv in sent_at and at >= sent_at[conv]:
                confirmed[conv] = min(confirmed.get(conv, at), at)
                arrivals[conv] = arrivals.get(conv, 0) + 1
        latencies = [confirmed[conv] - sent_at[conv] for conv in confirmed]
        by_channel = {
            ch: [confirmed[conv] - sent_at[conv] for conv, c_, *_ in measured if c_ == ch and conv in confirmed] for ch in ("sms", "whatsapp")
        }
        by_second: dict[int, list[float]] = {}
        for conv in confirmed:
            by_second.setdefault(int(sent_at[conv] - sent_at[conv_ids[0]]), []).append(confirmed[conv] - sent_at[conv])
        cores = {kind: round((cpu1[kind] - cpu0[kind]) / wall, 3) for kind in cpu0 if kind != "machine"}
        machine = round((cpu1["machine"] - cpu0["machine"]) / wall, 3)
        return {
            "path": (
                f"signed Twilio + WhatsApp webhooks over HTTP (aiohttp, open loop) into `rebook serve --workers {args.gateways}"
                + (" (embedded worker in each)`" if args.embedded else f" --no-worker` + {args.workers} `rebook worker`")
                + ", PostgreSQL + Redis, real twilio + pywa SDKs to a local fake timed at arrival, pacing off"
            ),
            "speed_probe_s": {"before": probe_before, "after": probe_after},
            "conversations_after_wave": conversations,
            "wave_drained_s": round(wave_s, 1),
            "rate_offered_per_s": args.rate,
            "rate_achieved_per_s": round(len(measured) / offered_s, 1) if offered_s else 0.0,
            "load_generator_most_late_s": round(late, 3),
            "replies_sent": len(measured),
            "answered_within_s": round(answered_s, 1),
            "http_statuses": {str(k): v for k, v in sorted(statuses.items())},
            "warmup": {"replies": warmup, "rate_per_s": warmup_rate, "webhook_answer_ms": _ms(warmup_answers)},
            "webhook_answer_ms": _ms(answers),
            "reply_to_confirmation_ms": _ms(latencies),
            "reply_to_confirmation_ms_by_channel": {ch: _ms(v) for ch, v in by_channel.items()},
            "p99_ms_by_second_of_load": {str(k): round(1000 * _pct(v, 0.99)) for k, v in sorted(by_second.items())},
            "bookings_made": int(booked or 0),
            "confirmed_at_provider": len(confirmed),
            "conversations_with_more_than_one_message_after_reply": sum(1 for n in arrivals.values() if n > 1),
            "messages_after_reply_by_key": {str(k): int(v) for k, v in after.items()},
            "cores_busy_by_process_kind": cores,
            "cpu_ms_per_reply_by_process_kind": {
                kind: round(1000 * (cpu1[kind] - cpu0[kind]) / max(len(measured), 1), 2) for kind in cpu0 if kind != "machine"
            },
            "postgres_sessions_opened_during_load": sessions,
            "cores_busy_total": round(sum(cores.values()), 3),
            "machine_cores_busy": machine,
            "measured_over_s": round(wall, 1),
        }
    finally:
        for kind in ("gateway", "worker"):
            for proc in procs[kind]:
                proc.terminate()
        for kind in ("gateway", "worker"):
            for proc in procs[kind]:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for out in opened:
            out.close()
        if c is not None:
            await c.aclose()
        fake.terminate()
        fake.wait()
        if args.keep_db:
            print(f"kept database {name}", file=sys.stderr)
        else:
            await _pg_drop(name)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--fake":
        serve_fake(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rate", type=float, default=200.0, help="replies per second offered (open loop)")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--passengers", type=int, default=8000, help="impacted passengers per disrupted day")
    p.add_argument("--days", type=int, default=7, help="days whose flights the one disruption cancels (more days: more offers to answer)")
    p.add_argument("--stride", type=int, default=2, help="cancel every stride-th flight of the day")
    p.add_argument("--gateways", type=int, default=2, help="rebook serve --workers N")
    p.add_argument("--workers", type=int, default=1, help="rebook worker processes (not with --embedded)")
    p.add_argument("--embedded", action="store_true", help="no rebook worker: each gateway process runs its embedded worker")
    p.add_argument("--db-pool", type=int, default=10, help="REBOOK_DB_POOL_SIZE of every process")
    p.add_argument("--connections", type=int, default=256, help="most open connections from the load generator")
    p.add_argument("--warmup", type=int, default=None, help="replies sent first, not measured (default: --warmup-seconds at the rate)")
    p.add_argument("--warmup-seconds", type=float, default=3.0, help="how long the unmeasured warm-up lasts at --warmup-rate")
    p.add_argument("--warmup-rate", type=float, default=0.0, help="warm-up replies/s (default: --rate); 0 warm-up = a cold gateway")
    p.add_argument("--settle", type=float, default=3.0, help="seconds between the wave's end and the load")
    p.add_argument("--drain", type=float, default=5.0, help="seconds after the last answer for confirmations to arrive")
    p.add_argument("--provider-latency-ms", default="50,150", help="the fake answers after this many ms (uniform low,high)")
    p.add_argument("--fake-port", type=int, default=0)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--logs", default="/tmp/rebook-bench-webhooks", help="where each process's log goes")
    p.add_argument("--keep-db", action="store_true")
    args = p.parse_args()
    from gateway.cli.main import run_loop

    print(json.dumps(run_loop(run(args)), indent=2))


if __name__ == "__main__":
    main()
