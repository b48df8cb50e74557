"""`rebook`: demo, serve, worker, db upgrade, import, generate, disrupt, whatsapp templates, dlq."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import SettingsError

from gateway.settings import Settings, settings_problems

T = TypeVar("T")
log = logging.getLogger(__name__)


def _configure_logging(level: int = logging.INFO) -> None:
    from infra.logging import configure

    configure(level)


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
    """Settings from the environment; if invalid, one line per problem on stderr and exit 2."""
    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        for line in settings_problems(exc):
            print(f"rebook: {line}", file=sys.stderr)
        sys.exit(2)


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


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.cli.demo import DemoOptions, run_demo

    _configure_logging(level=logging.ERROR)
    options = DemoOptions(
        passengers=args.passengers, seed=args.seed, disruptions=args.disruptions, as_json=args.json, workdir=Path(args.workdir)
    )
    summary = asyncio.run(run_demo(options))
    if args.json:
        print(json.dumps(summary, indent=2))
    return 0 if summary["oversold_seats"] == 0 else 1


def cmd_serve(args: argparse.Namespace) -> int:
    _configure_logging()
    settings = _settings()
    if args.workers > 1 and not settings.redis_url:
        # Without Redis each process has its own job queue and dispatcher turns: a job accepted by one never reaches the others.
        print("rebook: --workers above 1 needs REBOOK_REDIS_URL (jobs and dispatch turns are shared through Redis)", file=sys.stderr)
        return 2
    _preflight(settings)
    _log_start(settings, f"gateway ({args.workers} process{'es' if args.workers > 1 else ''})")
    # Imported after the checks: seconds of imports (every provider SDK) a refusal need not wait for.
    import uvicorn

    from gateway.http.limits import uvicorn_options
    from infra.logging import uvicorn_log_config

    # Header deadline and size cap, keep-alive bound (gateway.http.limits): slow or huge headers cannot hold a connection.
    # Our log config: uvicorn's default gives its loggers handlers of their own, past the redacting filter.
    options: dict[str, Any] = {"host": args.host, "port": args.port, "log_level": "info", "log_config": uvicorn_log_config()}
    if args.workers > 1:
        from gateway.http.app import EMBEDDED_WORKER_ENV

        # Each process builds its own container (`gateway.http.app:from_environment`) from the same environment.
        os.environ[EMBEDDED_WORKER_ENV] = "0" if args.no_worker else "1"
        uvicorn.run("gateway.http.app:from_environment", factory=True, workers=args.workers, **options, **uvicorn_options())
        return 0
    from gateway.container import build
    from gateway.http.app import admin_listener, create_app

    app = create_app(build(settings), embedded_worker=not args.no_worker, settle=True, admin_listener=admin_listener(settings))
    uvicorn.run(app, **options, **uvicorn_options())
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _configure_logging()
    settings = _settings()
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


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from gateway.migrate import upgrade
    from infra.db import require_reachable

    settings = _settings()
    _ensure_sqlite_dir(settings.database_url)
    asyncio.run(require_reachable(settings.database_url))
    upgrade(settings.database_url, args.revision)
    print(f"database at revision {args.revision}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from consent import audit
    from gateway.container import configure_keyring
    from infra.db import Database
    from rebooking_core.importer import (
        ImportFailed,
        import_bookings,
        import_schedule,
        parse_bookings,
        parse_schedule,
    )

    settings = _settings()
    configure_keyring(settings)
    _preflight(settings, redis=False)
    path = Path(args.file)
    if not path.exists():
        print(f"rebook: no such file: {path}", file=sys.stderr)
        return 2
    raw = path.read_bytes()
    lines = raw.splitlines()  # bytes: the importer decodes each line as UTF-8 and names the line that is not

    async def main() -> str:
        db = Database(settings.database_url)
        try:
            if args.kind == "schedule":
                records = parse_schedule(lines, fmt="csv" if path.suffix == ".csv" or args.format == "csv" else "jsonl")
                async with db.transaction() as s:
                    report = await import_schedule(s, records)
            else:
                bookings = parse_bookings(lines)
                async with db.transaction() as s:
                    report = await import_bookings(s, bookings)
                    # Per-row provenance is in consent_events; the chain records who loaded which file.
                    audit.append(
                        s,
                        actor="cli:import",
                        action="consent.imported",
                        subject=f"file:{hashlib.sha256(raw).hexdigest()[:32]}",
                        at=dt.datetime.now(dt.UTC),
                        details={"bookings": report.bookings, "passengers": report.passengers, "contacts": report.contacts},
                    )
            return str(report)
        finally:
            await db.dispose()

    try:
        print(asyncio.run(main()))
    except ImportFailed as exc:
        print(f"rebook: {path}: {exc} — nothing was loaded from this file", file=sys.stderr)
        return 1
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from rebooking_core.generate import generate, write_jsonl

    start = dt.date.fromisoformat(args.start) if args.start else dt.date.today() + dt.timedelta(days=1)
    dataset = generate(seed=args.seed, start=start, days=args.days, passengers=args.passengers)
    schedule, bookings = write_jsonl(dataset, Path(args.out))
    print(f"wrote {len(dataset.schedule)} flights to {schedule} and {len(dataset.bookings)} bookings to {bookings}")
    return 0


def cmd_disrupt(args: argparse.Namespace) -> int:
    from conversations.intake.workflow import (
        DisruptionRequest,
        FlightKey,
        UnknownFlight,
        record_disruption,
    )
    from gateway.container import build
    from rebooking_core.types import DisruptionKind

    settings = _settings()
    _preflight(settings)
    new_dep = dt.datetime.fromisoformat(args.delay_to.replace("Z", "+00:00")) if args.delay_to else None

    async def main() -> int:
        c = build(settings)
        await c.start()
        try:
            recorded = await record_disruption(
                c.db,
                DisruptionRequest(
                    flights=(FlightKey(args.carrier, args.number, dt.date.fromisoformat(args.date)),),
                    kind=DisruptionKind.DELAYED if new_dep else DisruptionKind.CANCELLED,
                    new_departure=new_dep,
                    reason=args.reason,
                ),
                clock=c.clock,
            )
            await c.jobs.disruption_recorded(recorded.disruption_id)
            await c.jobs.wait_idle()
            return recorded.disruption_id
        finally:
            await c.aclose()

    try:
        print(f"disruption {asyncio.run(main())} recorded")
    except UnknownFlight as exc:
        print(f"rebook: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_whatsapp_templates(args: argparse.Namespace) -> int:
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
    print(json.dumps(definitions, indent=2, ensure_ascii=False))
    return 0


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        target = url.split(":///", 1)[1]
        if target and target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rebook", description="Disruption-rebooking messaging gateway")
    sub = p.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run a whole disruption on the embedded default with simulated passengers")
    demo.add_argument("--passengers", type=int, default=1000, help="approximate impacted passengers")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--disruptions", type=int, default=3)
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.add_argument("--workdir", default=".rebook", help="where the demo database lives")
    demo.set_defaults(func=cmd_demo)

    serve = sub.add_parser("serve", help="run the gateway (FastAPI) with an embedded worker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="do not run the embedded worker (in any process)")
    serve.add_argument(
        "--workers", type=_positive, default=1, help="gateway processes sharing the port (above 1 needs Redis); each runs an embedded worker unless --no-worker"
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run a standalone worker")
    worker.set_defaults(func=cmd_worker)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply Alembic migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)

    imp = sub.add_parser("import", help="load schedule or bookings (see docs/data-formats.md)")
    imp.add_argument("kind", choices=["schedule", "bookings"])
    imp.add_argument("file")
    imp.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    imp.set_defaults(func=cmd_import)

    gen = sub.add_parser("generate", help="write a synthetic network in the import formats")
    gen.add_argument("--out", required=True)
    gen.add_argument("--start", help="first service date, YYYY-MM-DD (default: tomorrow)")
    gen.add_argument("--days", type=int, default=3)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--passengers", type=int, default=None)
    gen.set_defaults(func=cmd_generate)

    dis = sub.add_parser("disrupt", help="cancel or delay a flight")
    dis.add_argument("carrier")
    dis.add_argument("number")
    dis.add_argument("date")
    dis.add_argument("--delay-to", help="new departure, ISO 8601 UTC (omit to cancel)")
    dis.add_argument("--reason")
    dis.set_defaults(func=cmd_disrupt)

    wa = sub.add_parser("whatsapp", help="WhatsApp helpers")
    wa_sub = wa.add_subparsers(dest="wa_command", required=True)
    tpl = wa_sub.add_parser("templates", help="print the template definitions to submit to Meta")
    tpl.set_defaults(func=cmd_whatsapp_templates)

    from gateway.cli import privacy

    privacy.add_parsers(sub, _settings)

    from gateway.cli import dlq as dlq_commands

    dlq_commands.add_parser(sub, _settings)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; an operator's mistake (database or Redis unreachable, schema not migrated) is one line and exit 2."""
    from gateway.migrate import NotMigrated
    from infra.db import DatabaseUnreachable
    from infra.redis_check import RedisUnreachable

    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (DatabaseUnreachable, RedisUnreachable, NotMigrated) as exc:
        print(f"rebook: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
