"""`rebook sandbox outbox [--follow]`: what the sandbox sent, read from the conversation log in the database.

Any process may have sent it (`rebook serve`'s embedded worker, a `rebook worker`): the sandbox's
own memory is per process, the log is not. This command prints message text to the operator's
terminal, which is its purpose; it writes none of it to the log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import click

from channels.sandbox import PROVIDER
from conversations.message_log import SentEntry, sent_by
from gateway.container import configure_keyring
from gateway.settings import Settings
from infra.db import Database

Echo = Callable[[str], None]
Sleep = Callable[[float], Awaitable[None]]


def format_entry(entry: SentEntry) -> str:
    """A header line (delivery id, time, conversation, channel, message key, state, provider id), then the text indented."""
    when = entry.at.strftime("%Y-%m-%d %H:%M:%SZ")
    where = f"conversation {entry.conversation_id}" if entry.conversation_id is not None else "broadcast"
    head = f"#{entry.id}  {when}  {where}  {entry.channel}  {entry.kind}  {entry.status}  {entry.provider_message_id or '-'}"
    text = entry.text if entry.text is not None else "(no text kept: sent before the conversation log, or erased)"
    return head + "\n" + "\n".join(f"    {line}" for line in text.splitlines() or [""])


async def show(db: Database, echo: Echo, *, after: int = 0, newest: int | None = None, conversation: int | None = None) -> int:
    """Print what the sandbox sent past delivery `after`; the last delivery id printed (or `after`)."""
    async with db.reading() as s:
        entries = await sent_by(s, PROVIDER, after=after, newest=newest, conversation_id=conversation)
    for entry in entries:
        echo(format_entry(entry))
    return entries[-1].id if entries else after


async def follow(
    db: Database, echo: Echo, *, after: int, interval: float, conversation: int | None = None, sleep: Sleep = asyncio.sleep
) -> None:
    """Print new messages as they are sent, looking every `interval` seconds, until interrupted."""
    while True:
        await sleep(interval)
        after = await show(db, echo, after=after, conversation=conversation)


def cmd_outbox(settings: Settings, *, newest: int, conversation: int | None, keep_following: bool, interval: float) -> int:
    if not settings.sandbox:
        click.echo("rebook: REBOOK_SANDBOX is not true: nothing is sent to the sandbox now (listing what it sent before)", err=True)

    configure_keyring(settings)  # the texts are encrypted at rest

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            last = await show(db, click.echo, newest=newest, conversation=conversation)
            if keep_following:
                await follow(db, click.echo, after=last, interval=interval, conversation=conversation)
        finally:
            await db.dispose()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        return 0
    return 0


def register(cli: click.Group, settings: Callable[[], Settings], preflight: Callable[..., None]) -> None:
    """`sandbox outbox` on `rebook`."""

    @cli.group()
    def sandbox() -> None:
        """The built-in provider sandbox (REBOOK_SANDBOX=true)."""

    @sandbox.command("outbox")
    @click.option("--follow", "-f", "keep_following", is_flag=True, help="Keep printing messages as they are sent (Ctrl-C stops).")
    @click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many of the latest messages to print first.")
    @click.option("--conversation", type=click.IntRange(min=1), default=None, help="Only this conversation's messages.")
    @click.option(
        "--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True, help="Seconds between looks with --follow."
    )
    def outbox(keep_following: bool, limit: int, conversation: int | None, interval: float) -> int:
        """Messages the sandbox sent, as each channel rendered them, oldest first (any process's: read from the database)."""
        chosen = settings()
        preflight(chosen, redis=False)
        return cmd_outbox(chosen, newest=limit, conversation=conversation, keep_following=keep_following, interval=interval)
