"""Append-only, hash-chained audit log: who changed consent, booked, escalated, exported or erased."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ARRAY, BigInteger, String, Table, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Update

from consent.models import AuditEntry
from infra.commit_rows import insert_at_commit

GENESIS = "0" * 64
PURGED = "audit.purged"
#: PostgreSQL advisory lock key that serialises chain appends across processes ("rbAUDIT").
LOCK_KEY = 0x7262_4155_4449_54


def digest(
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    passenger_id: int | None,
    reason: str | None,
    details: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """The hash of one entry over every field and its predecessor's hash, so any edit breaks the chain."""
    body = json.dumps(
        [seq, at.astimezone(dt.UTC).isoformat(), actor, action, subject, passenger_id, reason, dict(details), prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def entry_digest(row: Mapping[str, Any]) -> str:
    """Recompute a stored entry's hash from its columns."""
    return digest(
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        subject=row["subject"],
        passenger_id=row["passenger_id"],
        reason=row["reason"],
        details=row["details"] or {},
        prev_hash=row["prev_hash"],
    )


def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    subject: str,
    at: dt.datetime,
    passenger_id: int | None = None,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Queue an entry: written unsealed with the transaction (no lock, so concurrent bookings never
    queue behind the chain) and chained by `seal` soon after it commits."""
    insert_at_commit(
        session,
        cast("Table", AuditEntry.__table__),
        {
            "at": at,
            "actor": actor[:64],
            "action": action[:32],
            "subject": subject[:64],
            "passenger_id": passenger_id,
            "reason": reason[:160] if reason else None,
            "details": dict(details or {}),
        },
    )



async def seal(session: AsyncSession, *, limit: int = 5000, wait: bool = True) -> int:
    """Chain committed unsealed entries in the order they are found, under the lock that serialises sealers.

    The worker runs this every second with ``wait=False``: while another worker seals, it skips
    its turn rather than queue behind the chain and seal what that one is already sealing.
    `rebook audit verify` and the purge wait. An entry is sealed once (``WHERE seq IS NULL``) and
    never changed after: the chain is append-only.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        if wait:
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        elif not await session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_KEY))):
            return 0
    table = AuditEntry.__table__
    pending = (
        await session.execute(select(table).where(table.c.seq.is_(None)).order_by(table.c.id).limit(limit))
    ).mappings().all()
    if not pending:
        return 0
    head = (
        await session.execute(
            select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq.desc()).limit(1)
        )
    ).first()
    seq, prev = (int(head[0] or 0), str(head[1])) if head is not None else (0, GENESIS)
    sealed: list[dict[str, Any]] = []
    for row in pending:
        seq += 1
        link = {"id": row["id"], "seq": seq, "prev_hash": prev}
        prev = link["hash"] = entry_digest({**row, **link})
        sealed.append(link)
    if postgres:
        await session.execute(_SEAL_MANY, {f"{column}s": [link[column] for link in sealed] for column in _LINK})
    else:
        await session.execute(update(AuditEntry), sealed)
    return len(sealed)


#: What sealing writes to each entry (its id to find it by), and each array's element type.
_LINK: dict[str, type[BigInteger] | type[String]] = {"id": BigInteger, "seq": BigInteger, "prev_hash": String, "hash": String}


def _seal_many() -> Update:
    """One UPDATE from four arrays, joined on the primary key only (the sealer lock keeps the rows unsealed).

    With a `seq IS NULL` condition as well, a plan seen in testing started from the unsealed-entries
    index (estimated at one row by statistics gathered while all was sealed) and rescanned the
    arrays once per entry.
    """
    table = cast("Table", AuditEntry.__table__)
    links = select(
        *(func.unnest(bindparam(f"{column}s", type_=ARRAY(kind))).label(column) for column, kind in _LINK.items())
    ).subquery("links")
    return (
        update(table)
        .where(table.c.id == links.c.id)
        .values(seq=links.c.seq, prev_hash=links.c.prev_hash, hash=links.c.hash)
    )


_SEAL_MANY = _seal_many()


@dataclass
class Verification:
    """What `rebook audit verify` found: entries checked and every break in the chain."""

    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify(session: AsyncSession, *, batch: int = 5000) -> Verification:
    """Recompute every hash in order; an edited, inserted or deleted entry shows as a break."""
    report = Verification()
    checkpoints = await _purge_checkpoints(session)
    expected_seq: int | None = None
    prev_hash = GENESIS
    last = 0
    while True:
        table = AuditEntry.__table__
        result = await session.execute(select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch))
        rows = [dict(r) for r in result.mappings().all()]
        if not rows:
            break
        for row in rows:
            if expected_seq is None:
                expected_seq, prev_hash = _anchor(row, checkpoints, report)
            seq = int(row["seq"])
            if seq != expected_seq:
                report.problems.append(f"entries {expected_seq}..{seq - 1} are missing")
            if row["prev_hash"] != prev_hash:
                report.problems.append(f"entry {seq} does not follow the entry before it")
            if entry_digest(row) != row["hash"]:
                report.problems.append(f"entry {seq} was altered (hash mismatch)")
            report.entries += 1
            expected_seq = seq + 1
            prev_hash = str(row["hash"])
            last = seq
    return report


def _anchor(first: Mapping[str, Any], checkpoints: dict[int, str], report: Verification) -> tuple[int, str]:
    """Where the chain must start: at 1, or right after the entries a recorded purge removed."""
    seq, prev = int(first["seq"]), str(first["prev_hash"])
    if seq == 1:
        return 1, GENESIS
    if checkpoints.get(seq - 1) == prev:
        return seq, prev
    report.problems.append(f"entries before {seq} are missing and no purge recorded their removal")
    return seq, prev


async def _purge_checkpoints(session: AsyncSession) -> dict[int, str]:
    rows = await session.scalars(select(AuditEntry.details).where(AuditEntry.action == PURGED))
    found: dict[int, str] = {}
    for details in rows.all():
        through, hash_ = (details or {}).get("through_seq"), (details or {}).get("through_hash")
        if isinstance(through, int) and isinstance(hash_, str):
            found[through] = hash_
    return found
