"""Ten concurrent disruptions of ~5,000 passengers each on PostgreSQL + Redis with N worker processes.

Prints JSON: time until all impacted bookings hold options, time until all first messages are
handed to the provider (the built-in sandbox inside each worker), messages/s, option-generation
time per disruption (p50/p95/p99), reply→confirmation latency at a paced reply rate (replies
handled by `--reply-processes` stand-in gateway processes sharing the rate), and peak memory per
process.

    .venv/bin/python bench/load.py --workers 2 --disruptions 10 --passengers 5000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.disruption import PG_ADMIN, REDIS, _cancel, _cpu_s, _pg_create, _pg_drop, _pick, _seed  # noqa: E402
from channels.sandbox import Sandbox  # noqa: E402
from conversations.models import Conversation, OutboxMessage  # noqa: E402
from gateway.cli.main import run_loop  # noqa: E402
from gateway.container import build  # noqa: E402
from gateway.migrate import upgrade_async  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from infra.heap import settle_heap  # noqa: E402
from rebooking_core.models import ContactPoint, Disruption, Flight  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3)


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


async def _flights_for(c, days: list[dt.date], wanted: int) -> list[list[Flight]]:  # type: ignore[no-untyped-def]
    """One disruption per day: every other flight of that day until `wanted` passengers."""
    return [await _pick(c, day, wanted, stride=2) for day in days]


def _speed_probe() -> float:
    """Seconds for a fixed pure-Python loop, best of three: this machine's speed at the time, to read the numbers by.

    Shared cores vary: the same loop has taken 0.74–1.28 s on the same machine within a minute.
    """
    best = float("inf")
    for _ in range(3):
        t, total = time.perf_counter(), 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - t)
    return round(best, 3)


async def run(args: argparse.Namespace) -> dict[str, object]:
    probe_before = _speed_probe()
    pg_name, url = await _pg_create()
    subprocess.run(["redis-cli", "-n", "14", "flushdb"], check=True, capture_output=True)
    env = {
        **os.environ,
        "REBOOK_DATABASE_URL": url,
        "REBOOK_REDIS_URL": REDIS,
        "REBOOK_SANDBOX": "true",
        "REBOOK_BATCH_SIZE": str(args.batch_size),
        "REBOOK_WORKER_METRICS_PORT": "0",
    }
    settings = Settings(sandbox=True, database_url=url, redis_url=REDIS, batch_size=args.batch_size, _env_file=None)  # type: ignore[call-arg]
    await upgrade_async(url)
    c = build(settings, sandbox=Sandbox())
    await c.start()
    first_day = dt.date.today() + dt.timedelta(days=1)
    days = [first_day + dt.timedelta(days=i) for i in range(args.disruptions)]
    t = time.perf_counter()
    await _seed(c, seed=args.seed, start=first_day, days=args.disruptions)
    load_s = time.perf_counter() - t
    # A disruption hits a database autovacuum has long been through; a freshly imported one would make
    # the first reads of every page (hint bits) look like the system's cost.
    admin = await asyncpg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}")
    await admin.execute("VACUUM (ANALYZE)")
    await admin.close()
    gc.collect()  # a gateway holds no dataset: keep the bench's own garbage collection out of the numbers
    gc.freeze()
    groups = await _flights_for(c, days, args.passengers)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "worker"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(args.workers)
    ]
    await asyncio.sleep(5)
    result: dict[str, object] = {}
    try:
        def cpu_now() -> dict[str, float]:
            return {
                "workers": sum(_cpu_s(pid=p.pid) for p in procs),
                "postgres": _cpu_s("postgres"),
                "redis": _cpu_s("redis-server"),
                "bench": _cpu_s(pid=os.getpid()),
            }

        fanout_before = cpu_now()
        options_cpu: dict[str, float] = {}
        started = time.perf_counter()
        recorded = await asyncio.gather(*(_cancel(c, group) for group in groups))
        for r in recorded:
            await c.jobs.disruption_recorded(r.disruption_id)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            async with c.db.reading() as s:
                unassessed = await s.scalar(select(func.count()).select_from(Disruption).where(Disruption.status == "received"))
                pending = await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.status == "pending"))
                queued = await s.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"]))
                )
            if not unassessed and not pending and not options_cpu:
                options_cpu = {k: round(v - fanout_before[k], 2) for k, v in cpu_now().items()}
            if not unassessed and not pending and not queued:
                break
            await asyncio.sleep(0.25)
        fanout_wall = time.perf_counter() - started
        async with c.db.reading() as s:
            created = min((await s.scalars(select(Disruption.created_at))).all())
            per_disruption = []
            for r in recorded:
                d = await s.get(Disruption, r.disruption_id)
                if d is not None and d.offered_at is not None:
                    per_disruption.append((d.offered_at - d.created_at).total_seconds())
            last_offer = await s.scalar(select(func.max(Disruption.offered_at)))
            last_assessed = await s.scalar(select(func.max(Disruption.assessed_at)))
            first_sent = await s.scalar(select(func.min(OutboxMessage.sent_at)))
            last_first = await s.scalar(select(func.max(Conversation.first_sent_at)))
            sent = int(await s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")) or 0)
            outbox = {
                f"{status}/{error or '-'}": int(n)
                for status, error, n in (
                    await s.execute(
                        select(OutboxMessage.status, OutboxMessage.last_error, func.count()).group_by(
                            OutboxMessage.status, OutboxMessage.last_error
                        )
                    )
                ).all()
            }
            impacted = int(await s.scalar(select(func.sum(Disruption.impacted_passengers))) or 0)
            bookings = int(await s.scalar(select(func.count()).select_from(Conversation)) or 0)
            rows = (
                await s.execute(
                    select(Conversation.id, Conversation.status, ContactPoint.address_hash, ContactPoint.address, ContactPoint.channel)
                    .join(ContactPoint, ContactPoint.passenger_id == Conversation.passenger_id)
                    .where(Conversation.status != "closed", ContactPoint.channel == "sms")
                    .order_by(Conversation.id.desc())
                )
            ).all()
        # A reply goes to the newest open conversation at its address (a shared family phone):
        # answer only where that one is the offered conversation, so every reply has one confirmation.
        newest: dict[str, tuple[int, str, str, str]] = {}
        for conv_id, status, digest, address, channel in rows:
            newest.setdefault(digest, (conv_id, status, channel, address or ""))
        warm = args.reply_warmup * max(1, args.reply_processes)
        offered = [(cid, ch, addr) for cid, status, ch, addr in newest.values() if status == "offered"][: args.replies + warm]
        # Replies: SMS "1" at a paced rate, handled by separate processes standing in for the gateways
        # (webhook handlers after signature checks), through the same inbound path.
        # What the system burns with nothing to do (periodic sweeps), so the reply numbers can be read net of it.
        idle_before = cpu_now()
        await asyncio.sleep(args.idle_window)
        idle_cpu = {k: round(100 * (v - idle_before[k]) / max(args.idle_window, 1e-3), 1) for k, v in cpu_now().items()}
        cpu_before: dict[str, float] = {}
        tmp = Path(tempfile.mkdtemp())
        reply_started, reply_handled, reply_wall, repliers = _replies(
            env, offered, args, tmp, lambda: cpu_before.update(cpu_now())
        )
        deadline = time.monotonic() + 120
        latencies: list[float] = []
        by_second: dict[int, list[float]] = {}
        after_commit: list[float] = []
        rounds = 0
        # Until every confirmation is settled (sent, or failed for good): waiting longer would count
        # idle sweeps as reply CPU.
        while time.monotonic() < deadline:
            async with c.db.reading() as s:
                settled = (
                    await s.execute(
                        select(OutboxMessage.conversation_id, OutboxMessage.status, OutboxMessage.sent_at).where(
                            OutboxMessage.key.in_(["booked", "offer_refreshed", "offer_seat_gone"]),
                            OutboxMessage.conversation_id.in_(list(reply_started)),
                            OutboxMessage.status.in_(["sent", "failed", "dead"]),
                        )
                    )
                ).all()
            handed = [(cid, at) for cid, status, at in settled if status == "sent" and at is not None]
            latencies = [at.timestamp() - reply_started[cid] for cid, at in handed]
            by_second: dict[int, list[float]] = {}
            first_reply = min(reply_started.values(), default=0.0)
            for cid, at in handed:
                by_second.setdefault(int(reply_started[cid] - first_reply), []).append(at.timestamp() - reply_started[cid])
            after_commit = [at.timestamp() - reply_handled[cid] for cid, at in handed if cid in reply_handled]
            rounds = len({at for _, at in handed})  # a round records its hand-overs with one timestamp
            if len(settled) >= len(reply_started):
                break
            await asyncio.sleep(0.25)
        cpu_after = cpu_now()
        if args.series is not None:
            sent_at = dict(handed)
            args.series.write_text(json.dumps(
                [(reply_started[cid], reply_handled.get(cid), sent_at[cid].timestamp() if cid in sent_at else None) for cid in reply_started]
            ))
        for proc in repliers:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait()
        shutil.rmtree(tmp)
        handling = [reply_handled[cid] - at for cid, at in reply_started.items() if cid in reply_handled]
        reply_cpu = {k: round(1000 * (cpu_after[k] - v) / max(len(reply_started), 1), 2) for k, v in cpu_before.items()}
        async with c.db.reading() as s:
            replied = list(reply_started)
            conv_states = dict(
                (
                    await s.execute(
                        select(Conversation.status, func.count())
                        .where(Conversation.id.in_(replied))
                        .group_by(Conversation.status)
                    )
                ).all()
            )
            later = (
                await s.execute(
                    select(OutboxMessage.key, OutboxMessage.status, OutboxMessage.last_error, func.count())
                    .where(OutboxMessage.conversation_id.in_(replied), OutboxMessage.key != "offer")
                    .group_by(OutboxMessage.key, OutboxMessage.status, OutboxMessage.last_error)
                )
            ).all()
        result = {
            "workers": args.workers,
            "disruptions": len(recorded),
            "passengers_impacted": impacted,
            "bookings_impacted": bookings,
            "all_impacts_assessed_s": round((last_assessed - created).total_seconds(), 3) if last_assessed else None,
            "all_options_held_s": round((last_offer - created).total_seconds(), 3) if last_offer else None,
            "all_first_messages_handed_over_s": round((last_first - created).total_seconds(), 3) if last_first else None,
            "messages_sent": sent,
            "first_messages_by_outcome": outbox,
            "messages_per_s": round(sent / max((last_first - first_sent).total_seconds(), 1e-3), 1) if last_first and first_sent else 0,
            "option_generation_s_per_disruption": {
                "p50": _pct(per_disruption, 0.5),
                "p95": _pct(per_disruption, 0.95),
                "p99": _pct(per_disruption, 0.99),
            },
            "fanout_wall_s": round(fanout_wall, 2),
            "cpu_s_until_options_held": options_cpu,  # seen at the poll (every 0.25 s) that found none pending
            "replies": len(reply_started),
            "reply_processes": args.reply_processes,
            "reply_rate_achieved_per_s": round(len(reply_started) / max(reply_wall, 1e-3), 1),
            "idle_cpu_percent_of_a_core": idle_cpu,
            "cpu_ms_per_reply": {"repliers": _REPLIER_CPU, **reply_cpu},
            "gc_ms_per_reply_in_repliers": _REPLIER_GC,
            "reply_handled_ms": {  # the webhook's answer: booked and committed
                "p50": round(_pct(handling, 0.5) * 1000, 1),
                "p99": round(_pct(handling, 0.99) * 1000, 1),
            },
            "commit_to_handover_ms": {  # the dispatcher's share
                "p50": round(_pct(after_commit, 0.5) * 1000, 1),
                "p99": round(_pct(after_commit, 0.99) * 1000, 1),
            },
            "reply_to_confirmation_handed_over_ms": {
                "p50": round(_pct(latencies, 0.5) * 1000, 1),
                "p99": round(_pct(latencies, 0.99) * 1000, 1),
                "answered": len(latencies),
                "dispatch_rounds": rounds,
                # p99 of the replies sent in each second: a backlog early on shows as a run of high ones
                "p99_by_second": [round(_pct(v, 0.99) * 1000) for _, v in sorted(by_second.items())],
            },
            "replied_conversations": {
                "status": {str(k): int(v) for k, v in conv_states.items()},
                "messages_after_reply": {f"{key}/{status}/{error or '-'}": int(n) for key, status, error, n in later},
            },
            "peak_rss_mb": {
                "bench_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "workers": [_peak_rss_mb(p.pid) for p in procs],
                "repliers": _REPLIER_RSS,
            },
            "dataset_load_s": round(load_s, 1),
            "speed_probe_s": {"before": probe_before, "after": _speed_probe()},
        }
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
        await c.aclose()
        if args.keep_db:
            result["kept_database"] = pg_name
        else:
            await _pg_drop(pg_name)
    return result


_REPLIER_RSS: list[float] = []
_REPLIER_CPU: list[float] = []
_REPLIER_GC: list[float] = []


def _replies(
    env: dict[str, str], targets: list[tuple[int, str, str]], args: argparse.Namespace, tmp: Path, measuring: Callable[[], None]
) -> tuple[dict[int, float], dict[int, float], float, list[subprocess.Popen[bytes]]]:
    """Split the replies over `reply_processes` processes, each at its share of the rate; when each started and was answered.

    `measuring` is called once every process is past its warm-up replies.

    The processes are returned still running, their connections open, until the caller closes
    their stdin: a PostgreSQL backend's CPU time leaves /proc with it, so the replies' share of
    PostgreSQL would go uncounted if they closed their pools first.
    """
    k = max(1, args.reply_processes)
    procs = []
    for i in range(k):
        src, dst = tmp / f"in{i}.json", tmp / f"out{i}.json"
        src.write_text(json.dumps(targets[i::k]))
        proc = subprocess.Popen(
            [sys.executable, __file__, "--replier", str(src), str(dst), "--reply-rate", str(args.reply_rate / k),
             "--reply-concurrency", str(args.reply_concurrency), "--reply-warmup", str(args.reply_warmup)],
            env={**env, "REBOOK_DB_POOL_SIZE": str(max(10, args.reply_concurrency))}, cwd=ROOT, stdin=subprocess.PIPE,
        )
        procs.append((proc, dst))
    for proc, dst in procs:
        _await_file(dst.with_suffix(".measuring"), proc, poll_s=0.01)
    measuring()
    started: dict[int, float] = {}
    handled: dict[int, float] = {}
    walls = []
    for proc, dst in procs:
        _await_file(dst, proc, poll_s=0.1)
        out = json.loads(dst.read_text())
        started.update({int(cid): at for cid, at in out["started"].items()})
        handled.update({int(cid): at for cid, at in out["handled"].items()})
        walls.append(out["wall_s"])
        _REPLIER_RSS.append(out["peak_rss_mb"])
        _REPLIER_CPU.append(out["cpu_ms_per_reply"])
        _REPLIER_GC.append(out["gc_ms_per_reply"])
    return started, handled, max(walls, default=0.0), [proc for proc, _ in procs]


def _await_file(path: Path, proc: subprocess.Popen[bytes], *, poll_s: float) -> None:
    """Until the replier writes `path`; a replier that died instead fails the bench."""
    while not path.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"replier exited with {proc.returncode}")
        time.sleep(poll_s)


def _gc_clock() -> list[float]:
    """CPU seconds the cyclic garbage collector has taken since this call, kept in the list's one item."""
    spent, began = [0.0], [0.0]

    def clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.process_time()
        else:
            spent[0] += time.process_time() - began[0]

    gc.callbacks.append(clock)
    return spent


