"""A worker that waited past its claim on a row never sends it: the row may belong to another worker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from conversations.models import OutboxMessage
from tests.conversations.conftest import Rig
from tests.fakes.pacing import Unlimited


class SlowPacer(Unlimited):
    """Waits for a token for longer than the claim lasts; meanwhile `during_wait` runs."""

    def __init__(self, rig: Rig, during_wait) -> None:  # type: ignore[no-untyped-def]
        self.rig = rig
        self.during_wait = during_wait

    async def acquire(
        self, channel: str, recipient: str = "", sender: str = "", *, answer: bool = False, cost: int = 1
    ) -> None:
        self.rig.clock.advance(seconds=120)
        await self.during_wait()


async def _planned(rig: Rig) -> tuple[object, int]:
    who = await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    await rig.c.service.offer_batch(ids)
    [row] = await rig.outbox(who)
    return who, row.id


async def test_a_lapsed_claim_taken_by_another_worker_is_not_sent(rig: Rig) -> None:
    who, outbox_id = await _planned(rig)
    other_lease = rig.clock() + dt.timedelta(hours=1)

    async def another_worker_reclaims() -> None:
        async with rig.c.db.transaction() as s:
            await s.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(claimed_until=other_lease))

    rig.c.dispatcher.pacer = SlowPacer(rig, another_worker_reclaims)  # type: ignore[assignment]
    await rig.c.dispatcher.run_once()
    assert rig.inbox("sms", who) == []  # type: ignore[arg-type]
    [row] = await rig.outbox(who)  # type: ignore[arg-type]
    assert row.status == "sending" and row.claimed_until == other_lease
    assert await rig.deliveries(who) == []  # type: ignore[arg-type]


async def test_a_lapsed_claim_nobody_took_is_renewed_and_sent_once(rig: Rig) -> None:
    who, _ = await _planned(rig)

    async def nothing() -> None:
        return None

    rig.c.dispatcher.pacer = SlowPacer(rig, nothing)  # type: ignore[assignment]
    await rig.c.dispatcher.run_once()
    assert len(rig.inbox("sms", who)) == 1  # type: ignore[arg-type]
    [row] = await rig.outbox(who)  # type: ignore[arg-type]
    assert row.status == "sent"
