"""Writers append unsealed entries without a lock; the sealer chains them once, in order, even when two race."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, text

from consent import audit
from consent.models import AuditEntry
from gateway.worker.privacy import run_seal, run_verify
from tests.conversations.conftest import Rig


async def _append(rig: Rig, n: int) -> None:
    for i in range(n):
        async with rig.c.db.transaction() as s:
            audit.append(s, actor="test", action="test.entry", subject=f"x:{i}", at=rig.clock())


async def test_entries_commit_unsealed_and_the_sealer_chains_them_once_in_order(rig: Rig) -> None:
    await _append(rig, 5)
    async with rig.c.db.reading() as s:
        rows = (await s.execute(select(AuditEntry.id, AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.id))).all()
    assert [(seq, h) for _, seq, h in rows] == [(None, None)] * 5
    assert await run_seal(rig.c.db) == 5
    assert await run_seal(rig.c.db) == 0
    async with rig.c.db.reading() as s:
        sealed = (await s.execute(select(AuditEntry.id, AuditEntry.seq, AuditEntry.prev_hash).order_by(AuditEntry.id))).all()
    assert [seq for _, seq, _ in sealed] == [1, 2, 3, 4, 5]
    assert sealed[0].prev_hash == audit.GENESIS
    await _append(rig, 2)
    report = await run_verify(rig.c.db)
    assert report.ok and report.entries == 7


async def test_two_sealers_racing_never_give_two_entries_one_place(rig: Rig) -> None:
    await _append(rig, 40)

    async def one_seal() -> int:
        async with rig.c.db.transaction() as s:
            return await audit.seal(s, limit=7)

    sealed = 0
    while True:
        got = await asyncio.gather(one_seal(), one_seal())
        sealed += sum(got)
        if not any(got):
            break
    assert sealed == 40
    async with rig.c.db.reading() as s:
        seqs = sorted((await s.scalars(select(AuditEntry.seq))).all())
    assert seqs == list(range(1, 41))
    assert (await run_verify(rig.c.db)).ok


async def test_a_worker_that_finds_another_sealing_skips_its_turn_and_the_next_turn_seals_all(rig: Rig) -> None:
    await _append(rig, 3)
    async with rig.c.db.transaction() as other:
        if not rig.c.db.is_sqlite:  # SQLite has one writer at a time and no sealer lock to find taken
            await other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": audit.LOCK_KEY})
            assert await asyncio.wait_for(run_seal(rig.c.db, wait=False), 5) == 0
            async with rig.c.db.reading() as s:
                assert (await s.scalars(select(AuditEntry.seq))).all() == [None] * 3
    assert await run_seal(rig.c.db, wait=False) == 3
    assert (await run_verify(rig.c.db)).ok
