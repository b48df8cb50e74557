"""A flight's story at scale (#16): delay → cancel on a set of flights carrying ~N passengers, on PostgreSQL.

What it measures: `conversations.intake.story.apply_update` of a cancellation on flights whose delay
already offered every passenger (the re-offer path: each live conversation's offer withdrawn and a
new one held in the update's transaction, one message each). The first step (the delay, its
assessment and first offers through `FanOut`) is timed apart. Prints wall time, SQL statements
and bench/PostgreSQL CPU per step as JSON. In-process (no Redis, no dispatcher: messages stay queued).

    .venv/bin/python bench/story.py --passengers 1000
    .venv/bin/python bench/story.py --passengers 5000      # only on a quiet machine
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.disruption import _cpu_s, _pg_create, _pg_drop, _pick, _seed  # noqa: E402
from conversations.intake.fanout import FanOut  # noqa: E402
from conversations.intake.story import apply_update  # noqa: E402
from conversations.intake.workflow import assess  # noqa: E402
from conversations.models import Conversation, OutboxMessage  # noqa: E402
from gateway.container import build  # noqa: E402
from gateway.migrate import upgrade_async  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind  # noqa: E402
from rebooking_core.models import Inventory, Offer  # noqa: E402


class _Statements:
    """SQL statements sent (an executemany is one)."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args: Any) -> None:
        self.count += 1


async def _timed(statements: _Statements, step: Callable[[], Awaitable[object]]) -> dict[str, float]:
    started, cpu, pg, before = time.perf_counter(), time.process_time(), _cpu_s("postgres"), statements.count
    await step()
    return {
        "wall_s": round(time.perf_counter() - started, 3),
        "statements": statements.count - before,
        "bench_cpu_s": round(time.process_time() - cpu, 3),
        "postgres_cpu_s": round(_cpu_s("postgres") - pg, 3),
    }


async def run(args: argparse.Namespace) -> dict[str, object]:
    pg_name, url = await _pg_create()
    settings = Settings(sandbox=True, database_url=url, batch_size=args.batch_size, _env_file=None)  # type: ignore[call-arg]
    await upgrade_async(url)
    c = build(settings)
    await c.start()
    try:
        day = dt.date.today() + dt.timedelta(days=1)
        await _seed(c, seed=args.seed, start=day, days=1)
        flights = await _pick(c, day, args.passengers, stride=2)
        statements = _Statements(c.db.engine.sync_engine)
        fanout = FanOut(c.service, batch_size=args.batch_size)
        at = c.clock()

        def update(kind: UpdateKind, n: int, **fields: Any) -> list[FlightUpdate]:
            return [
                FlightUpdate("bench", f"{kind.value}-{f.id}", FlightRef(f.carrier, f.number, f.service_date, local=True), kind,
                             at + dt.timedelta(minutes=n), **fields)
                for f in flights
            ]

        disruptions: list[int] = []

        async def delay() -> None:
            for u, f in zip(update(UpdateKind.DELAY, 1), flights, strict=True):
                applied = await apply_update(c.service, FlightUpdate(**{**u.__dict__, "new_departure": f.dep_utc + dt.timedelta(hours=5)}))
                assert applied.disruption_id is not None
                disruptions.append(applied.disruption_id)
                if await assess(c.db, applied.disruption_id, clock=c.clock, batch_size=args.batch_size):
                    while (await fanout.offer_next(applied.disruption_id)).more:
                        pass

        async def cancel() -> None:
            for u in update(UpdateKind.CANCELLATION, 2):
                await apply_update(c.service, u)

        first = await _timed(statements, delay)
        async with c.db.reading() as s:
            offered = int(await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.status == "offered")) or 0)
        second = await _timed(statements, cancel)
        async with c.db.reading() as s:
            updated = int(await s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.key == "offer_updated")) or 0)
            passengers = int(await s.scalar(select(func.coalesce(func.sum(Conversation.passengers), 0))) or 0)
            open_offers = int(await s.scalar(select(func.count()).select_from(Offer).where(Offer.status == "open")) or 0)
            oversold = int(
                await s.scalar(select(func.count()).select_from(Inventory).where(Inventory.sold + Inventory.held > Inventory.capacity))
                or 0
            )
        return {
            "path": "story.apply_update(cancellation) re-offering every offered conversation of delayed flights",
            "flights": len(flights),
            "passengers": passengers,
            "conversations_offered_after_delay": offered,
            "delay_assess_and_first_offers": first,
            "cancel_reoffer": second,
            "cancel_ms_per_reoffer": round(1000 * second["wall_s"] / max(updated, 1), 2),
            "cancel_statements_per_reoffer": round(second["statements"] / max(updated, 1), 1),
            "offer_updated_messages": updated,
            "open_offers": open_offers,
            "oversold_inventory_rows": oversold,
        }
    finally:
        await c.aclose()
        await _pg_drop(pg_name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--passengers", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=21)
    print(json.dumps(asyncio.run(run(p.parse_args())), indent=2))


if __name__ == "__main__":
    main()
