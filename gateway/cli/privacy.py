"""`rebook purge`, `rebook keys rotate`, `rebook audit verify`, `rebook privacy schema`."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import Any

from gateway.settings import Settings


def _db(settings: Settings) -> Any:
    import consent.models  # noqa: F401  (register every table before walking the metadata)
    import conversations.models  # noqa: F401
    import rebooking_core.models  # noqa: F401
    from gateway.container import configure_keyring
    from infra.db import Database

    configure_keyring(settings)
    return Database(settings.database_url)


def _now() -> Any:
    from conversations.clock import utcnow

    return utcnow()


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.worker.privacy import run_purge

    async def main() -> dict[str, int]:
        db = _db(settings)
        try:
            report = await run_purge(db, settings.retention, clock=_now, dry_run=not args.now)
        finally:
            await db.dispose()
        return dict(sorted(report.removed.items()))

    removed = asyncio.run(main())
    verb = "removed" if args.now else "would remove (dry run; --now to purge)"
    width = max([len(t) for t in removed] + [5])
    for table, n in removed.items():
        print(f"{table:<{width}}  {n}")
    print(f"{'total':<{width}}  {sum(removed.values())}  {verb}")
    return 0


def cmd_keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.worker.privacy import run_rotation

    async def main() -> dict[str, int]:
        db = _db(settings)
        try:
            return await run_rotation(db, clock=_now)
        finally:
            await db.dispose()

    counts = asyncio.run(main())
    current = settings.pii_key_list[0][0]
    for table, n in counts.items():
        print(f"{table}: {n} rows re-encrypted under key {current}")
    return 0


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from gateway.worker.privacy import run_verify

    async def main() -> Any:
        db = _db(settings)
        try:
            return await run_verify(db)
        finally:
            await db.dispose()

    report = asyncio.run(main())
    for problem in report.problems:
        print(f"audit: {problem}")
    print(f"audit log: {report.entries} entries, {'chain intact' if report.ok else 'CHAIN BROKEN'}")
    return 0 if report.ok else 1


def cmd_privacy_schema(args: argparse.Namespace, settings: Settings) -> int:
    import consent.models  # noqa: F401
    import conversations.models  # noqa: F401
    import rebooking_core.models  # noqa: F401
    from consent.privacy import export_schema
    from infra.orm import Base

    print(json.dumps(export_schema(Base.metadata), indent=2, ensure_ascii=False))
    return 0


def add_parsers(sub: Any, settings: Callable[[], Settings]) -> None:
    """Register the privacy commands on `rebook`'s sub-parsers."""

    def bind(fn: Callable[[argparse.Namespace, Settings], int]) -> Callable[[argparse.Namespace], int]:
        return lambda args: fn(args, settings())

    purge = sub.add_parser("purge", help="delete what is past retention (REBOOK_RETENTION__*)")
    mode = purge.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="print what would be removed per table")
    mode.add_argument("--now", action="store_true", help="remove it, printing what was removed per table")
    purge.set_defaults(func=bind(cmd_purge))

    keys = sub.add_parser("keys", help="PII encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate", help="re-encrypt all PII under the first key of REBOOK_PII_KEYS")
    rotate.set_defaults(func=bind(cmd_keys_rotate))

    audit = sub.add_parser("audit", help="the hash-chained audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="recompute the chain; exit 1 if an entry was edited or removed")
    verify.set_defaults(func=bind(cmd_audit_verify))

    priv = sub.add_parser("privacy", help="data-subject rights helpers")
    priv_sub = priv.add_subparsers(dest="privacy_command", required=True)
    schema = priv_sub.add_parser("schema", help="print the JSON Schema of GET /v1/passengers/{id}/export")
    schema.set_defaults(func=bind(cmd_privacy_schema))
