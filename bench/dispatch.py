"""The outbox dispatcher alone: first offers of a ~5,000-passenger disruption (~2,400 bookings) to the sandbox.

Sets up a fresh PostgreSQL database (or SQLite file), imports a generated dataset, records one
disruption, assesses it and runs the fan-out in-process so first offers wait in the outbox; then
times `dispatcher.drain()` in this one process and prints JSON: messages, outbox outcomes, seconds,
messages/s and this process's CPU per message (PostgreSQL's own CPU is not in it; the failure
paths, one-time catalog loading and cache warm-up are).

    .venv/bin/python bench/dispatch.py
    .venv/bin/python bench/dispatch.py --db sqlite --passengers 2000
    .venv/bin/python bench/dispatch.py --at 2026-03-02T09:00:00+00:00 --dump /tmp/texts.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.disruption import _cancel, _fresh_database, _pg_drop, _pick, _seed  # noqa: E402
from channels.sandbox import Sandbox  # noqa: E402
from conversations.intake.fanout import FanOut  # noqa: E402
from conversations.intake.workflow import assess  # noqa: E402
from conversations.models import OutboxMessage  # noqa: E402
from gateway.container import Container, build  # noqa: E402
from gateway.migrate import upgrade_async  # noqa: E402
from gateway.settings import Settings  # noqa: E402


def _clock(at: str | None):  # type: ignore[no-untyped-def]
    """A frozen clock makes two runs render the same texts (expiry times included), for --dump diffs."""
    if at is None:
        return lambda: dt.datetime.now(dt.UTC)
    frozen = dt.datetime.fromisoformat(at)
    return lambda: frozen


async def _queue_offers(c: Container, day: dt.date, passengers: int) -> int:
    """One cancelled-flights disruption, assessed and fanned out: first offers wait in the outbox."""
    flights = await _pick(c, day, passengers)
    recorded = await _cancel(c, flights)
    fanout = FanOut(c.service)
    for batch in await assess(
        c.db, recorded.disruption_id, clock=c.clock, batch_size=c.settings.batch_size
    ):
        await fanout.offer_batch(recorded.disruption_id, batch)
    async with c.db.reading() as s:
        return int(
            await s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "pending")
            )
            or 0
        )


def _dump(sandbox: Sandbox, path: str) -> None:
    """What each passenger's phone shows, by idempotency key, so a change in rendering shows in a diff."""
    rows = sorted(
        (m.idempotency_key, m.channel, m.kind, m.text, m.tokens) for m in sandbox.messages
    )
    with open(path, "w", encoding="utf-8") as out:
        for key, channel, kind, text, tokens in rows:
            out.write(
                json.dumps(
                    {"key": key, "channel": channel, "kind": kind, "text": text, "tokens": tokens}
                )
                + "\n"
            )


async def run(args: argparse.Namespace) -> dict[str, object]:
    pg_name, url = await _fresh_database(args.db, args.workdir, "dispatch.db")
    settings = Settings(sandbox=True, database_url=url, batch_size=args.batch_size, _env_file=None)  # type: ignore[call-arg]
    await upgrade_async(url)
    sandbox = Sandbox()
    clock = _clock(args.at)
    c = build(settings, clock=clock, sandbox=sandbox)
    await c.start()
    try:
        day = clock().date() + dt.timedelta(days=1)
        await _seed(c, seed=args.seed, start=day, days=3)
        queued = await _queue_offers(c, day, args.passengers)
        cpu, wall = time.process_time(), time.perf_counter()
        claimed = await c.dispatcher.drain()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        sent = len(sandbox.messages)
        async with c.db.reading() as s:
            outcome = dict(
                (
                    await s.execute(
                        select(
                            OutboxMessage.status
                            + ":"
                            + func.coalesce(OutboxMessage.last_error, ""),
                            func.count(),
                        ).group_by(OutboxMessage.status, OutboxMessage.last_error)
                    )
                ).all()
            )
        if args.dump:
            _dump(sandbox, args.dump)
        return {
            "database": args.db,
            "queued": queued,
            "claimed": claimed,
            "messages": sent,
            "outbox": {str(k): int(v) for k, v in outcome.items()},
            "seconds": round(wall, 3),
            "messages_per_s": round(sent / wall, 1) if wall else 0,
            "cpu_s": round(cpu, 3),
            "cpu_ms_per_message": round(1000 * cpu / sent, 3) if sent else None,
        }
    finally:
        await c.aclose()
        if pg_name:
            await _pg_drop(pg_name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    p.add_argument("--passengers", type=int, default=5000)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument(
        "--at", default=None, help="freeze the clock at this ISO instant (same texts run to run)"
    )
    p.add_argument(
        "--dump", default=None, help="write every sent text, by idempotency key, to this JSONL file"
    )
    p.add_argument("--workdir", default=".rebook/bench")
    print(json.dumps(asyncio.run(run(p.parse_args())), indent=2, default=str))


if __name__ == "__main__":
    main()
