"""The second run of issue #23: 10 × ~5,000 passengers' first messages through the real SDKs, pacing lifted.

Path measured: ten disruptions recorded at once on PostgreSQL + Redis, `--workers` `rebook worker`
processes (the CLI command itself, as `bench/load.py` starts them), each sending through the real
twilio and pywa SDKs (`channels/sms.py`, `channels/whatsapp.py`) over a pool of 10 Twilio numbers
and 2 WhatsApp numbers to a provider fake in its own process that answers every request after
50–150 ms and never rate-limits. rebook's pacing is off (`REBOOK_PACING__SMS__RATE=0`,
`REBOOK_PACING__WHATSAPP__RATE=0`). The fake counts what it accepted (`bench/fakes.py`; or
`bench/paced.py`'s `PacedFake` under uvicorn with `--fake uvicorn`, limits 0).

Prints JSON: passengers, messages the fake accepted per channel, time from the disruptions being
recorded to every impacted booking holding options and to the fake having accepted every
conversation's first message, messages/s, CPU seconds per process kind over the wave (workers,
fake, PostgreSQL, Redis, this process), and the speed probe before and after. Everything shares
the machine's cores: the fake's CPU is reported so it can be read out.

    .venv/bin/python bench/wave.py --workers 2 --disruptions 10 --passengers 5000
    .venv/bin/python bench/wave.py --concurrency 1024 --dispatch-batch 400 --record-batch 256 \
        --template rebook_wave_tpl

What bounds it (measured on the shared 2-core box): at rebook's default 64 sends in flight per
worker, a provider answering in ~0.1 s caps each worker near 640 messages/s and every dispatcher
pass carries few rows: 69.6 s for the 22,557 first messages on a quiet stretch (speed probe
0.18/0.15 s; 398 messages/s, worker CPU ~1.8 ms a message). With 1024 in flight and 400-row passes
(record groups of 256): 22.7 s on a quiet stretch (options held at 8.6 s, 1,875 messages/s, worker
CPU ~0.9 ms a message),
33.8-46.3 s in five runs beside others' benches. 2048 with 1000-row passes was slower (38-59 s,
PostgreSQL CPU up to 40 s). Until every booking holds options, first messages are held back by
design (`DISPATCH_DEFER_S`). The fake's own CPU is ~0.05 ms a request (`--fake uvicorn`: ~0.17).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.disruption import PG_ADMIN, _cancel, _cpu_s, _pg_create, _pg_drop, _pick, _seed  # noqa: E402
from bench.load import _speed_probe  # noqa: E402
from conversations.models import Conversation, OutboxMessage  # noqa: E402
from gateway.container import build  # noqa: E402
from gateway.migrate import upgrade_async  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from rebooking_core.models import Disruption  # noqa: E402

REDIS_DB = 4  # this bench's own Redis database (bench/disruption.py's 14 is the lead's)
SMS_NUMBERS = [f"+1555010{i:04d}" for i in range(10)]
WA_NUMBERS = ["1000000000001", "1000000000002"]
SID = "AC" + "0" * 32
TOKEN = "wave-bench-token"
SECRET = "wave-bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


def _env(url: str, redis: str, base: str, args: argparse.Namespace) -> dict[str, str]:
    """A production-shaped worker: real providers at the fake, pacing off, strong secrets."""
    env = {
        **os.environ,
        "REBOOK_DATABASE_URL": url,
        "REBOOK_REDIS_URL": redis,
        "REBOOK_PII_KEYS": f"k1:{SECRET}",
        "REBOOK_BLIND_INDEX_KEY": SECRET,
        "REBOOK_OPS_API_KEYS": SECRET,
        "REBOOK_PUBLIC_BASE_URL": "https://rebook.example.test",
        "REBOOK_WORKER_METRICS_PORT": "0",
        "REBOOK_BATCH_SIZE": str(args.batch_size),
        "REBOOK_TWILIO__ACCOUNT_SID": SID,
        "REBOOK_TWILIO__AUTH_TOKEN": TOKEN,
        "REBOOK_TWILIO__FROM_NUMBER": SMS_NUMBERS[0],
        "REBOOK_TWILIO__FROM_NUMBERS": ",".join(SMS_NUMBERS[1:]),
        "REBOOK_TWILIO__API_BASE": base,
        "REBOOK_WHATSAPP__PHONE_NUMBER_ID": WA_NUMBERS[0],
        "REBOOK_WHATSAPP__PHONE_NUMBER_IDS": ",".join(WA_NUMBERS[1:]),
        "REBOOK_WHATSAPP__TOKEN": TOKEN,
        "REBOOK_WHATSAPP__APP_SECRET": SECRET,
        "REBOOK_WHATSAPP__VERIFY_TOKEN": SECRET,
        "REBOOK_WHATSAPP__API_BASE": base,
        "REBOOK_PACING__SMS__RATE": "0",
        "REBOOK_PACING__WHATSAPP__RATE": "0",
    }
    if args.concurrency:
        env["REBOOK_DISPATCH_CONCURRENCY"] = str(args.concurrency)
        env["REBOOK_TWILIO__MAX_CONNECTIONS"] = str(args.concurrency)
        env["REBOOK_WHATSAPP__MAX_CONNECTIONS"] = str(args.concurrency)
    if args.dispatch_batch:
        env["REBOOK_DISPATCH_BATCH"] = str(args.dispatch_batch)
    if args.record_batch:
        env["REBOOK_DISPATCH_RECORD_BATCH"] = str(args.record_batch)
    for name, value in args.set or []:
        env[name] = value
    return env


def _backends_cpu_s(database: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to this run's database (others' come and go)."""
    total = 0.0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if f" {database} ".encode() not in (proc / "cmdline").read_bytes():
                continue
            fields = (proc / "stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


def _shown(name: str) -> bool:
    """The knobs a run turned, not its secrets or addresses."""
    return any(
        part in name
        for part in ("PACING", "DISPATCH", "MAX_CONNECTIONS", "BATCH", "WORKER_JOBS", "POOL")
    )


def _refuse_unknown_knobs(args: argparse.Namespace) -> None:
    """Settings ignore unknown variables: a knob this rebook lacks would silently measure the default."""
    for flag, field in (
        ("concurrency", "dispatch_concurrency"),
        ("dispatch_batch", "dispatch_batch"),
        ("record_batch", "dispatch_record_batch"),
    ):
        if getattr(args, flag) and field not in Settings.model_fields:
            raise SystemExit(
                f"--{flag.replace('_', '-')}: this rebook has no REBOOK_{field.upper()} setting"
            )


def _bench_settings(url: str, redis: str, args: argparse.Namespace) -> Settings:
    """The bench process only records disruptions and reads; it sends nothing."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        sandbox=True,
        database_url=url,
        redis_url=redis,
        batch_size=args.batch_size,
        pii_keys=SecretStr(f"k1:{SECRET}"),
        blind_index_key=SecretStr(SECRET),
    )


async def _seeded(name: str, url: str, redis: str, args: argparse.Namespace) -> None:
    """Migrate and import the dataset (as `rebook import`), then vacuum as autovacuum long would have."""
    await upgrade_async(url)
    c = build(_bench_settings(url, redis, args))
    await c.start()
    try:
        await _seed(
            c, seed=args.seed, start=dt.date.today() + dt.timedelta(days=1), days=args.disruptions
        )
    finally:
        await c.aclose()
    admin = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
    await admin.execute("VACUUM (ANALYZE)")
    await admin.close()


async def _database(redis: str, args: argparse.Namespace) -> tuple[str, str]:
    """A seeded database for this run: a copy of `--template` (seeded first if missing), else seeded afresh."""
    if not args.template:
        name, url = await _pg_create()
        await _seeded(name, url, redis, args)
        return name, url
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", args.template):
            await admin.execute(f'CREATE DATABASE "{args.template}"')
            await _seeded(
                args.template,
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/{args.template}",
                redis,
                args,
            )
        name = f"rebook_bench_{uuid.uuid4().hex[:8]}"
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{args.template}"')
    finally:
        await admin.close()
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


def _start_fake(args: argparse.Namespace) -> tuple[subprocess.Popen[str], str]:
    """The fake in its own process (its CPU apart from the workers'), and the base URL it listens on."""
    if args.fake == "raw":
        fake = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fakes.py"), str(args.fake_port), "0.05", "0.15"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert fake.stdout is not None
        return fake, f"http://127.0.0.1:{int(fake.stdout.readline())}"
    fake = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "paced.py"), "--fake", str(args.fake_port), "0", "0"],
        stdin=subprocess.PIPE,
        text=True,
    )
    return fake, f"http://127.0.0.1:{args.fake_port}"


