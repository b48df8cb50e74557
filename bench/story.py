"""A flight's story at scale (#16): delay → cancel on a set of flights carrying ~N passengers, on PostgreSQL.

What it measures: `conversations.intake.story.apply_update` of a cancellation on flights whose delay
already offered their passengers (the re-offer path: each live conversation's offer superseded and
a new one held in the same batch transaction, one message each; see conversations/intake/replan.py).
The first step (the delay, its assessment and first offers through `FanOut`) is timed apart. Prints
wall time, SQL statements and bench/PostgreSQL CPU per step, and per re-offered booking, as JSON.
In-process (no Redis, no dispatcher: messages stay queued). `--spare N` adds N seats to every
flight not disrupted, so that most passengers get options (the generated day is nearly full).

    .venv/bin/python bench/story.py --passengers 1000
    .venv/bin/python bench/story.py --passengers 5000 --spare 200     # only on a quiet machine

Measured (2 cores, PostgreSQL 15, other engineers' tests running: load ~7), delay -> cancel, statements
and bench CPU per re-offered booking (`offer_updated` messages):

| run | re-offered | one booking at a time (f4fcd6e)            | batches of 100 (replan.py)               |
|---|---|---|---|
| --passengers 1000                      | 232 / 234   | 25.8 s, 6,101 st. (26.3), 6.2 s CPU (26.6 ms) | 2.6 s, 635 st. (2.7), 0.8 s CPU (3.4 ms)  |
| --passengers 5000                      | 651 / 612   | 88.3 s, 18,493 st. (28.4), 19.6 s CPU (30 ms) | 10.2 s, 2,333 st. (3.8), 2.6 s CPU (4.3 ms) |
| --passengers 5000 --spare 200 --days 2 | 2,584       | —                                          | 16.1 s, 2,759 st. (1.07), 5.3 s CPU (2.1 ms) |

Later, on a quieter machine (load ~4): --passengers 5000 in 5.1 s (2,333 statements, 2.5 s CPU);
--passengers 5000 --spare 200 --days 2 in 5.6 s (2,759 statements, 3.2 s bench CPU = 1.24 ms per re-offered
booking, 1.9 s PostgreSQL CPU), no inventory oversold, as many open offers as re-offers.

(5,030 passengers are ~2,600 bookings; without --spare most have no seat left after the delay and stay
escalated, and the batches serve them best priority first, so a few fewer are re-offered than in id order.)
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
from sqlalchemy import update as sa_update

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
from rebooking_core.models import Inventory, Offer, Passenger  # noqa: E402

#: Loyalty profiles handed to contacts in turn with --loyalty: each preference ranking reads, one it ignores, none.
PROFILES: tuple[dict[str, str] | None, ...] = (
    {"time": "morning"},
    {"time": "evening", "avoid_connection": "yes"},
    {"cabin": "J"},
    {"avoid_connection": "yes"},
    {"seat": "aisle"},
    None,
)


async def _give_loyalty(c: Any) -> int:
    """Miles and preferences on every contact (bulk UPDATE by primary key): ranking and allocation then use them."""
    async with c.db.transaction() as s:
        ids = (await s.scalars(select(Passenger.id).where(Passenger.is_contact.is_(True)))).all()
        rows = [{"id": i, "miles": (i * 7919) % 500_000, "preferences": PROFILES[i % len(PROFILES)]} for i in ids]
        await s.execute(sa_update(Passenger), rows)
    return len(rows)


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
        await _seed(c, seed=args.seed, start=day, days=args.days)
        flights = await _pick(c, day, args.passengers, stride=2)
        loyal = await _give_loyalty(c) if args.loyalty else 0
        if args.spare:
            async with c.db.transaction() as s:
                await s.execute(
                    sa_update(Inventory)
                    .where(Inventory.flight_id.not_in([f.id for f in flights]))
                    .values(capacity=Inventory.capacity + args.spare)
                )
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
            by_status = dict((await s.execute(select(Conversation.status, func.count()).group_by(Conversation.status))).all())
            reasons = dict((await s.execute(select(Conversation.escalation_reason, func.count()).group_by(Conversation.escalation_reason))).all())
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
            "contacts_with_loyalty": loyal,
            "passengers": passengers,
            "conversations_offered_after_delay": offered,
            "conversations_after_delay": {str(k): int(v) for k, v in by_status.items()},
            "escalation_reasons_after_delay": {str(k): int(v) for k, v in reasons.items()},
            "delay_assess_and_first_offers": first,
            "cancel_reoffer": second,
            "cancel_ms_per_reoffer": round(1000 * second["wall_s"] / max(updated, 1), 2),
            "cancel_statements_per_reoffer": round(second["statements"] / max(updated, 1), 2),
            "cancel_bench_cpu_ms_per_reoffer": round(1000 * second["bench_cpu_s"] / max(updated, 1), 2),
            "fanout": dict(fanout.stats),
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
    p.add_argument("--spare", type=int, default=0, help="seats added to every flight not disrupted")
    p.add_argument("--days", type=int, default=1, help="days of schedule and bookings (a second day gives the last flights alternatives)")
    p.add_argument("--loyalty", action="store_true", help="give every contact miles and one of PROFILES' preferences (docs/loyalty.md)")
    print(json.dumps(asyncio.run(run(p.parse_args())), indent=2))


if __name__ == "__main__":
    main()
