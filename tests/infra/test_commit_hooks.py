"""Commit-time work runs in the declared stage order, on the sessions infra.db makes, and nowhere else."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

import infra.commit_rows  # noqa: F401  (its hook, as the app has it)
import rebooking_core.booking  # noqa: F401  (its hook, as the app has it)
from infra.commit_hooks import CommitHook, CommitStage, queue
from infra.db import make_sessionmaker


def _recording(stage: CommitStage, seen: list[tuple[str, list[Any]]]) -> CommitHook:
    return CommitHook(stage, stage.name, lambda session, items: seen.append((stage.name, list(items))))


async def test_stages_run_in_their_declared_order_whatever_order_work_was_queued_in(sqlite_engine: AsyncEngine) -> None:
    seen: list[tuple[str, list[Any]]] = []
    rows, seats = _recording(CommitStage.QUEUED_ROWS, seen), _recording(CommitStage.SEAT_MOVES, seen)
    async with make_sessionmaker(sqlite_engine)() as s, s.begin():
        queue(s, seats, "move 1")
        queue(s, rows, "row 1")
        queue(s, seats, "move 2")
        assert seen == [], "nothing before the commit"
    assert seen == [("QUEUED_ROWS", ["row 1"]), ("SEAT_MOVES", ["move 1", "move 2"])]


async def test_work_of_a_rolled_back_transaction_never_runs(sqlite_engine: AsyncEngine) -> None:
    seen: list[tuple[str, list[Any]]] = []
    rows = _recording(CommitStage.QUEUED_ROWS, seen)
    async with make_sessionmaker(sqlite_engine)() as s:
        async with s.begin():
            queue(s, rows, "never")
            await s.rollback()
        async with s.begin():  # the same session's next transaction
            queue(s, rows, "kept")
    assert seen == [("QUEUED_ROWS", ["kept"])]


async def test_a_stage_takes_one_hook(sqlite_engine: AsyncEngine) -> None:
    seen: list[tuple[str, list[Any]]] = []
    async with make_sessionmaker(sqlite_engine)() as s:
        queue(s, _recording(CommitStage.QUEUED_ROWS, seen), "a")
        with pytest.raises(ValueError, match="two hooks"):
            queue(s, _recording(CommitStage.QUEUED_ROWS, seen), "b")


async def test_a_session_made_elsewhere_refuses_work_it_would_never_run(sqlite_engine: AsyncEngine) -> None:
    async with AsyncSession(sqlite_engine) as s:
        with pytest.raises(RuntimeError, match="make_sessionmaker"):
            queue(s, _recording(CommitStage.QUEUED_ROWS, []), "lost")


def test_sqlalchemy_s_own_session_class_has_no_commit_listeners() -> None:
    """Hooks live on the session classes infra.db builds, not on every Session in the process."""
    plain = Session()
    assert list(plain.dispatch.before_commit) == []
    assert list(plain.dispatch.after_transaction_end) == []
    plain.close()
