"""Answers kept per `Idempotency-Key`, so a retried request gets the first answer instead of running again.

The database holds them (not Redis): it is the one store every gateway process shares in every
deployment, the claim is a unique insert that decides between concurrent retries, and the
retention purge removes them after `ANSWERS_KEPT`. A row is claimed before the request runs
(`status` null: in progress), filled with the answer when it succeeded, and deleted when it did
not, so a failed request may be retried with the same key. Only hashes of the key and of the
request are kept; the answer is encrypted (it may quote a passenger) and every erasure deletes
all answers (`forget_all`), since an answer is not linked to the passengers it names.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Final

from sqlalchemy import Index, Integer, String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from consent.retention import ANSWERS_KEPT
from infra.idempotency import insert_or_get
from infra.orm import Base, BigId, EncryptedString, UTCDateTime

#: A SHA-256 hex digest.
HASH_CHARS: Final = 64
#: A claim whose request has not answered after this long is taken to be abandoned (its process died).
CLAIM_LEASE: Final = dt.timedelta(minutes=10)


class IdempotentAnswer(Base):
    """One key's request (its fingerprint) and, once it succeeded, its answer."""

    __tablename__ = "idempotent_answers"
    __table_args__ = (Index("ix_idempotent_answers_created", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: SHA-256 of the API key's id and the Idempotency-Key: one client's keys never meet another's.
    key_hash: Mapped[str] = mapped_column(String(HASH_CHARS), unique=True)
    #: SHA-256 of the method, path, query and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(HASH_CHARS))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[int | None] = mapped_column(Integer, default=None)
    media_type: Mapped[str | None] = mapped_column(String(64), default=None)
    #: Encrypted: an answer may quote a passenger (an escalation card's first name and transcript).
    body: Mapped[str | None] = mapped_column(EncryptedString(), default=None)


class Outcome(Enum):
    """What a claim found: the key is this request's to run, answered before, in use by another request, or running."""

    MINE = "mine"
    ANSWERED = "answered"
    CONFLICT = "conflict"
    RUNNING = "running"


@dataclass(frozen=True)
class Answer:
    """A stored answer, replayed as it was."""

    status: int
    media_type: str
    body: str


@dataclass(frozen=True)
class Claim:
    outcome: Outcome
    row_id: int
    answer: Answer | None = None


async def claim(session: AsyncSession, *, key_hash: str, fingerprint: str, now: dt.datetime) -> Claim:
    """Take the key for this request, or say why not; an expired or abandoned row is taken over."""
    claimed = await insert_or_get(
        session, IdempotentAnswer, {"key_hash": key_hash, "fingerprint": fingerprint, "created_at": now}, key="key_hash"
    )
    if claimed.created:
        return Claim(Outcome.MINE, claimed.id)
    row = (await session.execute(select(IdempotentAnswer).where(IdempotentAnswer.id == claimed.id))).scalar_one()
    stale = now - (ANSWERS_KEPT if row.status is not None else CLAIM_LEASE)
    if row.created_at < stale:
        taken = await session.execute(
            update(IdempotentAnswer)
            .where(IdempotentAnswer.id == row.id, IdempotentAnswer.created_at == row.created_at)
            .values(fingerprint=fingerprint, created_at=now, status=None, media_type=None, body=None)
            .execution_options(synchronize_session=False)
        )
        return Claim(Outcome.MINE if taken.rowcount == 1 else Outcome.RUNNING, row.id)  # type: ignore[attr-defined]
    if row.fingerprint != fingerprint:
        return Claim(Outcome.CONFLICT, row.id)
    if row.status is None or row.media_type is None or row.body is None:
        return Claim(Outcome.RUNNING, row.id)
    return Claim(Outcome.ANSWERED, row.id, Answer(row.status, row.media_type, row.body))


async def keep(session: AsyncSession, row_id: int, answer: Answer) -> None:
    """Store the answer of the request that holds the claim."""
    await session.execute(
        update(IdempotentAnswer)
        .where(IdempotentAnswer.id == row_id)
        .values(status=answer.status, media_type=answer.media_type, body=answer.body)
        .execution_options(synchronize_session=False)
    )


async def release(session: AsyncSession, row_id: int) -> None:
    """Forget an unanswered claim (its request failed), so the key may be used again."""
    await session.execute(
        delete(IdempotentAnswer)
        .where(IdempotentAnswer.id == row_id, IdempotentAnswer.status.is_(None))
        .execution_options(synchronize_session=False)
    )


async def forget_all(session: AsyncSession) -> int:
    """Delete every stored answer (an erasure: answers are not linked to the passengers they quote); retries then run again."""
    n = int(await session.scalar(select(func.count()).select_from(IdempotentAnswer)) or 0)
    if n:
        await session.execute(delete(IdempotentAnswer).execution_options(synchronize_session=False))
    return n
