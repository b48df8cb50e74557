"""`rebook purge`, `rebook keys rotate|generate`, `rebook audit verify`, `rebook privacy schema`."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from collections.abc import Callable
from typing import Any

import click

from gateway.cli.ui import steps, table
from gateway.settings import Settings, secret_weakness


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


def cmd_purge(now: bool, settings: Settings) -> int:
    from gateway.worker.privacy import run_purge

    async def main() -> dict[str, int]:
        db = _db(settings)
        try:
            report = await run_purge(db, settings.retention, clock=_now, dry_run=not now)
        finally:
            await db.dispose()
        return dict(sorted(report.removed.items()))

    with steps("purge", 1) as bar, bar.step("removing what is past retention" if now else "counting what is past retention"):
        removed = asyncio.run(main())
    verb = "removed" if now else "would remove (dry run; --now to purge)"
    width = max([len(t) for t in removed] + [5])
    for table_name, n in removed.items():
        click.echo(f"{table_name:<{width}}  {n}")
    click.echo(f"{'total':<{width}}  {sum(removed.values())}  {verb}")
    return 0


def cmd_keys_rotate(settings: Settings) -> int:
    from gateway.worker.privacy import run_rotation

    async def main() -> dict[str, int]:
        db = _db(settings)
        try:
            return await run_rotation(db, clock=_now)
        finally:
            await db.dispose()

    current = settings.pii_key_list[0][0]
    with steps("keys rotate", 1) as bar, bar.step(f"re-encrypting every PII column under key {current}"):
        counts = asyncio.run(main())
    table(f"re-encrypted under key {current}", ("table", "rows"), sorted(counts.items()))
    return 0


def fresh_secret() -> str:
    """32 random bytes, URL-safe base64 (43 characters), that pass the start-up strength check."""
    while True:
        secret = secrets.token_urlsafe(32)
        if secret_weakness(secret) is None:
            return secret


def cmd_keys_generate(kid: str, keep: str | None) -> int:
    """Lines for `.env`: a new PII key first (an old list after it keeps old rows readable), a blind-index key, an ops key."""
    with steps("keys generate", 3) as bar:
        with bar.step("PII key"):
            pii = f"{kid}:{fresh_secret()}" + (f",{keep}" if keep else "")
        with bar.step("blind-index key"):
            blind = fresh_secret()
        with bar.step("ops API key"):
            ops = fresh_secret()
    click.echo(f"REBOOK_PII_KEYS={pii}")
    if keep:
        click.echo("# keep your current REBOOK_BLIND_INDEX_KEY: phone and e-mail lookups are hashed under it")
        click.echo(f"# REBOOK_BLIND_INDEX_KEY={blind}")
    else:
        click.echo(f"REBOOK_BLIND_INDEX_KEY={blind}")
    click.echo(f"REBOOK_OPS_API_KEYS={ops}")
    return 0


def cmd_audit_verify(settings: Settings) -> int:
    from gateway.worker.privacy import run_verify

    async def main() -> Any:
        db = _db(settings)
        try:
            return await run_verify(db)
        finally:
            await db.dispose()

    report = asyncio.run(main())
    for problem in report.problems:
        click.echo(f"audit: {problem}")
    click.echo(f"audit log: {report.entries} entries, {'chain intact' if report.ok else 'CHAIN BROKEN'}")
    return 0 if report.ok else 1


def cmd_privacy_schema() -> int:
    import consent.models  # noqa: F401
    import conversations.models  # noqa: F401
    import rebooking_core.models  # noqa: F401
    from consent.privacy import export_schema
    from infra.orm import Base

    click.echo(json.dumps(export_schema(Base.metadata), indent=2, ensure_ascii=False))
    return 0


def register(cli: click.Group, settings: Callable[[], Settings]) -> None:
    """The privacy commands on `rebook`."""

    @cli.command()
    @click.option("--dry-run", is_flag=True, help="Print what would be removed per table.")
    @click.option("--now", is_flag=True, help="Remove it, printing what was removed per table.")
    def purge(dry_run: bool, now: bool) -> int:
        """Delete what is past retention (REBOOK_RETENTION__*); give --dry-run or --now."""
        if dry_run == now:
            raise click.UsageError("give exactly one of --dry-run and --now")
        return cmd_purge(now, settings())

    @cli.group()
    def keys() -> None:
        """PII encryption keys."""

    @keys.command("rotate")
    def keys_rotate() -> int:
        """Re-encrypt all PII under the first key of REBOOK_PII_KEYS."""
        return cmd_keys_rotate(settings())

    @keys.command("generate")
    @click.option("--kid", default=f"k{dt.date.today():%Y%m%d}", show_default="k<today>", help="Id of the new PII key (letters and digits).")
    @click.option("--keep", metavar="KEYS", help="The current REBOOK_PII_KEYS, kept after the new key so old rows stay readable (rotation).")
    def keys_generate(kid: str, keep: str | None) -> int:
        """Print fresh REBOOK_PII_KEYS, REBOOK_BLIND_INDEX_KEY and REBOOK_OPS_API_KEYS lines for .env."""
        if not kid.isalnum():
            raise click.BadParameter(f"{kid!r}: use letters and digits only", param_hint="--kid")
        return cmd_keys_generate(kid, keep)

    @cli.group()
    def audit() -> None:
        """The hash-chained audit log."""

    @audit.command("verify")
    def audit_verify() -> int:
        """Recompute the chain; exit 1 if an entry was edited or removed."""
        return cmd_audit_verify(settings())

    @cli.group()
    def privacy() -> None:
        """Data-subject rights helpers."""

    @privacy.command("schema")
    def privacy_schema() -> int:
        """Print the JSON Schema of GET /v1/passengers/{id}/export."""
        settings()
        return cmd_privacy_schema()
