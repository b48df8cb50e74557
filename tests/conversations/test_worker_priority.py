"""A worker generating options holds its messages back (within dispatch_defer_s), then sends them."""

from __future__ import annotations

import asyncio

import pytest

from gateway.worker import Worker
from tests.conversations.conftest import Rig


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
        for _ in range(200):  # the round already due goes out at once
            if rig.inbox("sms", first):
                break
            await asyncio.sleep(0.01)
        assert len(rig.inbox("sms", first)) == 1
        assert await rig.c.service.offer_batch(ids[1:]) == 1
        await asyncio.sleep(0.5)
        assert rig.inbox("sms", second) == [], "held back while options are being generated"
        fanning.__exit__(None, None, None)
        for _ in range(500):
            if rig.inbox("sms", second):
                break
            await asyncio.sleep(0.01)
        assert len(rig.inbox("sms", second)) == 1
        await asyncio.sleep(0.2)  # let it settle into its idle wait: cancelling mid-query would leak a connection
    finally:
        dispatching.cancel()
        await asyncio.gather(dispatching, return_exceptions=True)
