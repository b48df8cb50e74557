"""`rebook dlq list|retry`: look at dead-lettered messages and put them back in the outbox."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from typing import Any

from conversations.outbox.deadletters import DeadLetter, count_dead, list_dead, retry_dead
from gateway.settings import Settings
from infra.db import Database


def _age(delta: dt.timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{seconds:02d}s"


def format_table(rows: Sequence[DeadLetter], total: int) -> str:
    """No recipient, name or text: ids, message key, channels and provider error codes only."""
    header = ("id", "conversation", "key", "channels", "attempts", "last error", "age")
    lines = [
        (
            str(r.id),
            str(r.conversation_id),
            r.key,
            ",".join(r.channels) or "-",
            str(r.attempts),
            " ".join(x for x in (r.last_error, r.last_code) if x) or "-",
            _age(r.age),
        )
        for r in rows
    ]
    widths = [max(len(c) for c in col) for col in zip(header, *lines, strict=False)]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in (header, *lines)]
    out.append(f"{len(rows)} of {total} dead-lettered message(s)")
    return "\n".join(out)


async def _with_db(settings: Settings, work: Callable[[Database], Any]) -> Any:
    db = Database(settings.database_url)
    try:
        return await work(db)
    finally:
        await db.dispose()


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work(db: Database) -> str:
        async with db.reading() as s:
            rows = await list_dead(s, now=dt.datetime.now(dt.UTC), limit=args.limit)
            total = await count_dead(s)
        return format_table(rows, total)

    print(asyncio.run(_with_db(settings, work)))
    return 0


def cmd_retry(args: argparse.Namespace, settings: Settings) -> int:
    if not args.all and not args.ids:
        print("rebook: name the message ids to retry, or --all", file=sys.stderr)
        return 2
    if args.all and args.ids:
        print("rebook: give message ids or --all, not both", file=sys.stderr)
        return 2

    async def work(db: Database) -> list[int]:
        async with db.transaction() as s:
            return await retry_dead(s, now=dt.datetime.now(dt.UTC), ids=None if args.all else args.ids)

    retried = asyncio.run(_with_db(settings, work))
    missing = sorted(set(args.ids) - set(retried))
    print(f"{len(retried)} message(s) back in the outbox" + (f": {' '.join(map(str, retried))}" if retried else ""))
    if missing:
        print(f"rebook: not dead-lettered (or unknown): {' '.join(map(str, missing))}", file=sys.stderr)
        return 1
    return 0


def add_parser(sub: Any, settings: Callable[[], Settings]) -> None:
    """Registers `dlq list` and `dlq retry` on the `rebook` sub-command parser."""
    dlq = sub.add_parser("dlq", help="dead-lettered messages: list them, send them again")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
    ls = dlq_sub.add_parser("list", help="dead-lettered messages, oldest first (no personal data)")
    ls.add_argument("--limit", type=int, default=50)
    ls.set_defaults(func=lambda args: cmd_list(args, settings()))
    retry = dlq_sub.add_parser("retry", help="put dead messages back in the outbox (attempts reset, same idempotency key)")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID")
    retry.add_argument("--all", action="store_true", help="every dead-lettered message")
    retry.set_defaults(func=lambda args: cmd_retry(args, settings()))
