"""The distributed path: PostgreSQL + taskiq Redis Streams, the same task code as the embedded default."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import time

import redis.asyncio as aioredis
from sqlalchemy import func, select
from taskiq_redis import RedisStreamBroker

from conversations.intake.ports import DisruptionRequest, FlightKey
from conversations.intake.workflow import record_disruption
from conversations.models import Conversation, OutboxMessage
from gateway.container import build
from gateway.migrate import upgrade_async
from gateway.settings import Settings
from gateway.worker.process import Worker
from infra import crypto
from rebooking_core.generate import generate
from rebooking_core.importer import import_bookings, import_schedule
from rebooking_core.models import Flight, Inventory
from rebooking_core.types import DisruptionKind

REDIS_URL = os.environ.get("REBOOK_TEST_JOBS_REDIS_URL", "redis://127.0.0.1:6379/13")


async def test_disruption_fans_out_through_redis_streams(fresh_pg_url: str) -> None:
    ring = crypto.keyring()
    client = aioredis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()
    await upgrade_async(fresh_pg_url)
    settings = Settings(sandbox=True, database_url=fresh_pg_url, redis_url=REDIS_URL, batch_size=20, _env_file=None)  # type: ignore[call-arg]
    c = build(settings)
    assert isinstance(c.jobs.broker, RedisStreamBroker)
    await c.start()
    worker = asyncio.create_task(Worker(c).run())
    try:
        day = dt.date.today() + dt.timedelta(days=1)
        data = generate(seed=4, start=day, days=2, passengers=3000)
        async with c.db.transaction() as s:
            await import_schedule(s, data.schedule)
        async with c.db.transaction() as s:
            await import_bookings(s, data.bookings)
        async with c.db.reading() as s:
            flight = (
                await s.execute(
                    select(Flight)
                    .join(Inventory, Inventory.flight_id == Flight.id)
                    .where(Flight.service_date == day)
                    .group_by(Flight.id)
                    .order_by(func.sum(Inventory.sold).desc())
                    .limit(1)
                )
            ).scalar_one()
        recorded = await record_disruption(
            c.db,
            DisruptionRequest(flights=(FlightKey(flight.carrier, flight.number, day),), kind=DisruptionKind.CANCELLED),
            clock=c.clock,
        )
        await c.jobs.disruption_recorded(recorded.disruption_id)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            async with c.db.reading() as s:
                total = await s.scalar(select(func.count()).select_from(Conversation))
                pending = await s.scalar(
                    select(func.count()).select_from(Conversation).where(Conversation.status == "pending")
                )
                queued = await s.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"]))
                )
            if total and not pending and not queued:
                break
            await asyncio.sleep(0.2)
        assert total and total > 1
        assert pending == 0 and queued == 0
        async with c.db.reading() as s:
            offers = await s.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.key == "offer", OutboxMessage.status == "sent")
            )
        assert c.sandbox is not None
        firsts = {m.to for m in c.sandbox.messages}
        assert offers == len(firsts)
        assert len(c.sandbox.messages) == len({(m.channel, m.idempotency_key) for m in c.sandbox.messages})
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await c.aclose()
        crypto.configure(ring)
