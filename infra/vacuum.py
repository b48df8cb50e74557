"""Vacuum and analyze right after a wave: the tables a disruption churned, before the passengers' replies read them.

A fan-out and its first messages rewrite every conversation and outbox row a few times and fill
the offer tables. Until autovacuum comes round (it looks once a minute), the first replies pay
for the dead rows and are planned on statistics from before the wave. Measured in the load
bench, PostgreSQL spent 2.7–4.0 ms a reply in the first seconds after a wave and 2.0–2.2 ms once
the tables were vacuumed and analyzed; the worker calls this once a wave is over (no options
being generated, no backlog being sent).
"""

from __future__ import annotations

import logging

from sqlalchemy import text

from infra.db import Database

log = logging.getLogger(__name__)

#: PostgreSQL advisory lock key that lets one worker vacuum at a time ("rbTIDY").
TIDY_LOCK = 0x7262_5449_4459

#: Tables a wave rewrote (dead rows) or filled (rows changed since the planner last looked).
_CHURNED = text(
    "SELECT relname FROM pg_stat_user_tables"
    " WHERE n_dead_tup >= :at_least AND n_dead_tup >= :share * n_live_tup"
    " OR n_mod_since_analyze >= :at_least AND n_mod_since_analyze >= :share * n_live_tup"
    " ORDER BY n_dead_tup + n_mod_since_analyze DESC"
)


async def tidy(db: Database, *, at_least: int = 2000, share: float = 0.1) -> list[str]:
    """VACUUM (ANALYZE) every table whose dead or changed rows reach `at_least` and `share` of its live ones; returns their names.

    PostgreSQL only (SQLite has no dead rows to speak of); a worker that finds another one
    vacuuming skips its turn.
    """
    if db.is_sqlite:
        return []
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
        if not await autocommit.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": TIDY_LOCK}):
            return []
        try:
            names = list((await autocommit.scalars(_CHURNED, {"at_least": at_least, "share": share})).all())
            for name in names:
                await autocommit.execute(text(f'VACUUM (ANALYZE) "{name}"'))
        finally:
            await autocommit.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": TIDY_LOCK})
    if names:
        log.info("vacuumed %d tables after a wave", len(names))
    return names
