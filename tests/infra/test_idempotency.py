"""insert_or_get on SQLite and PostgreSQL: one row per key however many claim it at once, the winner's id for all."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from infra.db import make_sessionmaker
from infra.idempotency import Claimed, insert_or_get
from rebooking_core.models import Disruption

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def values(key: str | None) -> dict[str, object]:
    return {"kind": "cancelled", "reason": None, "idempotency_key": key, "new_dep_utc": None, "created_at": NOW}


async def rows(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as s:
        return int(await s.scalar(select(func.count()).select_from(Disruption)) or 0)


async def test_twenty_concurrent_claims_of_one_key_make_one_row(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)

    async def claim() -> Claimed:
        async with sessions() as s, s.begin():
            claimed = await insert_or_get(s, Disruption, values("storm"), key="idempotency_key")
            await asyncio.sleep(0)  # let the others run into the same key before this one commits
            return claimed

    results = await asyncio.gather(*(claim() for _ in range(20)))
    assert len({r.id for r in results}) == 1
    assert [r.created for r in results].count(True) == 1
    assert await rows(engine) == 1


async def test_a_second_claim_returns_the_first_row_and_writes_nothing(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        first = await insert_or_get(s, Disruption, values("a"), key="idempotency_key")
        other = await insert_or_get(s, Disruption, values("b"), key="idempotency_key")
    async with sessions() as s, s.begin():
        again = await insert_or_get(s, Disruption, {**values("a"), "kind": "delayed"}, key="idempotency_key")
    assert first.created and other.created and not again.created
    assert again.id == first.id != other.id
    async with sessions() as s:
        assert await s.scalar(select(Disruption.kind).where(Disruption.id == first.id)) == "cancelled"


async def test_a_rolled_back_claim_leaves_the_key_free(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    with pytest.raises(LookupError):
        async with sessions() as s, s.begin():
            await insert_or_get(s, Disruption, values("typo"), key="idempotency_key")
            raise LookupError("the flight does not exist")
    async with sessions() as s, s.begin():
        assert (await insert_or_get(s, Disruption, values("typo"), key="idempotency_key")).created


async def test_a_missing_key_value_is_refused(engine: AsyncEngine) -> None:
    async with make_sessionmaker(engine)() as s:
        with pytest.raises(ValueError, match="idempotency_key"):
            await insert_or_get(s, Disruption, values(None), key="idempotency_key")