async def _fake_stats(base: str, kind: str) -> dict[str, Any]:
    """What the fake accepted, in `bench/fakes.py`'s shape whichever fake ran."""
    async with httpx.AsyncClient(timeout=60) as http:
        for _ in range(100):
            try:
                raw = (await http.get(f"{base}/stats")).json()
                break
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the fake does not answer")
    if kind == "raw":
        return dict(raw)
    from bench.fakes import Tally  # PacedFake keeps every acceptance: fold them the same way

    tally = Tally()
    for channel, sender, at, key, _segments in sorted(raw["accepted"], key=lambda a: a[2]):
        tally.accepted(channel, sender, key, at)
    return tally.stats()


async def _wait_ready(base: str) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        for _ in range(200):
            try:
                await http.get(f"{base}/stats")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError("the fake did not start")


async def run(args: argparse.Namespace) -> dict[str, object]:
    probe_before = _speed_probe()
    redis = f"redis://127.0.0.1:6379/{REDIS_DB}"
    subprocess.run(["redis-cli", "-n", str(REDIS_DB), "flushdb"], check=True, capture_output=True)
    pg_name, url = await _database(redis, args)
    fake, base = _start_fake(args)
    procs: list[subprocess.Popen[bytes]] = []
    c = None
    try:
        await _wait_ready(base)
        env = _env(url, redis, base, args)
        c = build(_bench_settings(url, redis, args))
        await c.start()
        first_day = dt.date.today() + dt.timedelta(days=1)
        days = [first_day + dt.timedelta(days=i) for i in range(args.disruptions)]
        gc.collect()
        gc.freeze()
        groups = [await _pick(c, day, args.passengers, stride=2) for day in days]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "gateway.cli.main", "worker"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=None if args.worker_logs else subprocess.DEVNULL,
            )
            for _ in range(args.workers)
        ]
        await asyncio.sleep(5)
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a worker exited at start (run with --worker-logs)")

        def cpu_now() -> dict[str, float]:
            return {
                "workers": sum(_cpu_s(pid=p.pid) for p in procs),
                "fake": _cpu_s(pid=fake.pid),
                "postgres": _backends_cpu_s(pg_name),
                "redis": _cpu_s("redis-server"),
                "bench": _cpu_s(pid=os.getpid()),
            }

        cpu_before = cpu_now()
        options_cpu: dict[str, float] = {}
        options_at: float | None = None
        started = time.time()
        recorded = await asyncio.gather(*(_cancel(c, group) for group in groups))
        for r in recorded:
            await c.jobs.disruption_recorded(r.disruption_id)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            async with c.db.reading() as s:
                unassessed = await s.scalar(
                    select(func.count())
                    .select_from(Disruption)
                    .where(Disruption.status == "received")
                )
                pending = await s.scalar(
                    select(func.count())
                    .select_from(Conversation)
                    .where(Conversation.status == "pending")
                )
                queued = await s.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(["pending", "sending"]))
                )
            if not unassessed and not pending and options_at is None:
                options_at = time.time()
                options_cpu = {k: round(v - cpu_before[k], 2) for k, v in cpu_now().items()}
            if not unassessed and not pending and not queued:
                break
            await asyncio.sleep(0.25)
        done_wall = time.time() - started
        cpu = {k: round(v - cpu_before[k], 2) for k, v in cpu_now().items()}
        stats = await _fake_stats(base, args.fake)
        async with c.db.reading() as s:
            created = min((await s.scalars(select(Disruption.created_at))).all()).timestamp()
            last_offer = await s.scalar(select(func.max(Disruption.offered_at)))
            last_first_recorded = await s.scalar(select(func.max(Conversation.first_sent_at)))
            impacted = int(await s.scalar(select(func.sum(Disruption.impacted_passengers))) or 0)
            bookings = int(await s.scalar(select(func.count()).select_from(Conversation)) or 0)
            reached = int(
                await s.scalar(
                    select(func.count())
                    .select_from(Conversation)
                    .where(Conversation.first_sent_at.is_not(None))
                )
                or 0
            )
            outbox = {
                f"{channel}/{status}/{error or '-'}": int(n)
                for channel, status, error, n in (
                    await s.execute(
                        select(
                            OutboxMessage.channel,
                            OutboxMessage.status,
                            OutboxMessage.last_error,
                            func.count(),
                        ).group_by(
                            OutboxMessage.channel, OutboxMessage.status, OutboxMessage.last_error
                        )
                    )
                ).all()
            }
        accepted = sum(stats["requests"].values())
        last_first = stats["last_first_message_at"]
        first_request = stats["first_request_at"]
        return {
            "path": (
                f"{args.workers} `rebook worker` processes, real twilio + pywa SDKs over HTTP to a fake in its own process "
                f"({args.fake}: 50-150 ms, no limits), pacing off, 10 SMS + 2 WhatsApp numbers, PostgreSQL + Redis"
            ),
            "workers": args.workers,
            "worker_settings": {
                k: v
                for k, v in env.items()
                if k.startswith("REBOOK_") and k not in os.environ and _shown(k)
            },
            "disruptions": len(recorded),
            "passengers_impacted": impacted,
            "bookings_impacted": bookings,
            "conversations_reached_at_fake": stats["conversations"],
            "conversations_with_first_hand_over_recorded": reached,
            "messages_accepted_by_fake": stats["requests"],
            "outbox_by_channel_status": outbox,
            "all_options_held_s": round(last_offer.timestamp() - created, 2)
            if last_offer
            else None,
            "options_seen_by_poll_s": round(options_at - started, 2) if options_at else None,
            "first_request_at_fake_s": round(first_request - created, 2) if first_request else None,
            "all_first_messages_accepted_s": round(last_first - created, 2) if last_first else None,
            "first_messages_accepted_by_decile_s": [
                round(at - created, 1) for at in stats["first_message_deciles_at"]
            ],
            "all_first_hand_overs_recorded_s": round(last_first_recorded.timestamp() - created, 2)
            if last_first_recorded
            else None,
            "messages_per_s_first_to_last_request": (
                round(accepted / max(stats["last_request_at"] - first_request, 1e-3), 1)
                if first_request
                else 0
            ),
            "wall_until_outbox_empty_s": round(done_wall, 2),
            "cpu_s": cpu,
            "cpu_s_until_options_held": options_cpu,
            "cpu_ms_per_accepted_message": {
                k: round(1000 * v / max(accepted, 1), 3) for k, v in cpu.items()
            },
            "speed_probe_s": {"before": probe_before, "after": _speed_probe()},
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        }
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:  # the database must still be dropped
                proc.kill()
                proc.wait()
        if c is not None:
            await c.aclose()
        assert fake.stdin is not None
        fake.stdin.close()
        fake.terminate()
        fake.wait(timeout=10)
        await _pg_drop(pg_name)


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--disruptions", type=int, default=10)
    p.add_argument("--passengers", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument(
        "--fake",
        choices=["raw", "uvicorn"],
        default="raw",
        help="bench/fakes.py, or bench/paced.py's PacedFake (limits 0)",
    )
    p.add_argument("--fake-port", type=int, default=0, help="0: any free port (raw fake only)")
    p.add_argument(
        "--set",
        nargs=2,
        action="append",
        metavar=("VAR", "VALUE"),
        help="another REBOOK_* setting for the workers",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        help="sends in flight per worker (REBOOK_DISPATCH_CONCURRENCY) and each channel's pool "
        "(REBOOK_TWILIO__/WHATSAPP__MAX_CONNECTIONS); default: rebook's (64)",
    )
    p.add_argument(
        "--dispatch-batch", type=int, help="rows a dispatcher pass claims (REBOOK_DISPATCH_BATCH)"
    )
    p.add_argument(
        "--record-batch",
        type=int,
        help="completed sends recorded in one transaction at most (REBOOK_DISPATCH_RECORD_BATCH)",
    )
    p.add_argument("--worker-logs", action="store_true", help="let the workers' stderr through")
    p.add_argument("--seed", type=int, default=21)
    p.add_argument(
        "--template",
        help="run on a copy of this database, seeded first if it does not exist (saves the ~1 min import; "
        "its flights start tomorrow and its schema is today's: drop it on another day or after a migration)",
    )
    p.add_argument("--timeout", type=float, default=600)
    args = p.parse_args()
    _refuse_unknown_knobs(args)
    if args.fake == "uvicorn" and not args.fake_port:
        args.fake_port = 18793
    print(json.dumps(asyncio.run(run(args)), indent=2, default=str))


if __name__ == "__main__":
    main()
