"""Option generation alone: assess and fan out D disruptions in one process, C batches at a time.

Isolates the fan-out from the dispatcher and the job queue, to measure its CPU per booking, its
wall time and how often concurrent batches collide on seats (replans) or deadlock (retries).

    .venv/bin/python bench/fanout.py --disruptions 10 --passengers 5000 --concurrency 4
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.disruption import _cancel, _cpu_s, _pg_create, _pg_drop, _pick, _seed  # noqa: E402
from conversations.intake.fanout import FanOut  # noqa: E402
from conversations.intake.workflow import assess  # noqa: E402
from conversations.models import Conversation  # noqa: E402
from gateway.container import build  # noqa: E402
from gateway.migrate import upgrade_async  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from rebooking_core.models import Inventory, Offer, OfferOption  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3) if ordered else 0.0


class _StatementClock:
    """Wall time per SQL statement shape, client side (round trip included)."""

    def __init__(self, engine: Any) -> None:
        self.total: dict[str, list[float]] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("t", []).append(time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        took = time.perf_counter() - conn.info["t"].pop()
        entry = self.total.setdefault(" ".join(statement.split())[:110], [0, 0.0])
        entry[0] += 1
        entry[1] += took

    def top(self, n: int) -> list[str]:
        ranked = sorted(self.total.items(), key=lambda kv: -kv[1][1])[:n]
        return [f"{t:7.3f}s {k:5d}x {stmt}" for stmt, (k, t) in ranked]


async def run(args: argparse.Namespace) -> dict[str, object]:
    pg_name, url = await _pg_create()
    settings = Settings(sandbox=True, database_url=url, batch_size=args.batch_size, first_contact=args.first_contact, _env_file=None)  # type: ignore[call-arg]
    await upgrade_async(url)
    c = build(settings)
    await c.start()
    try:
        first_day = dt.date.today() + dt.timedelta(days=1)
        days = [first_day + dt.timedelta(days=i) for i in range(args.disruptions)]
        await _seed(c, seed=args.seed, start=first_day, days=args.disruptions)
        groups = [await _pick(c, day, args.passengers, stride=2) for day in days]
        fanout = FanOut(c.service, batch_size=args.batch_size)
        statements = _StatementClock(c.db.engine.sync_engine) if args.statements else None
        started = time.perf_counter()
        cpu = time.process_time()
        pg_cpu = _cpu_s("postgres")
        recorded = [await _cancel(c, group) for group in groups]
        # A FIFO of chain links, like the job stream: each link offers one batch and queues the next.
        queue: asyncio.Queue[int] = asyncio.Queue()
        for r in recorded:
            if await assess(c.db, r.disruption_id, clock=c.clock, batch_size=args.batch_size):
                queue.put_nowait(r.disruption_id)
        assessed = time.perf_counter() - started
        done_at: dict[int, float] = {}
        batch_s: list[float] = []

        async def worker() -> None:
            while not queue.empty():
                disruption_id = queue.get_nowait()
                t = time.perf_counter()
                step = await fanout.offer_next(disruption_id)
                batch_s.append(time.perf_counter() - t)
                done_at[disruption_id] = time.perf_counter() - started
                if step.more:
                    queue.put_nowait(disruption_id)

        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        wall = time.perf_counter() - started
        cpu_s = time.process_time() - cpu
        pg_s = _cpu_s("postgres") - pg_cpu
        async with c.db.reading() as s:
            bookings = int(await s.scalar(select(func.count()).select_from(Conversation)) or 0)
            offered = int(await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.offer_id.is_not(None))) or 0)
            pending = int(await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.status == "pending")) or 0)
            booked = int(await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.status == "booked")) or 0)
            chosen = (
                await s.execute(
                    select(Offer.booking_id, OfferOption.rank, OfferOption.flight_ids, OfferOption.cabin, OfferOption.eu261_eur)
                    .join(OfferOption, OfferOption.offer_id == Offer.id)
                    .order_by(Offer.booking_id, OfferOption.rank)
                )
            ).all()
            oversold = int(
                await s.scalar(select(func.count()).select_from(Inventory).where(Inventory.sold + Inventory.held > Inventory.capacity))
                or 0
            )
        per = list(done_at.values())
        return {
            "disruptions": len(recorded),
            "first_contact": args.first_contact,
            "bookings": bookings,
            "bookings_protected": booked,
            "bookings_with_held_options": offered,
            "still_pending": pending,
            "concurrency": args.concurrency,
            "assess_s": round(assessed, 3),
            "all_options_held_s": round(wall, 3),
            "per_disruption_done_s": {"p50": _pct(per, 0.5), "p95": _pct(per, 0.95), "max": _pct(per, 1.0)},
            "batch_s": {"p50": _pct(batch_s, 0.5), "p95": _pct(batch_s, 0.95), "max": _pct(batch_s, 1.0)},
            "bench_cpu_ms_per_booking": round(1000 * cpu_s / max(bookings, 1), 3),
            "postgres_cpu_ms_per_booking": round(1000 * pg_s / max(bookings, 1), 3),
            "fanout": dict(fanout.stats),
            "oversold_inventory_rows": oversold,
            # Which options every booking got: equal digests mean equal offers (compare runs with --concurrency 1).
            "offers_digest": hashlib.sha256(repr([tuple(row) for row in chosen]).encode()).hexdigest()[:16],
            **({"statements": statements.top(12)} if statements else {}),
        }
    finally:
        await c.aclose()
        await _pg_drop(pg_name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--disruptions", type=int, default=10)
    p.add_argument("--passengers", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--first-contact", choices=("offer", "protect"), default="offer", help="protect: book the best option in each batch")
    p.add_argument("--statements", action="store_true", help="also print the slowest SQL statement shapes")
    print(json.dumps(asyncio.run(run(p.parse_args())), indent=2))


if __name__ == "__main__":
    main()