async def _replier(src: Path, dst: Path, rate: float, concurrency: int, warmup: int) -> None:
    """One stand-in gateway: answer "1" for each target at `rate`, recording when each reply arrived.

    The first `warmup` replies are not measured: they open and warm the pool's connections (each
    backend's caches, each statement's preparation), as in a gateway that has been running.
    """
    targets = json.loads(src.read_text())
    c = build(Settings())  # from the REBOOK_* environment, like the workers
    await c.start()
    settle_heap()  # as `rebook serve` does once started
    assert c.sandbox is not None
    sandbox = c.sandbox
    gate = asyncio.Semaphore(concurrency)
    gc_cpu = _gc_clock()

    started: dict[int, float] = {}
    handled: dict[int, float] = {}

    async def answer(conv_id: int, channel: str, address: str, measured: bool) -> None:
        if measured:
            started[conv_id] = time.time()
        async with gate:
            await c.inbound.accept([sandbox.reply(channel, address, "1")])
        if measured:
            handled[conv_id] = time.time()

    # One paced stream: the warm-up replies lead straight into the measured ones, so the
    # measurement starts in a steady state rather than behind a burst.
    paced_from = t0 = time.perf_counter()
    cpu0, gc0 = time.process_time(), 0.0
    tasks = []
    for n, (conv_id, channel, address) in enumerate(targets):
        delay = paced_from + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if n == warmup:
            t0, cpu0, gc0 = time.perf_counter(), time.process_time(), gc_cpu[0]
            dst.with_suffix(".measuring").touch()
        tasks.append(asyncio.create_task(answer(conv_id, channel, address, n >= warmup)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    cpu_ms = 1000 * (time.process_time() - cpu0) / max(len(targets) - warmup, 1)
    rss = _peak_rss_mb(os.getpid())
    gc_ms = 1000 * (gc_cpu[0] - gc0) / max(len(targets) - warmup, 1)
    out = {
        "started": started, "handled": handled, "wall_s": wall, "peak_rss_mb": rss,
        "cpu_ms_per_reply": round(cpu_ms, 2), "gc_ms_per_reply": round(gc_ms, 3),
    }
    dst.with_suffix(".tmp").write_text(json.dumps(out))
    dst.with_suffix(".tmp").rename(dst)
    await asyncio.to_thread(sys.stdin.read)  # connections stay open until the bench has counted their CPU
    await c.aclose()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--replier":
        r = argparse.ArgumentParser()
        r.add_argument("--replier", nargs=2)
        r.add_argument("--reply-rate", type=float)
        r.add_argument("--reply-concurrency", type=int)
        r.add_argument("--reply-warmup", type=int)
        a = r.parse_args()
        run_loop(_replier(Path(a.replier[0]), Path(a.replier[1]), a.reply_rate, a.reply_concurrency, a.reply_warmup))  # as the gateway runs
        return
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--disruptions", type=int, default=10)
    p.add_argument("--passengers", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--replies", type=int, default=2000)
    p.add_argument("--reply-rate", type=float, default=200.0)
    p.add_argument("--reply-concurrency", type=int, default=16, help="webhook requests in flight at once per process (its DB pool is made as large)")
    p.add_argument(
        "--reply-warmup", type=int, default=600,
        help="unmeasured replies per process first, at the same pace: a freshly started gateway is slow for its first ~6 s",
    )
    p.add_argument("--reply-processes", type=int, default=2, help="stand-in gateway processes sharing the reply rate")
    p.add_argument("--series", type=Path, help="write each measured reply's (arrived, answered, handed over) epoch seconds here, to line up with other traces")
    p.add_argument("--keep-db", action="store_true", help="leave the database behind (to EXPLAIN the queries on it)")
    p.add_argument("--idle-window", type=float, default=5.0, help="seconds of idle CPU measured before the replies")
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--timeout", type=float, default=900)
    print(json.dumps(asyncio.run(run(p.parse_args())), indent=2, default=str))


if __name__ == "__main__":
    main()
