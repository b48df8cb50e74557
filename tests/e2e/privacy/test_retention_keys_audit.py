"""Retention purges exactly what is past its period; key rotation keeps every record readable; the audit chain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, delete, select, type_coerce, update

from consent import audit
from consent.models import AuditEntry
from consent.retention import RetentionPolicy, purge
from gateway.settings import DEV_BLIND_KEY, DEV_PII_KEY
from gateway.worker.privacy import run_purge, run_rotation, run_verify
from infra import crypto
from infra.orm import Base
from infra.rotation import encrypted_columns
from rebooking_core.models import Flight, Inventory, Segment
from tests.conversations.conftest import Pax, Rig
from tests.e2e.privacy.journey import Person, all_rows, journey, primary_keys

POLICY = RetentionPolicy()
CONVERSATION_TABLES = {"conversations", "outbox", "deliveries", "inbound_messages", "escalations"}


async def _late_traveller(rig: Rig) -> Pax:
    """A second passenger whose journey ends 200 days later (a return flight), so it outlives the first."""
    who = await rig.add_pax(("sms",))
    dep = rig.disrupted.dep_utc + dt.timedelta(days=200)
    async with rig.c.db.transaction() as s:
        back = Flight(carrier="LH", number="101", service_date=dep.date(), origin="MAD", destination="FRA", dep_utc=dep, arr_utc=dep + dt.timedelta(hours=2))
        s.add(back)
        await s.flush()
        s.add(Inventory(flight_id=back.id, cabin="Y", capacity=100, sold=1, held=0))
        s.add(Segment(booking_id=who.booking_id, flight_id=back.id, cabin="Y", seq=2, status="HK"))
    return who


async def _journey_end(rig: Rig, who: Pax) -> dt.datetime:
    async with rig.c.db.reading() as s:
        flights = (await s.scalars(select(Flight.arr_utc).join(Segment, Segment.flight_id == Flight.id).where(Segment.booking_id == who.booking_id))).all()
    return max(flights)


def _removed(before: dict[str, set[Any]], after: dict[str, set[Any]]) -> dict[str, int]:
    return {t: len(before[t] - after[t]) for t in before if before[t] - after[t]}


async def _purge(rig: Rig, now: dt.datetime, *, dry_run: bool) -> dict[str, int]:
    async with rig.c.db.transaction() as s:
        return (await purge(s, Base.metadata, POLICY, now=now, dry_run=dry_run)).removed


async def test_purge_removes_exactly_what_is_past_retention(rig: Rig) -> None:
    first: Person = await journey(rig)
    late = await _late_traveller(rig)
    ids = await rig.disrupt()
    await rig.c.service.offer_batch(ids)
    await rig.c.dispatcher.drain()
    end = await _journey_end(rig, first.pax)
    start = primary_keys(await all_rows(rig))
    first_conv = (await rig.conversation(first.pax)).id

    # Before the content period ends, only webhook dedupe ids and outbound events (30 days) and delivery rows
    # (90 days from when they were sent, which was before the journey ended) are due.
    just_before = end + POLICY.content - dt.timedelta(seconds=1)
    due = {t: len(start[t]) for t in ("processed_events", "deliveries", "outbound_events") if start[t]}
    assert due["processed_events"] and due["deliveries"] and due["outbound_events"]
    assert await _purge(rig, just_before, dry_run=True) == due
    assert primary_keys(await all_rows(rig)) == start, "a dry run changes nothing"
    await _purge(rig, just_before, dry_run=False)
    kept = primary_keys(await all_rows(rig))
    assert kept["processed_events"] == kept["deliveries"] == kept["outbound_events"] == set()
    assert _removed(start, kept) == due

    # One second after it, the first passenger's conversation goes with everything hanging off it.
    after = end + POLICY.content + dt.timedelta(seconds=1)
    rows = await all_rows(rig)
    mine = {
        "conversations": sum(1 for r in rows["conversations"] if r["id"] == first_conv),
        **{t: sum(1 for r in rows[t] if r["conversation_id"] == first_conv) for t in CONVERSATION_TABLES - {"conversations"}},
    }
    dry = await _purge(rig, after, dry_run=True)
    assert dry == {t: n for t, n in mine.items() if n}
    assert await _purge(rig, after, dry_run=False) == dry
    now_kept = primary_keys(await all_rows(rig))
    assert _removed(kept, now_kept) == dry
    assert (await rig.conversation(late)).id, "the later journey keeps its conversation"

    # Booking records stay seven years after the journey, then go with passengers, contacts and consent.
    early = await _purge(rig, end + POLICY.bookings - dt.timedelta(days=1), dry_run=True)
    assert early == {"conversations": 1, "outbox": 1}, "only the later journey's conversation, past its own 90 days"
    gone = await _purge(rig, end + POLICY.bookings + dt.timedelta(days=1), dry_run=False)
    left = await all_rows(rig)
    assert {r["id"] for r in left["passengers"]} == {late.passenger_id}
    assert {r["booking_id"] for r in left["segments"]} == {late.booking_id}
    assert gone["bookings"] == 1 and gone["contact_points"] == 4 and gone["consent_events"] == 4
    assert gone["claims.passenger_id"] >= 1, "the purged passengers' claims stay, anonymised (they held a foreign key)"
    assert all(r["booking_id"] in (None, late.booking_id) for r in left["claims"])
    assert gone["audit_log"] >= 1, "audit entries older than seven years go too"
    async with rig.c.db.reading() as s:
        assert (await audit.verify(s)).ok, "a purge records where the chain now starts"


async def test_purge_runs_from_the_worker_job_with_the_settings_periods(rig: Rig) -> None:
    await journey(rig)
    retention = rig.c.settings.retention
    report = await run_purge(rig.c.db, retention, clock=lambda: rig.clock() + dt.timedelta(days=retention.event_days + 1), dry_run=False)
    assert report.removed["processed_events"] and set(report.removed) <= {"processed_events", "outbound_events"}


async def test_key_rotation_reencrypts_everything_and_every_record_stays_readable(rig: Rig) -> None:
    person = await journey(rig)
    before = await all_rows(rig)
    old = crypto.keyring()
    new = crypto.Keyring.from_secrets([("k2", "a-brand-new-pii-secret"), ("k1", DEV_PII_KEY)], DEV_BLIND_KEY)
    crypto.configure(new)

    counts = await run_rotation(rig.c.db, clock=rig.clock)
    assert counts["passengers"] >= 1 and counts["contact_points"] == 4 and counts["inbound_messages"] >= 2
    assert await run_rotation(rig.c.db, clock=rig.clock) == {name: 0 for name in counts}, "a second run has nothing left to do"

    crypto.configure(crypto.Keyring.from_secrets([("k2", "a-brand-new-pii-secret")], DEV_BLIND_KEY))  # k1 retired
    try:
        after = await all_rows(rig)
        for table in encrypted_columns(Base.metadata):
            assert after[table] == before[table], table
        async with rig.c.db.reading() as s:
            for table, names in encrypted_columns(Base.metadata).items():
                t = Base.metadata.tables[table]
                for name in names:
                    raw = (await s.scalars(select(type_coerce(t.c[name], String)).where(t.c[name].is_not(None)))).all()
                    assert all(v.startswith("enc1:k2:") for v in raw), (table, name)
        await rig.reply("sms", person.pax, "AGENT")  # the phone lookup (blind index) still finds the passenger
        async with rig.c.db.reading() as s:
            rotated = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "keys.rotated"))).all()
        assert len(rotated) == 2 and rotated[0].details["key_id"] == "k2"
    finally:
        crypto.configure(old)


async def test_audit_chain_holds_and_detects_an_edited_or_deleted_entry(rig: Rig) -> None:
    await journey(rig)
    report = await run_verify(rig.c.db)
    assert report.ok and report.entries >= 5
    async with rig.c.db.reading() as s:
        actions = (await s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all()
        seqs = list((await s.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq))).all())
    assert {"consent.granted", "booking.confirmed", "escalation.opened"} <= set(actions)
    assert seqs == list(range(1, len(seqs) + 1))
    middle = seqs[len(seqs) // 2]

    async with rig.c.db.transaction() as s:
        await s.execute(update(AuditEntry).where(AuditEntry.seq == middle).values(reason="nothing happened"))
    broken = await run_verify(rig.c.db)
    assert not broken.ok and broken.problems == [f"entry {middle} was altered (hash mismatch)"]

    async with rig.c.db.transaction() as s:
        await s.execute(update(AuditEntry).where(AuditEntry.seq == middle).values(reason=None))
    assert (await run_verify(rig.c.db)).ok

    async with rig.c.db.transaction() as s:
        await s.execute(update(AuditEntry).where(AuditEntry.seq == middle).values(details={"channel": "sms", "forged": True}))
    assert not (await run_verify(rig.c.db)).ok

    async with rig.c.db.transaction() as s:
        await s.execute(delete(AuditEntry).where(AuditEntry.seq == middle))
    deleted = await run_verify(rig.c.db)
    assert not deleted.ok and f"entries {middle}..{middle} are missing" in deleted.problems

    async with rig.c.db.transaction() as s:
        await s.execute(delete(AuditEntry).where(AuditEntry.seq == 1))
    assert "entries before 2 are missing and no purge recorded their removal" in (await run_verify(rig.c.db)).problems


async def test_entries_of_a_rolled_back_transaction_never_enter_the_chain(rig: Rig) -> None:
    class Boom(Exception):
        pass

    try:
        async with rig.c.db.transaction() as s:
            audit.append(s, actor="test", action="test.rolled_back", subject="x", at=rig.clock())
            raise Boom
    except Boom:
        pass
    async with rig.c.db.transaction() as s:
        audit.append(s, actor="test", action="test.kept", subject="x", at=rig.clock())
    async with rig.c.db.reading() as s:
        rows = (await s.scalars(select(AuditEntry.action))).all()
    assert list(rows) == ["test.kept"]
    assert (await run_verify(rig.c.db)).ok
