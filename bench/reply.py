"""The reply path alone: one disruption fanned out in-process, then N passengers answer "1" by SMS.

Measures what a booking reply costs, split by side: CPU in the receiving (gateway) process, CPU in
the PostgreSQL backends, statements per reply, and the wall time of each reply at a given
concurrency. The dispatcher is not running: the confirmation stays in the outbox (bench/dispatch.py
measures the send).

    .venv/bin/python bench/reply.py --replies 1000 --concurrency 8 [--statements] [--profile out.html]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.disruption import _cancel, _cpu_s, _pg_create, _pg_drop, _pick, _seed  # noqa: E402
from bench.fanout import _pct, _StatementClock  # noqa: E402
from channels.sandbox import Sandbox  # noqa: E402
from conversations.intake.fanout import FanOut  # noqa: E402
from conversations.intake.workflow import assess  # noqa: E402
from conversations.models import Conversation, OutboxMessage  # noqa: E402
from gateway.cli.main import run_loop  # noqa: E402
from gateway.container import build  # noqa: E402
from gateway.migrate import upgrade_async  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from rebooking_core.models import ContactPoint, Inventory  # noqa: E402


async def _offered_targets(c, limit: int) -> list[tuple[int, str, str]]:  # type: ignore[no-untyped-def]
    """Offered conversations that are the newest open one at their SMS or WhatsApp address, so a reply lands on them."""
    async with c.db.reading() as s:
        rows = (
            await s.execute(
                select(Conversation.id, Conversation.status, ContactPoint.address_hash, ContactPoint.address, ContactPoint.channel)
                .join(ContactPoint, ContactPoint.passenger_id == Conversation.passenger_id)
                .where(Conversation.status != "closed", ContactPoint.channel.in_(["sms", "whatsapp"]))
                .order_by(Conversation.id.desc())
            )
        ).all()
    newest: dict[tuple[str, str], tuple[int, str, str, str]] = {}
    for conv_id, status, digest, address, channel in rows:
        newest.setdefault((channel, digest), (conv_id, status, channel, address or ""))
    chosen = {cid: (cid, ch, addr) for cid, status, ch, addr in newest.values() if status == "offered"}
    return list(chosen.values())[:limit]


class _Profile:
    """pyinstrument (.html, .txt) or cProfile (.prof, for pstats) over the replies alone."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        if self.path.suffix == ".prof":
            import cProfile

            self.c: Any = cProfile.Profile()
            self.c.enable()
        else:
            from pyinstrument import Profiler

            self.p = Profiler(async_mode="enabled")
            self.p.start()

    def stop(self) -> None:
        if self.path.suffix == ".prof":
            self.c.disable()
            self.c.dump_stats(str(self.path))
            return
        self.p.stop()
        html = self.path.suffix == ".html"
        self.path.write_text(self.p.output_html() if html else self.p.output_text(unicode=True, show_all=False))


def _profiler(path: str | None) -> _Profile | None:
    return _Profile(path) if path else None


