"""`rebook dlq list|retry`: look at dead-lettered messages and put them back in the outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import click

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


def cmd_list(limit: int, settings: Settings) -> int:
    async def work(db: Database) -> str:
        async with db.reading() as s:
            rows = await list_dead(s, now=dt.datetime.now(dt.UTC), limit=limit)
            total = await count_dead(s)
        return format_table(rows, total)

    click.echo(asyncio.run(_with_db(settings, work)))
    return 0


def cmd_retry(ids: Sequence[int], every: bool, settings: Settings) -> int:
    if not every and not ids:
        click.echo("rebook: name the message ids to retry, or --all", err=True)
        return 2
    if every and ids:
        click.echo("rebook: give message ids or --all, not both", err=True)
        return 2

    async def work(db: Database) -> list[int]:
        async with db.transaction() as s:
            return await retry_dead(s, now=dt.datetime.now(dt.UTC), ids=None if every else list(ids))

    retried = asyncio.run(_with_db(settings, work))
    missing = sorted(set(ids) - set(retried))
    click.echo(f"{len(retried)} message(s) back in the outbox" + (f": {' '.join(map(str, retried))}" if retried else ""))
    if missing:
        click.echo(f"rebook: not dead-lettered (or unknown): {' '.join(map(str, missing))}", err=True)
        return 1
    return 0


def register(cli: click.Group, settings: Callable[[], Settings]) -> None:
    """`dlq list` and `dlq retry` on `rebook`."""

    @cli.group()
    def dlq() -> None:
        """Dead-lettered messages: list them, send them again."""

    @dlq.command("list")
    @click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Most messages to list.")
    def dlq_list(limit: int) -> int:
        """Dead-lettered messages, oldest first (no personal data)."""
        return cmd_list(limit, settings())

    @dlq.command("retry")
    @click.argument("ids", nargs=-1, type=int, metavar="[ID]...")
    @click.option("--all", "every", is_flag=True, help="Every dead-lettered message.")
    def dlq_retry(ids: tuple[int, ...], every: bool) -> int:
        """Put dead messages back in the outbox (attempts reset, same idempotency key)."""
        return cmd_retry(ids, every, settings())
