"""`rebook`: demo, serve, worker, db upgrade, import, generate, disrupt, whatsapp templates, keys, purge, audit, privacy, dlq."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import sys
from collections.abc import Coroutine, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError

from gateway.cli.ui import fail, steps, table
from gateway.settings import Settings, settings_problems

T = TypeVar("T")
log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return version("rebook")
    except PackageNotFoundError:
        return "unknown"


def _configure_logging(level: int = logging.INFO, settings: Settings | None = None) -> None:
    from infra.logging import configure

    if settings is not None:
        level = logging.getLevelName(settings.log.level)
    configure(level, fmt=settings.log.format if settings is not None else "text")


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop where it is installed (it comes with uvicorn[standard]), as `serve` does under uvicorn.

    The event loop is a large share of a reply's CPU (one wake-up per database round trip), and
    uvloop spends less of it than asyncio's selector loop.
    """
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def _settings() -> Settings:
    """Settings from the environment and `.env`; an unknown REBOOK_* variable or an invalid value: one line each, exit 2."""
    from gateway.cli.environment import given_variables, unknown_variables

    problems = unknown_variables(given_variables())
    try:
        settings = Settings()
    except (ValidationError, SettingsError) as exc:
        problems += settings_problems(exc)
    if problems:
        for line in problems:
            click.echo(f"rebook: {line}", err=True)
        sys.exit(2)
    return settings


def _preflight(settings: Settings, *, redis: bool = True) -> None:
    """Before a command that uses them: the database answers and is migrated, Redis answers (5 s each)."""
    from gateway.migrate import require_current
    from infra.redis_check import require_redis

    async def check() -> None:
        await require_current(settings.database_url)
        if redis and settings.redis_url:
            await require_redis(settings.redis_url)

    _ensure_sqlite_dir(settings.database_url)
    asyncio.run(check())


def _log_start(settings: Settings, what: str) -> None:
    """Name what this process runs against, so a wrong variable shows in the first log line (no passwords)."""
    from infra.db import where
    from infra.redis_check import where as redis_where

    queue = f"redis {redis_where(settings.redis_url)}" if settings.redis_url else "in-process"
    channels = ", ".join(f"{name} {state.split(':')[0]}" for name, state in settings.channel_report().items())
    log.info(
        "%s: database %s, queue %s, channels: %s, public URL %s",
        what,
        where(settings.database_url),
        queue,
        channels,
        settings.public_base_url,
    )


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        target = url.split(":///", 1)[1]
        if target and target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)


