"""Work a transaction leaves for its commit, run in one declared order by the sessions `infra.db` makes.

A caller queues items for a `CommitHook` on its session; right before COMMIT each hook that has
items runs once with all of them, in `CommitStage` order; a rolled-back transaction drops them.
The hooks are installed on the session class of each sessionmaker `infra.db.make_sessionmaker`
builds (`session_class`), never on SQLAlchemy's global `Session`, so a session made elsewhere
runs no commit work, and queueing on one is refused rather than silently lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

__all__ = ["CommitHook", "CommitStage", "queue", "session_class"]


class CommitStage(IntEnum):
    """The one place the order of commit-time work is declared: lower runs first."""

    #: Rows inserted at commit (`infra.commit_rows`): an inbound message, an outbox message, audit entries.
    QUEUED_ROWS = 10
    #: Seat counter moves a booking deferred to commit (`rebooking_core.booking.postgres`). Last: a
    #: popular flight's counter row stays locked from this update to COMMIT, so nothing may follow it.
    SEAT_MOVES = 20


@dataclass(frozen=True)
class CommitHook:
    """What runs at one stage: `run` gets the session (synchronous) and every item queued for it."""

    stage: CommitStage
    name: str
    run: Callable[[Session, list[Any]], None]


#: `Session.info` key of the queued work: {stage: (hook, items)}.
_QUEUED = "rebook.commit_hooks"
#: Marks a session class `session_class` built, on which the hooks run.
_INSTALLED = "_rebook_commit_hooks"


def queue(session: AsyncSession | Session, hook: CommitHook, item: Any) -> None:
    """Leave `item` for `hook` at this transaction's commit."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if not getattr(type(sync), _INSTALLED, False):
        raise RuntimeError(f"{hook.name}: this session runs no commit hooks (make it with infra.db.make_sessionmaker)")
    queued: dict[CommitStage, tuple[CommitHook, list[Any]]] = sync.info.setdefault(_QUEUED, {})
    found = queued.get(hook.stage)
    if found is None:
        queued[hook.stage] = (hook, [item])
    elif found[0] is not hook:
        raise ValueError(f"commit stage {hook.stage.name} has two hooks: {found[0].name} and {hook.name}")
    else:
        found[1].append(item)


def session_class() -> type[Session]:
    """A `Session` subclass that runs the queued hooks; `infra.db` builds one per sessionmaker."""
    cls = type("CommitHookSession", (Session,), {_INSTALLED: True})
    event.listen(cls, "before_commit", _run_queued)
    event.listen(cls, "after_transaction_end", _forget_queued)
    return cls


def _run_queued(session: Session) -> None:
    queued: dict[CommitStage, tuple[CommitHook, list[Any]]] = session.info.pop(_QUEUED, {})
    for stage in sorted(queued):
        hook, items = queued[stage]
        hook.run(session, items)


def _forget_queued(session: Session, transaction: SessionTransaction) -> None:
    """Work queued by a rolled-back transaction never happens."""
    if transaction.parent is None:
        session.info.pop(_QUEUED, None)
