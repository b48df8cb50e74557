"""Alembic builds, from nothing, exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from gateway.cli import main as cli
from gateway.migrate import alembic_config, upgrade_async
from infra.db import make_engine
from infra.orm import Base
from rebooking_core.models import Flight, Inventory

NOW = dt.datetime(2031, 1, 1, 8, 0, tzinfo=dt.UTC)


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
    return list(compare_metadata(context, Base.metadata))


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def test_upgrade_from_empty_creates_every_model_table_and_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()

        await upgrade_async(db_url)

        async with engine.connect() as conn:
            tables = await conn.run_sync(_tables)
            differences = await conn.run_sync(_differences)
            revision = await conn.run_sync(_revision)
    finally:
        await engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert tables - set(Base.metadata.tables) == {"alembic_version"}
    assert differences == []
    assert revision == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()


async def test_upgrade_twice_is_a_no_op(db_url: str) -> None:
    await upgrade_async(db_url)
    await upgrade_async(db_url)
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
    finally:
        await engine.dispose()


def test_one_head_and_a_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert all(len(r._all_down_revisions) <= 1 for r in revisions)
    assert revisions[-1].down_revision is None


async def test_the_inventory_check_refuses_an_oversell(db_url: str) -> None:
    await upgrade_async(db_url)
    engine = make_engine(db_url)
    try:
        async with engine.begin() as conn:
            flight_id = (
                await conn.execute(
                    insert(Flight)
                    .values(
                        carrier="RB", number="1", service_date=NOW.date(), origin="FRA", destination="MAD",
                        dep_utc=NOW, arr_utc=NOW + dt.timedelta(hours=2), status="scheduled", aircraft="320",
                    )
                    .returning(Flight.id)
                )
            ).scalar_one()
            await conn.execute(insert(Inventory).values(flight_id=flight_id, cabin="Y", capacity=2, sold=1, held=1))

        for values in ({"sold": Inventory.sold + 1}, {"held": Inventory.held + 1}, {"sold": -1, "held": 0}):
            with pytest.raises(IntegrityError):
                async with engine.begin() as conn:
                    await conn.execute(update(Inventory).where(Inventory.flight_id == flight_id).values(**values))

        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(insert(Inventory).values(flight_id=flight_id, cabin="J", capacity=1, sold=2, held=0))

        async with engine.begin() as conn:
            moved = await conn.execute(
                update(Inventory)
                .where(Inventory.flight_id == flight_id, Inventory.cabin == "Y")
                .values(sold=Inventory.sold + 1, held=Inventory.held - 1)
            )
            assert moved.rowcount == 1
    finally:
        await engine.dispose()


def test_the_cli_upgrades_an_empty_database(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'rebook.db'}"
    monkeypatch.setenv("REBOOK_DATABASE_URL", url)
    monkeypatch.setenv("REBOOK_SANDBOX", "true")

    assert cli.main(["db", "upgrade"]) == 0

    assert "head" in capsys.readouterr().out
    assert (tmp_path / "nested" / "rebook.db").exists()