async def _dispatch_rounds(c, sizes: list[int], count: list[int], rounds: int = 100) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Send the confirmations in rounds of k messages, as a worker does when replies trickle in: CPU per message by k."""
    out = {}
    for k in sizes:
        pg0, cpu0, sent, statements0, done = _cpu_s("postgres"), time.process_time(), 0, count[0], 0
        for _ in range(rounds):
            n = await c.dispatcher.run_once(limit=k)
            sent, done = sent + n, done + (n > 0)
        if sent:
            out[str(k)] = {
                "messages": sent,
                "worker_cpu_ms_per_message": round(1000 * (time.process_time() - cpu0) / sent, 2),
                "postgres_cpu_ms_per_message": round(1000 * (_cpu_s("postgres") - pg0) / sent, 2),
                "statements_per_round": round((count[0] - statements0) / max(done, 1), 1),
            }
    return out


async def run(args: argparse.Namespace) -> dict[str, object]:
    pg_name, url = await _pg_create()
    # A pool as large as the concurrency: overflow connections close after use, and a closed
    # backend's CPU time leaves /proc before it can be counted.
    pool = max(10, args.concurrency)
    settings = Settings(sandbox=True, database_url=url, db_pool_size=pool, _env_file=None)  # type: ignore[call-arg]
    await upgrade_async(url)
    c = build(settings, sandbox=Sandbox())
    await c.start()
    assert c.sandbox is not None
    try:
        day = dt.date.today() + dt.timedelta(days=1)
        await _seed(c, seed=args.seed, start=day, days=2)
        recorded = await _cancel(c, await _pick(c, day, args.passengers, stride=args.stride))
        fanout = FanOut(c.service, batch_size=100)
        if await assess(c.db, recorded.disruption_id, clock=c.clock, batch_size=100):
            while (await fanout.offer_next(recorded.disruption_id)).more:
                pass
        async with c.db.reading() as s:
            statuses = dict((await s.execute(select(Conversation.status, func.count()).group_by(Conversation.status))).all())
        await c.dispatcher.drain()  # the offers go out first, as in service: the rounds below carry confirmations only
        targets = await _offered_targets(c, args.replies)
        for _, channel, address in targets[: args.warmup]:
            await c.inbound.accept([c.sandbox.reply(channel, address, "1")])
        targets = targets[args.warmup :]
        statements = _StatementClock(c.db.engine.sync_engine) if args.statements else None
        count = [0]
        event.listen(c.db.engine.sync_engine, "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
        gate = asyncio.Semaphore(args.concurrency)
        walls: list[float] = []
        sandbox = c.sandbox

        async def answer(channel: str, address: str) -> None:
            async with gate:
                t = time.perf_counter()
                await c.inbound.accept([sandbox.reply(channel, address, "1")])
                walls.append(time.perf_counter() - t)

        profiler = _profiler(args.profile) if args.profile_phase == "replies" else None
        pg0, cpu0, t0 = _cpu_s("postgres"), time.process_time(), time.perf_counter()
        await asyncio.gather(*(answer(ch, addr) for _, ch, addr in targets))
        wall = time.perf_counter() - t0
        cpu, pg = time.process_time() - cpu0, _cpu_s("postgres") - pg0
        if profiler is not None:
            profiler.stop()
        n = max(len(targets), 1)
        statements_per_reply = round(count[0] / n, 1)
        profiler = _profiler(args.profile) if args.profile_phase == "dispatch" else None
        dispatch = await _dispatch_rounds(c, [int(k) for k in args.dispatch_rounds.split(",")] if args.dispatch_rounds else [], count)
        if profiler is not None:
            profiler.stop()
        async with c.db.reading() as s:
            confirmations = dict(
                (
                    await s.execute(
                        select(OutboxMessage.key, func.count())
                        .where(OutboxMessage.conversation_id.in_([cid for cid, _, _ in targets]), OutboxMessage.key != "offer")
                        .group_by(OutboxMessage.key)
                    )
                ).all()
            )
            oversold = int(
                await s.scalar(select(func.count()).select_from(Inventory).where(Inventory.sold + Inventory.held > Inventory.capacity))
                or 0
            )
        return {
            "conversations_before_replies": {str(k): int(v) for k, v in statuses.items()},
            "replies": len(targets),
            "concurrency": args.concurrency,
            "replies_per_s": round(len(targets) / max(wall, 1e-3), 1),
            "gateway_cpu_ms_per_reply": round(1000 * cpu / n, 2),
            "postgres_cpu_ms_per_reply": round(1000 * pg / n, 2),
            "statements_per_reply": statements_per_reply,
            "reply_wall_ms": {"p50": round(1000 * _pct(walls, 0.5), 1), "p99": round(1000 * _pct(walls, 0.99), 1)},
            "messages_after_reply": {str(k): int(v) for k, v in confirmations.items()},
            "oversold_inventory_rows": oversold,
            **({"confirmations_sent_in_rounds_of": dispatch} if dispatch else {}),
            **({"statements": statements.top(40)} if statements else {}),
        }
    finally:
        await c.aclose()
        if args.keep_db:
            print(f"kept database {pg_name}", file=sys.stderr)
        else:
            await _pg_drop(pg_name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--passengers", type=int, default=5000)
    p.add_argument("--replies", type=int, default=3000)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--stride", type=int, default=4, help="cancel every stride-th flight of the day (fewer: more seats left)")
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--statements", action="store_true", help="also print every SQL statement shape by total time")
    p.add_argument("--dispatch-rounds", default="1,2,5,20", help="then send the confirmations in 100 rounds of each of these sizes")
    p.add_argument("--keep-db", action="store_true", help="leave the database behind (to EXPLAIN the queries on it)")
    p.add_argument("--profile-phase", choices=["replies", "dispatch"], default="replies")
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop", help="event loop (the gateway's is uvloop)")
    p.add_argument("--profile", help="profile the replies into this file: .html/.txt (pyinstrument) or .prof (cProfile)")
    args = p.parse_args()
    print(json.dumps(run_loop(run(args)) if args.loop == "uvloop" else asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
