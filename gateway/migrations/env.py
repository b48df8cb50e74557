"""Alembic environment: async engines for SQLite and PostgreSQL, metadata from every package."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import consent.models  # noqa: F401  (register tables)
import conversations.models  # noqa: F401
import gateway.outbound.models  # noqa: F401
import infra.event_log  # noqa: F401
import rebooking_core.airline.tables  # noqa: F401
import rebooking_core.models  # noqa: F401
from infra.db import make_engine
from infra.orm import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online())
