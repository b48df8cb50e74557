"""`rebook db upgrade`: Alembic migrations shipped inside the package, and the start-up check that they ran."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from infra.db import connect_once, where

MIGRATIONS = Path(__file__).with_name("migrations")


class NotMigrated(Exception):
    """The database's schema revision is not the one this code needs; the message says what to run."""


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str) -> None:
    """Alembic's env runs its own event loop, so it goes to a thread from async code."""
    await asyncio.to_thread(upgrade, database_url)


def _current_revision(connection: Connection) -> str | None:
    """Alembic's version row, read directly: MigrationContext would log two INFO lines before the verdict."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if revision is None else str(revision)


async def require_current(database_url: str) -> None:
    """Refuse to start workers or the gateway on a schema older (or newer) than the code: a missing
    table otherwise surfaces as hundreds of lines of tracebacks from every job that touches it."""
    async with connect_once(database_url) as connection:
        current = await connection.run_sync(_current_revision)
    scripts = ScriptDirectory.from_config(alembic_config(database_url))
    head = scripts.get_current_head()
    if current == head:
        return
    known = current is None or any(script.revision == current for script in scripts.walk_revisions())
    if known:
        raise NotMigrated(
            f"the database at {where(database_url)} is not migrated (at revision {current or 'none'}, code needs {head}):"
            " run `rebook db upgrade`"
        )
    raise NotMigrated(
        f"the database at {where(database_url)} is at revision {current}, which this code does not know"
        f" (it needs {head}): a newer rebook migrated it; run that version"
    )
