"""Retention purge and key rotation as the worker and the CLI run them, over the whole schema."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from consent import audit
from consent.retention import PurgeReport, purge
from gateway.settings import RetentionSettings
from infra import crypto
from infra.db import Database
from infra.orm import Base
from infra.rotation import rotate

log = logging.getLogger(__name__)


async def run_purge(
    db: Database, retention: RetentionSettings, *, clock: Callable[[], dt.datetime], dry_run: bool
) -> PurgeReport:
    """One purge pass in one transaction; a dry run counts and changes nothing."""
    async with db.transaction() as s:
        report = await purge(s, Base.metadata, retention.policy(), now=clock(), dry_run=dry_run)
    if report.total and not dry_run:
        log.info("retention purge removed %d rows", report.total, extra={"removed": dict(report.removed)})
    return report


async def run_rotation(db: Database, *, clock: Callable[[], dt.datetime]) -> dict[str, int]:
    """Re-encrypt every PII column under the current key, and audit that it happened."""
    ring = crypto.keyring()
    async with db.transaction() as s:
        counts = await rotate(s, Base.metadata, ring)
        audit.append(
            s,
            actor="cli",
            action="keys.rotated",
            subject="pii_keys",
            details={"key_id": ring.current, "rows": counts},
            at=clock(),
        )
    return counts


async def run_verify(db: Database) -> audit.Verification:
    """Seal what has committed, then check the whole chain."""
    await run_seal(db)
    async with db.reading() as s:
        return await audit.verify(s)


async def run_seal(db: Database, *, wait: bool = True) -> int:
    """Chain every committed, unsealed audit entry (the worker runs this every second, without waiting for another sealer)."""
    total = 0
    while True:
        async with db.transaction() as s:
            n = await audit.seal(s, wait=wait)
        total += n
        if n == 0:
            return total
