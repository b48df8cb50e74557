"""Closing the app waits for the in-process jobs it kicked: a disruption posted just before shutdown is still
assessed, and no job is left holding a database connection past the engine's dispose."""

from __future__ import annotations

from sqlalchemy import select

from rebooking_core.models import Disruption
from tests.gateway.conftest import World, running
from tests.gateway.http.test_idempotency import cancel


async def test_a_job_still_running_at_close_finishes_before_the_engine_is_disposed(db_url: str, world: World) -> None:
    async with running(db_url, world) as g:
        posted = await g.client.post("/v1/disruptions", json=cancel(world.target))
        assert posted.status_code == 202, posted.text
        broker = g.container.jobs.broker
        in_flight = set(getattr(broker, "_running_tasks", ()))
        assert in_flight, "the assessment runs after the answer, in this process"
        engine = g.container.db.engine
    assert all(task.done() and not task.cancelled() for task in in_flight)
    assert engine.pool.checkedout() == 0
    async with running(db_url, world, load=False) as again, again.container.db.reading() as s:
        status = await s.scalar(select(Disruption.status).where(Disruption.id == posted.json()["id"]))
    assert status not in (None, "received"), "assessed before close, not dropped"