def _date(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write {what} as YYYY-MM-DD") from None


def _departure(value: str | None) -> dt.datetime | None:
    """ISO 8601 with its zone (`Z` or `+01:00`): a time without one could be read in the wrong zone."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time; write e.g. 2026-12-01T18:00:00Z") from None
    if parsed.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no zone; add Z for UTC or an offset such as +01:00")
    return parsed


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.version_option(_version(), "--version", "-V", prog_name="rebook", message="%(prog)s %(version)s")
def cli() -> None:
    """Disruption-rebooking messaging gateway.

    Settings come from REBOOK_* variables and a .env file in the working directory (.env.example lists them all).
    """


@cli.command()
@click.option("--passengers", type=click.IntRange(min=1), default=1000, show_default=True, help="Approximate impacted passengers.")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the synthetic network and passengers' answers.")
@click.option("--disruptions", type=click.IntRange(min=1), default=3, show_default=True, help="Flights cancelled at once.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--workdir", default=".rebook", show_default=True, help="Where the demo database lives.")
def demo(passengers: int, seed: int, disruptions: int, as_json: bool, workdir: str) -> int:
    """Run a whole disruption on the embedded default with simulated passengers."""
    from gateway.cli.demo import DemoOptions, run_demo

    _configure_logging(level=logging.ERROR)
    options = DemoOptions(passengers=passengers, seed=seed, disruptions=disruptions, as_json=as_json, workdir=Path(workdir))
    summary = asyncio.run(run_demo(options))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    return 0 if summary["oversold_seats"] == 0 else 1


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the public listener (API and webhooks).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port of the public listener.")
@click.option("--no-worker", is_flag=True, help="Do not run the embedded worker (in any process).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Gateway processes sharing the port (above 1 needs Redis); each runs an embedded worker unless --no-worker.",
)
def serve(host: str, port: int, no_worker: bool, workers: int) -> int:
    """Run the gateway (FastAPI) with an embedded worker; /metrics and /docs on REBOOK_ADMIN__HOST:PORT."""
    settings = _settings()
    _configure_logging(settings=settings)
    if workers > 1 and not settings.redis_url:
        # Without Redis each process has its own job queue and dispatcher turns: a job accepted by one never reaches the others.
        return fail("--workers above 1 needs REBOOK_REDIS_URL (jobs and dispatch turns are shared through Redis)")
    _preflight(settings)
    _log_start(settings, f"gateway ({workers} process{'es' if workers > 1 else ''})")
    # Imported after the checks: seconds of imports (every provider SDK) a refusal need not wait for.
    import uvicorn

    from gateway.http.limits import uvicorn_options
    from infra.logging import uvicorn_log_config

    # Header deadline and size cap, keep-alive bound (gateway.http.limits): slow or huge headers cannot hold a connection.
    # Our log config: uvicorn's default gives its loggers handlers of their own, past the redacting filter.
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", "log_config": uvicorn_log_config()}
    if workers > 1:
        from gateway.http.app import EMBEDDED_WORKER_ENV

        # Each process builds its own container (`gateway.http.app:from_environment`) from the same environment.
        os.environ[EMBEDDED_WORKER_ENV] = "0" if no_worker else "1"
        uvicorn.run("gateway.http.app:from_environment", factory=True, workers=workers, **options, **uvicorn_options())
        return 0
    from gateway.container import build
    from gateway.http.app import admin_listener, create_app

    app = create_app(build(settings), embedded_worker=not no_worker, settle=True, admin_listener=admin_listener(settings))
    uvicorn.run(app, **options, **uvicorn_options())
    return 0


@cli.command()
def worker() -> int:
    """Run a standalone worker (with Redis: run several); its own /metrics on REBOOK_WORKER_METRICS_HOST:PORT."""
    settings = _settings()
    _configure_logging(settings=settings)
    _preflight(settings)
    _log_start(settings, "worker")
    from gateway.container import build
    from gateway.worker.process import Worker
    from infra.heap import settle_heap

    async def main() -> None:
        container = build(settings)
        await container.start()
        settle_heap()
        try:
            await Worker(container, serve_metrics=True, settle_after_waves=True).run()
        finally:
            await container.aclose()

    run_loop(main())
    return 0


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> int:
    """Apply Alembic migrations up to REVISION (default: head)."""
    from gateway.migrate import upgrade
    from infra.db import require_reachable

    settings = _settings()
    _ensure_sqlite_dir(settings.database_url)
    asyncio.run(require_reachable(settings.database_url))
    upgrade(settings.database_url, revision)
    click.echo(f"database at revision {revision}")
    return 0


@cli.command("import")
@click.argument("kind", type=click.Choice(["schedule", "bookings"]), metavar="KIND")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True, help="Schedule file format (a .csv file is read as CSV).")
@click.option("--mode", type=click.Choice(["insert", "upsert"]), default="insert", show_default=True, help="insert: new locators and flights only; upsert: add, change and cancel by locator and version (flights by key).")
def import_(kind: str, file: Path, fmt: str, mode: str) -> int:
    """Load a schedule or bookings FILE (see docs/data-formats.md); all of it or nothing."""
    from consent import audit
    from gateway.container import configure_keyring
    from infra.db import Database
    from rebooking_core.importer import (
        ImportFailed,
        ImportReport,
        import_bookings,
        import_schedule,
        parse_bookings,
        parse_schedule,
    )

    settings = _settings()
    configure_keyring(settings)
    _preflight(settings, redis=False)
    if not file.exists():
        return fail(f"no such file: {file}")

    async def load(records: Any, raw: bytes) -> ImportReport:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as s:
                if kind == "schedule":
                    return await import_schedule(s, records)
                report = await import_bookings(s, records)
                # Per-row provenance is in consent_events; the chain records who loaded which file.
                audit.append(
                    s,
                    actor="cli:import",
                    action="consent.imported",
                    subject=f"file:{hashlib.sha256(raw).hexdigest()[:32]}",
                    at=dt.datetime.now(dt.UTC),
                    details={"bookings": report.bookings, "passengers": report.passengers, "contacts": report.contacts},
                )
                return report
        finally:
            await db.dispose()

    loading = False
    try:
        with steps(f"import {kind}", 3) as bar:
            with bar.step(f"reading {file.name}"):
                raw = file.read_bytes()
                lines = raw.splitlines()  # bytes: the importer decodes each line as UTF-8 and names the line that is not
            with bar.step(f"validating {len(lines):,} lines"):
                if kind == "schedule":
                    records: Any = parse_schedule(lines, fmt="csv" if file.suffix == ".csv" or fmt == "csv" else "jsonl")
                else:
                    records = parse_bookings(lines)
            with bar.step(f"loading {len(records):,} records"):
                loading = True
                if mode == "upsert":
                    from gateway.cli.upsert import upsert_file

                    counts = asyncio.run(upsert_file(settings, kind, records, raw))
                else:
                    report = asyncio.run(load(records, raw))
    except ImportFailed as exc:
        # Upsert follows `rebook ingest`: a malformed file is bad input (2), a refusal by the data it meets is 1.
        return fail(f"{file}: {exc} — nothing was loaded from this file", 1 if mode == "insert" or loading else 2)
    if mode == "upsert":
        table(f"upserted {file.name}", ("outcome", "rows"), counts)
        return 0
    table(f"imported {file.name}", ("loaded", "rows"), [(name, getattr(report, name)) for name in ("flights", "bookings", "passengers", "contacts", "segments")])
    return 0


@cli.command()
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Directory to write schedule.jsonl and bookings.jsonl into.")
@click.option("--start", help="First service date, YYYY-MM-DD (default: tomorrow).")
@click.option("--days", type=click.IntRange(min=1), default=3, show_default=True, help="Service days.")
@click.option("--seed", type=int, default=7, show_default=True, help="The same seed always gives the same network.")
@click.option("--passengers", type=click.IntRange(min=1), default=None, help="Stop at about this many passengers (default: 70-85 % load on every flight).")
def generate(out: Path, start: str | None, days: int, seed: int, passengers: int | None) -> int:
    """Write a synthetic network in the import formats."""
    from rebooking_core.generate import generate as make
    from rebooking_core.generate import write_jsonl

    first = _date(start, "--start") or dt.date.today() + dt.timedelta(days=1)
    with steps("generate", 2) as bar:
        with bar.step(f"{days} day(s) of flights and bookings"):
            dataset = make(seed=seed, start=first, days=days, passengers=passengers)
        with bar.step(f"writing {out}"):
            schedule, bookings = write_jsonl(dataset, out)
    click.echo(f"wrote {len(dataset.schedule)} flights to {schedule} and {len(dataset.bookings)} bookings to {bookings}")
    return 0


@cli.command()
@click.argument("carrier")
@click.argument("number")
@click.argument("date")
@click.option("--delay-to", help="New departure, ISO 8601 with a zone, e.g. 2026-12-01T18:00:00Z (omit to cancel).")
@click.option("--reason", help="Why (shown to agents, never to passengers).")
def disrupt(carrier: str, number: str, date: str, delay_to: str | None, reason: str | None) -> int:
    """Cancel (or with --delay-to, delay) flight CARRIER NUMBER on DATE (YYYY-MM-DD)."""
    from conversations.intake.ports import DisruptionRequest, FlightKey, UnknownFlight
    from conversations.intake.story import InvalidUpdate
    from conversations.intake.workflow import record_disruption
    from gateway.container import build
    from rebooking_core.types import DisruptionKind

    day = _date(date, "DATE")
    new_dep = _departure(delay_to)
    assert day is not None
    settings = _settings()
    _preflight(settings)

    async def main() -> int:
        c = build(settings)
        await c.start()
        try:
            recorded = await record_disruption(
                c.db,
                DisruptionRequest(
                    flights=(FlightKey(carrier, number, day),),
                    kind=DisruptionKind.DELAYED if new_dep else DisruptionKind.CANCELLED,
                    new_departure=new_dep,
                    reason=reason,
                ),
                clock=c.clock,
                service=c.service,
            )
            if recorded.created or recorded.fanout:
                await c.jobs.disruption_recorded(recorded.disruption_id)
            await c.jobs.wait_idle()
            return recorded.disruption_id
        finally:
            await c.aclose()

    try:
        click.echo(f"disruption {asyncio.run(main())} recorded")
    except UnknownFlight as exc:
        return fail(str(exc), 1)
    except InvalidUpdate as exc:
        return fail(str(exc), 2)
    return 0


@cli.group()
def whatsapp() -> None:
    """WhatsApp helpers."""


@whatsapp.command("templates")
def whatsapp_templates() -> int:
    """Print the template definitions (notice, escalation, broadcast) to submit to Meta."""
    import locales
    from channels.whatsapp.templates import template_definitions

    settings = _settings()
    definitions: list[dict[str, object]] = []
    for key, by_locale in settings.whatsapp.templates.items():
        for name in sorted({b.name for b in by_locale.values()}):
            bound = [loc for loc in locales.SUPPORTED if loc in by_locale and by_locale[loc].name == name]
            definitions += template_definitions(
                name_prefix=name,
                render=lambda k, loc: locales.render(k, loc, **{p: "{" + p + "}" for p in locales.placeholders(k, loc)}),
                locales=bound,
                meta_language={loc: by_locale[loc].language for loc in bound},
                key=key,
            )
    click.echo(json.dumps(definitions, indent=2, ensure_ascii=False))
    return 0


def _register() -> None:
    from gateway.cli import dlq, ingest, privacy, sandbox

    privacy.register(cli, _settings)
    dlq.register(cli, _settings)
    ingest.register(cli, _settings, _preflight)
    sandbox.register(cli, _settings, _preflight)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; an operator's mistake (bad input, database or Redis unreachable, schema not migrated) is one line and exit 2."""
    from gateway.migrate import NotMigrated
    from infra.db import DatabaseUnreachable
    from infra.redis_check import RedisUnreachable

    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="rebook", standalone_mode=False)
    except click.UsageError as exc:
        # Bad input: one line, with the command it was given to; no traceback, no usage dump.
        command = exc.ctx.command_path.removeprefix("rebook").strip() if exc.ctx is not None else ""
        click.echo(f"rebook: {command + ': ' if command else ''}{exc.format_message()} (--help for usage)", err=True)
        raise SystemExit(2) from None
    except click.ClickException as exc:
        click.echo(f"rebook: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("rebook: aborted", err=True)
        return 1
    except (DatabaseUnreachable, RedisUnreachable, NotMigrated) as exc:
        click.echo(f"rebook: {exc}", err=True)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
