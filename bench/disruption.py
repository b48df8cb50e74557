"""One ~5,000-passenger disruption, end to end, on PostgreSQL + Redis (worker processes) or SQLite.

Prints JSON: time until every impacted booking has held options, time until every first
message is handed to the provider (the sandbox), messages per second, and where time went.

    .venv/bin/python bench/disruption.py --db postgresql --workers 2
    .venv/bin/python bench/disruption.py --db sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import asyncpg
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from conversations.intake.ports import DisruptionRequest, FlightKey, Recorded  # noqa: E402
from conversations.intake.workflow import record_disruption  # noqa: E402
from conversations.models import Conversation, OutboxMessage  # noqa: E402
from gateway.container import build  # noqa: E402
from gateway.migrate import upgrade_async  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from gateway.worker.process import Worker  # noqa: E402
from rebooking_core.generate import generate  # noqa: E402
from rebooking_core.importer import import_bookings, import_schedule  # noqa: E402
from rebooking_core.models import Disruption, Flight, Inventory  # noqa: E402
from rebooking_core.types import DisruptionKind  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/14"


async def _pg_create() -> tuple[str, str]:
    name = f"rebook_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return name, f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _pg_drop(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


def _cpu_s(name: str | None = None, pid: int | None = None) -> float:
    """CPU seconds used so far by one process, or by every process of this name (e.g. all PostgreSQL backends).

    A process that has exited is no longer counted: keep the processes measured alive across a window.
    """
    total = 0.0
    for stat in [Path(f"/proc/{pid}/stat")] if pid is not None else Path("/proc").glob("[0-9]*/stat"):
        try:
            head, _, tail = stat.read_text().rpartition(")")
            if name is not None and head.split("(", 1)[1] != name:
                continue
            fields = tail.split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total


async def _fresh_database(db: str, workdir: str, filename: str) -> tuple[str | None, str]:
    """A new PostgreSQL database (its name, to drop) or an empty SQLite file under `workdir`."""
    if db == "postgresql":
        name, url = await _pg_create()
        return name, url
    path = Path(workdir) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return None, f"sqlite+aiosqlite:///{path}"


async def _seed(c, *, seed: int, start: dt.date, days: int) -> None:  # type: ignore[no-untyped-def]
    """Import a generated schedule and its bookings, as `rebook import` would."""
    dataset = generate(seed=seed, start=start, days=days)
    async with c.db.transaction() as s:
        await import_schedule(s, dataset.schedule)
    async with c.db.transaction() as s:
        await import_bookings(s, dataset.bookings)


async def _cancel(c, flights: Sequence[Flight]) -> Recorded:  # type: ignore[no-untyped-def]
    """Record one disruption cancelling these flights, as ops would through the API."""
    return await record_disruption(
        c.db,
        DisruptionRequest(
            flights=tuple(FlightKey(f.carrier, f.number, f.service_date) for f in flights),
            kind=DisruptionKind.CANCELLED,
            reason="TECH",
        ),
        clock=c.clock,
    )


async def _pick(c, day: dt.date, wanted: int, stride: int = 3) -> list[Flight]:  # type: ignore[no-untyped-def]
    """Every `stride`-th flight of the day until `wanted` passengers are on the cancelled ones."""
    async with c.db.reading() as s:
        rows = (
            await s.execute(
                select(Flight, func.sum(Inventory.sold))
                .join(Inventory, Inventory.flight_id == Flight.id)
                .where(Flight.service_date == day)
                .group_by(Flight.id)
                .order_by(Flight.dep_utc)
            )
        ).all()
    picked, total = [], 0
    for flight, sold in rows[::stride]:
        if total >= wanted:
            break
        picked.append(flight)
        total += int(sold or 0)
    return picked


async def _progress(c) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with c.db.reading() as s:
        pending = await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.status == "pending"))
        queued = await s.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"]))
        )
        total = await s.scalar(select(func.count()).select_from(Conversation))
        status = await s.scalar(select(Disruption.status))
    return {"pending": int(pending or 0), "queued": int(queued or 0), "conversations": int(total or 0), "status": status}


async def run(args: argparse.Namespace) -> dict[str, object]:
    pg_name, url = await _fresh_database(args.db, args.workdir, "bench.db")
    redis_url = REDIS if args.db == "postgresql" else None
    env = {
        **os.environ,
        "REBOOK_DATABASE_URL": url,
        "REBOOK_SANDBOX": "true",
        "REBOOK_BATCH_SIZE": str(args.batch_size),
        "REBOOK_DB_POOL_SIZE": "10",
    }
    if redis_url:
        env["REBOOK_REDIS_URL"] = redis_url
        subprocess.run(["redis-cli", "-n", "14", "flushdb"], check=True, capture_output=True)
    settings = Settings(
        sandbox=True, database_url=url, redis_url=redis_url, batch_size=args.batch_size, _env_file=None  # type: ignore[call-arg]
    )
    await upgrade_async(url)
    c = build(settings)
    await c.start()
    day = dt.date.today() + dt.timedelta(days=1)
    t = time.perf_counter()
    await _seed(c, seed=args.seed, start=day, days=3)
    load_s = time.perf_counter() - t
    flights = await _pick(c, day, args.passengers)
    procs: list[subprocess.Popen[bytes]] = []
    worker_task = None
    if args.db == "postgresql":
        for _ in range(args.workers):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gateway.cli.main", "worker"],
                    env=env,
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        await asyncio.sleep(4)
    else:
        worker_task = asyncio.create_task(Worker(c).run())
    try:
        started = time.perf_counter()
        recorded = await _cancel(c, flights)
        await c.jobs.disruption_recorded(recorded.disruption_id)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            p = await _progress(c)
            if p["status"] != "received" and p["pending"] == 0 and p["queued"] == 0 and p["conversations"] > 0:
                break
            await asyncio.sleep(0.2)
        wall = time.perf_counter() - started
        async with c.db.reading() as s:
            d = await s.get(Disruption, recorded.disruption_id)
            assert d is not None
            # Batches stamp their disruption when they commit; offers carry their batch's start time.
            last_offer = d.offered_at
            first_sent = await s.scalar(select(func.min(OutboxMessage.sent_at)))
            last_sent = await s.scalar(select(func.max(Conversation.first_sent_at)))
            sent = await s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent"))
            bookings = await s.scalar(select(func.count()).select_from(Conversation))
            with_offer = await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.offer_id.is_not(None)))
            oversold = await s.scalar(
                select(func.count()).select_from(Inventory).where(Inventory.sold + Inventory.held > Inventory.capacity)
            )
        created = d.created_at
        result: dict[str, object] = {
            "database": args.db,
            "workers": args.workers if args.db == "postgresql" else 1,
            "flights_cancelled": len(flights),
            "passengers_impacted": d.impacted_passengers,
            "bookings_impacted": bookings,
            "bookings_with_held_options": with_offer,
            "assess_s": round((d.assessed_at - created).total_seconds(), 3) if d.assessed_at else None,
            "all_options_held_s": round((last_offer - created).total_seconds(), 3) if last_offer else None,
            "all_first_messages_handed_over_s": round((last_sent - created).total_seconds(), 3) if last_sent else None,
            "messages_sent": sent,
            "messages_per_s": round(sent / max((last_sent - first_sent).total_seconds(), 1e-3), 1) if first_sent and last_sent and sent else 0,
            "wall_s": round(wall, 3),
            "dataset_load_s": round(load_s, 1),
            "oversold_inventory_rows": oversold,
        }
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)
        if worker_task is not None:
            worker_task.cancel()
        await c.aclose()
        if pg_name:
            await _pg_drop(pg_name)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--passengers", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--workdir", default=".rebook/bench")
    print(json.dumps(asyncio.run(run(p.parse_args())), indent=2, default=str))


if __name__ == "__main__":
    main()
