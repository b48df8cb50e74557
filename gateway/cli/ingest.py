"""`rebook ingest mvt|asm|ssm FILE`: IATA messages from a file, as `POST /v1/feeds/*` takes them (SSM: a schedule import).

A malformed message stops the command before anything is applied: one line naming the file, line
and field, exit 2. Otherwise each update goes to its flight's story in order and a table says what
became of each (the same file twice changes nothing: every update is a duplicate the second time);
exit 1 when any update was refused (unknown flight, invalid). An SSM file's NEW flights are loaded
all or nothing, like `rebook import schedule`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import click

from gateway.cli.ui import fail, table
from gateway.settings import Settings
from rebooking_core.ingest.ports import FeedResult
from rebooking_core.ingest.typeb import MalformedMessage


def _text(file: Path) -> str | None:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def cmd_feed(kind: str, file: Path, settings: Settings) -> int:
    from gateway.container import build
    from gateway.http.feeds import READERS
    from gateway.worker.flightstatus import StoryIntake

    text = _text(file)
    if text is None:
        return fail(f"{file}: not UTF-8 text")
    try:
        messages, ignored, updates = READERS[kind](text, dt.datetime.now(dt.UTC))
    except MalformedMessage as exc:
        return fail(f"{file}: {exc} — nothing was applied")

    async def main() -> list[FeedResult]:
        c = build(settings)
        await c.start()
        try:
            results = await StoryIntake(c).accept(updates)
            await c.jobs.wait_idle()
            return results
        finally:
            await c.aclose()

    results = asyncio.run(main()) if updates else []
    rows = []
    for r in results:
        f = r.update.flight
        rows.append((f"{f.carrier}{f.number}/{f.date.isoformat()}", r.update.kind.value, r.outcome, r.detail or ""))
    table(f"{kind} {file.name}: {messages} message(s), {ignored} without an update", ("flight", "kind", "outcome", "detail"), rows)
    return 1 if any(r.refused for r in results) else 0


def cmd_ssm(file: Path, settings: Settings) -> int:
    from gateway.container import configure_keyring
    from infra.db import Database
    from rebooking_core.importer import ImportFailed, ImportReport, RecordList, import_schedule
    from rebooking_core.ingest import ssm

    text = _text(file)
    if text is None:
        return fail(f"{file}: not UTF-8 text")
    try:
        parsed = ssm.parse(text, received=dt.datetime.now(dt.UTC))
    except MalformedMessage as exc:
        return fail(f"{file}: {exc} — nothing was loaded")
    configure_keyring(settings)

    async def load() -> ImportReport:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as s:
                return await import_schedule(s, RecordList(parsed.records, parsed.lines))
        finally:
            await db.dispose()

    try:
        report = asyncio.run(load())
    except ImportFailed as exc:
        return fail(f"{file}: {exc} — nothing was loaded from this file", 1)
    table(f"ssm {file.name}", ("loaded", "rows"), [("flights", report.flights), ("skipped sub-messages", parsed.skipped)])
    return 0


def register(cli: click.Group, settings: Callable[[], Settings], preflight: Callable[[Settings], None] | None = None) -> None:
    """`ingest` on `rebook`."""

    @cli.command("ingest")
    @click.argument("kind", type=click.Choice(["mvt", "asm", "ssm"]), metavar="KIND")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def ingest(kind: str, file: Path) -> int:
        """Apply the IATA messages in FILE: KIND mvt (AHM 780 MVT/DIV), asm (SSIM ASM) or ssm (SSIM SSM, loads new flights)."""
        loaded = settings()
        if preflight is not None:
            preflight(loaded)
        if kind == "ssm":
            return cmd_ssm(file, loaded)
        return cmd_feed(kind, file, loaded)
