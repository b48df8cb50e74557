"""An update cut off between its batches leaves every booking on its old offer or its new one, and re-applying it finishes the job.

The crash is a failure injected into the second batch's planning (its transaction rolls back, as
when the process dies); everything else is the real re-plan on both databases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.engine import Status
from conversations.intake.fanout import FanOut
from conversations.intake.replan import APPLYING, replan
from conversations.intake.story import Outcome, apply_in, apply_update
from conversations.models import Conversation
from conversations.service import ConversationService
from gateway.worker.process import Worker
from rebooking_core.flight_updates import FlightUpdate, UpdateKind
from rebooking_core.impact import ImpactedBooking
from rebooking_core.models import (
    Disruption,
    DisruptionUpdate,
    Inventory,
)
from rebooking_core.offers import CreatedOffer
from tests.conversations.conftest import Pax, Rig
from tests.conversations.intake.test_story import _update, apply
from tests.e2e.test_flight_story import _invariants

PASSENGERS = 6


class Crash(RuntimeError):
    pass


class CrashingFanOut(FanOut):
    """The real fan-out machinery, but the process 'dies' while planning batch number `crash_at`."""

    def __init__(self, service: ConversationService, *, batch_size: int, crash_at: int) -> None:
        super().__init__(service, batch_size=batch_size)
        self.calls = 0
        self.crash_at = crash_at

    async def offer_in(
        self, s: AsyncSession, disruption: Disruption | None, wanted: Sequence[tuple[Conversation, ImpactedBooking]], demand: dict[str, int]
    ) -> list[CreatedOffer | None]:
        self.calls += 1
        if self.calls == self.crash_at:
            raise Crash("the worker died here")
        return await super().offer_in(s, disruption, wanted, demand)


async def _outcomes(rig: Rig) -> list[str]:
    async with rig.c.db.reading() as s:
        return list((await s.scalars(select(DisruptionUpdate.outcome).order_by(DisruptionUpdate.id))).all())


async def _delayed_then_cut_off_cancel(rig: Rig) -> tuple[list[Pax], FlightUpdate, dict[int, int | None]]:
    async with rig.c.db.transaction() as s:
        await s.execute(update(Inventory).where(Inventory.flight_id != rig.disrupted.id).values(capacity=200))
    people = [await rig.add_pax(("sms",)) for _ in range(PASSENGERS)]
    await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=rig.disrupted.dep_utc + dt.timedelta(hours=5)))
    old = {p.booking_id: (await rig.conversation(p)).offer_id for p in people}
    assert all(old.values())
    rig.clock.advance(minutes=1)
    cancel = _update(rig, UpdateKind.CANCELLATION)
    async with rig.c.db.transaction() as s:
        head = await apply_in(s, rig.c.service, cancel)
    assert head.following and head.disruption_id is not None
    try:
        await replan(rig.c.service, head.disruption_id, fanout=CrashingFanOut(rig.c.service, batch_size=2, crash_at=2))
    except Crash:
        pass
    else:
        raise AssertionError("the injected crash did not happen")
    return people, cancel, old


async def test_a_crash_between_batches_leaves_old_or_new_offers_and_the_same_update_finishes(rig: Rig) -> None:
    people, cancel, old = await _delayed_then_cut_off_cancel(rig)
    await rig.c.dispatcher.drain()
    assert await _outcomes(rig) == ["applied", APPLYING]
    await _invariants(rig)
    moved = []
    for p in people:
        conv = await rig.conversation(p)
        keys = [m.key for m in await rig.outbox(p)]
        if conv.offer_id == old[p.booking_id]:  # still on its old offer, as the delay left it
            assert (conv.impact["cause"], keys) == ("delayed", ["offer"])
        else:  # the first batch committed: the new offer, told once
            assert (conv.impact["cause"], keys) == ("cancelled", ["offer", "offer_updated"])
            moved.append(p)
    assert len(moved) == 2

    # The feed sends the same message again: it finishes the job instead of skipping it.
    again = await apply_update(rig.c.service, cancel)
    assert (again.outcome, again.updated) == (Outcome.APPLIED, PASSENGERS - 2)
    await rig.c.dispatcher.drain()
    assert await _outcomes(rig) == ["applied", "applied"]
    await _invariants(rig)
    for p in people:
        conv = await rig.conversation(p)
        assert conv.status == Status.OFFERED and conv.impact["cause"] == "cancelled" and conv.offer_id != old[p.booking_id]
        assert [m.key for m in await rig.outbox(p)] == ["offer", "offer_updated"]
    # And once finished, it is a duplicate like any other.
    third = await apply_update(rig.c.service, cancel)
    assert (third.outcome, third.updated) == (Outcome.DUPLICATE, 0)


async def test_a_newer_update_finishes_what_a_cut_off_one_left(rig: Rig) -> None:
    people, _, _ = await _delayed_then_cut_off_cancel(rig)
    rig.clock.advance(minutes=1)
    back = await apply(rig, _update(rig, UpdateKind.REINSTATEMENT))
    assert back.withdrawn == PASSENGERS
    assert await _outcomes(rig) == ["applied", "applied", "applied"]
    await _invariants(rig)
    for p in people:
        assert (await rig.conversation(p)).status == Status.CLOSED
        assert [m.key for m in await rig.outbox(p)][-1] == "disruption_lifted"
    assert all(held == 0 for _, held in (await rig.inventory()).values())


async def test_the_workers_recovery_finishes_an_update_no_feed_sends_again(rig: Rig) -> None:
    people, _, _ = await _delayed_then_cut_off_cancel(rig)
    worker = Worker(rig.c)
    await worker.recover()
    assert await _outcomes(rig) == ["applied", APPLYING]  # still within the stall period: it may be running
    rig.clock.advance(seconds=rig.c.settings.recover_stall_s + 1)
    await worker.recover()
    await rig.c.dispatcher.drain()
    assert await _outcomes(rig) == ["applied", "applied"]
    await _invariants(rig)
    for p in people:
        assert [m.key for m in await rig.outbox(p)] == ["offer", "offer_updated"]
        assert (await rig.conversation(p)).impact["cause"] == "cancelled"
