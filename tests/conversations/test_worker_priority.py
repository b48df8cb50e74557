"""While options are being generated, first messages wait (within dispatch_defer_s) and answers do not."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from gateway.worker.process import Worker
from infra.doorbell import Doorbell
from tests.conftest import REDIS_URL
from tests.conversations.conftest import Rig


async def _until(check: Callable[[], bool | Awaitable[bool]], *, tries: int = 500) -> None:
    for _ in range(tries):
        got = check()
        if got if isinstance(got, bool) else await got:
            return
        await asyncio.sleep(0.01)


async def _stop(task: asyncio.Task[None]) -> None:
    await asyncio.sleep(0.2)  # let it settle into its idle wait: cancelling mid-query would leak a connection
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@pytest.mark.parametrize("settings_overrides", [{"dispatch_defer_s": 60}])
async def test_messages_wait_while_this_worker_fans_out_then_go(rig: Rig) -> None:
    first, second = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    worker = Worker(rig.c, poll_interval=30)  # only wake-ups and the end of the fan-out move it
    assert await rig.c.service.offer_batch(ids[:1]) == 1
    fanning = rig.c.jobs._fanning()
    fanning.__enter__()
    dispatching = asyncio.create_task(worker.dispatch_forever())
    try:
        await _until(lambda: bool(rig.inbox("sms", first)))  # the round already due goes out at once
        assert len(rig.inbox("sms", first)) == 1
        assert await rig.c.service.offer_batch(ids[1:]) == 1
        await asyncio.sleep(0.5)
        assert rig.inbox("sms", second) == [], "held back while options are being generated"
        fanning.__exit__(None, None, None)  # the end of the fan-out wakes the dispatcher
        await _until(lambda: bool(rig.inbox("sms", second)))
        assert len(rig.inbox("sms", second)) == 1
    finally:
        await _stop(dispatching)


@pytest.mark.parametrize("settings_overrides", [{"dispatch_defer_s": 60}])
async def test_a_booking_confirmation_is_not_held_back_by_a_fanout(rig: Rig) -> None:
    early, late = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    worker = Worker(rig.c, poll_interval=30)
    assert await rig.c.service.offer_batch(ids[:1]) == 1
    fanning = rig.c.jobs._fanning()
    fanning.__enter__()
    dispatching = asyncio.create_task(worker.dispatch_forever())
    try:
        await _until(lambda: bool(rig.inbox("sms", early)))
        assert await rig.c.service.offer_batch(ids[1:]) == 1  # a first offer: held back
        await rig.reply("sms", early, "1")
        await _until(lambda: len(rig.inbox("sms", early)) == 2)
        assert (await rig.conversation(early)).status == "booked"

        async def recorded() -> bool:  # a hand-over is recorded within the recorder's linger (20 ms)
            return [m.key for m in await rig.outbox(early) if m.status == "sent"] == ["offer", "booked"]

        await _until(recorded)
        assert await recorded()
        assert rig.inbox("sms", late) == [], "the fan-out's first offer still waits"
        fanning.__exit__(None, None, None)
        await _until(lambda: bool(rig.inbox("sms", late)))
        assert len(rig.inbox("sms", late)) == 1
    finally:
        await _stop(dispatching)


@pytest.mark.parametrize("settings_overrides", [{"dispatch_defer_s": 60}])
async def test_another_workers_fanout_holds_first_messages_back_until_its_announcement_lapses(rig: Rig) -> None:
    """Through Redis: this worker generates nothing, another one does (or did, and died)."""
    who = await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    channel = f"rebook:test:{uuid.uuid4().hex[:8]}"
    rig.c.doorbell = Doorbell.from_url(REDIS_URL)  # closed with the container
    rig.c.doorbell.channel = channel
    other = Doorbell.from_url(REDIS_URL)
    other.channel = channel
    worker = Worker(rig.c, poll_interval=0.05)
    dispatching = asyncio.create_task(worker.dispatch_forever())
    try:
        await asyncio.sleep(0.2)  # its first round found nothing to send
        await other.announce_fanout(1.0)
        assert await rig.c.service.offer_batch(ids) == 1
        await asyncio.sleep(0.5)
        assert rig.inbox("sms", who) == [], "held back while another worker generates options"
        await _until(lambda: bool(rig.inbox("sms", who)))
        assert len(rig.inbox("sms", who)) == 1
        assert not await other.fanout_elsewhere()
    finally:
        await _stop(dispatching)
        await other.aclose()


async def test_the_worker_vacuums_once_after_a_wave_not_during_it(rig: Rig) -> None:
    from tests.infra.test_vacuum import _churn

    worker = Worker(rig.c)
    name = await _churn(rig.c.db, 3000) if not rig.c.db.is_sqlite else "nothing on SQLite"
    fanning = rig.c.jobs._fanning()
    fanning.__enter__()
    assert await worker.tidy() == [], "options first"
    fanning.__exit__(None, None, None)
    assert (name in await worker.tidy()) is not rig.c.db.is_sqlite
    second = await _churn(rig.c.db, 3000) if not rig.c.db.is_sqlite else "nothing on SQLite"
    assert second not in await worker.tidy(), "once a wave: the rest is autovacuum's"


@pytest.mark.parametrize("settings_overrides", [{"dispatch_defer_s": 60}])
async def test_the_audit_chain_waits_while_options_are_generated(rig: Rig) -> None:
    from consent import audit
    from consent.models import AuditEntry

    worker = Worker(rig.c)
    assert await worker.seal_audit() == 0  # the first round: nothing to chain yet
    async with rig.c.db.transaction() as s:
        audit.append(s, actor="test", action="t", subject="s", at=rig.clock())
    fanning = rig.c.jobs._fanning()
    fanning.__enter__()
    assert await worker.seal_audit() == 0, "options first"
    fanning.__exit__(None, None, None)
    assert await worker.seal_audit() == 1
    assert await rig.count(AuditEntry) == 1


async def test_a_worker_that_settles_after_waves_freezes_what_the_wave_left_and_only_then(rig: Rig) -> None:
    import gc

    worker = Worker(rig.c, settle_after_waves=True)
    left_behind = [{"n": [n]} for n in range(100)]
    try:
        fanning = rig.c.jobs._fanning()
        fanning.__enter__()
        await worker.tidy()
        assert gc.get_freeze_count() == 0, "not while options are being generated"
        fanning.__exit__(None, None, None)
        await worker.tidy()
        frozen = gc.get_freeze_count()
        assert frozen > len(left_behind)
        assert all(gc.is_tracked(d) for d in left_behind) and not any(d is left_behind[0] for d in gc.get_objects())
        await worker.tidy()
        assert gc.get_freeze_count() == frozen, "once a wave"
    finally:
        gc.unfreeze()
