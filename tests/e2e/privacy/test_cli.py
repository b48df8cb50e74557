"""`rebook purge`, `rebook keys rotate`, `rebook audit verify` and `rebook privacy schema` as an operator runs them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from consent import audit
from consent.models import AuditEntry
from conversations.models import ProcessedEvent
from gateway.cli import main as cli
from gateway.migrate import upgrade
from infra import crypto
from infra.db import Database


@pytest.fixture
def env(empty_db_url: str, monkeypatch: pytest.MonkeyPatch, pii_keyring: crypto.Keyring) -> Iterator[str]:
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    monkeypatch.setenv("REBOOK_DATABASE_URL", empty_db_url)
    upgrade(empty_db_url)
    try:
        yield empty_db_url
    finally:
        crypto.configure(pii_keyring)


async def _seed(url: str) -> None:
    db = Database(url)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=45)
    try:
        async with db.transaction() as s:
            s.add_all([ProcessedEvent(provider="twilio", event_id=f"SM{i}", received_at=old) for i in range(3)])
            s.add(ProcessedEvent(provider="twilio", event_id="SMfresh", received_at=dt.datetime.now(dt.UTC)))
            for i in range(3):
                audit.append(s, actor="test", action="test.entry", subject=f"thing:{i}", at=old)
    finally:
        await db.dispose()


async def _tamper(url: str) -> None:
    db = Database(url)
    try:
        async with db.transaction() as s:
            await s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="someone-else"))
    finally:
        await db.dispose()


def test_purge_dry_run_then_now_audit_verify_and_key_rotation(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    asyncio.run(_seed(env))

    assert cli.main(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "processed_events  3" in out and "would remove" in out
    assert cli.main(["purge", "--now"]) == 0
    assert "processed_events  3" in capsys.readouterr().out
    assert cli.main(["purge", "--now"]) == 0
    assert "total  0  removed" in capsys.readouterr().out

    assert cli.main(["keys", "rotate"]) == 0
    capsys.readouterr()
    assert cli.main(["audit", "verify"]) == 0
    assert "4 entries, chain intact" in capsys.readouterr().out

    asyncio.run(_tamper(env))
    assert cli.main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "entry 2 was altered" in out and "CHAIN BROKEN" in out


def test_purge_needs_a_mode() -> None:
    with pytest.raises(SystemExit):
        cli.main(["purge"])


def test_privacy_schema_prints_the_committed_schema(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pathlib import Path

    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    assert cli.main(["privacy", "schema"]) == 0
    committed = json.loads((Path(__file__).resolve().parents[3] / "docs" / "export.schema.json").read_text(encoding="utf-8"))
    assert json.loads(capsys.readouterr().out) == committed
