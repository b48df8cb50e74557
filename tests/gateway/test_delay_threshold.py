"""REBOOK_DELAY_THRESHOLD_MINUTES reaches a disruption's first assessment, not only the story's later updates."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from conversations.models import Conversation
from tests.gateway.conftest import World, running
from tests.gateway.http.pages import every


@pytest.mark.parametrize(("threshold", "offered"), [(180, False), (60, True)])
async def test_a_90_minute_delay_offers_rebooking_only_under_the_threshold(
    db_url: str, world: World, threshold: float, offered: bool
) -> None:
    async with running(db_url, world, delay_threshold_minutes=threshold) as g:
        carrier, number, date = world.target
        flights = await every(g.client, "/v1/flights", date=date.isoformat())
        dep = dt.datetime.fromisoformat(next(f for f in flights if f["number"] == number)["departure"])
        answer = await g.disrupt(world.target, kind="delayed", new_departure=(dep + dt.timedelta(minutes=90)).isoformat())
        assert answer.status_code == 202, answer.text
        await g.settle()
        async with g.container.db.reading() as s:
            conversations = int(await s.scalar(select(func.count()).select_from(Conversation)) or 0)
    assert conversations == (world.bookings_on(world.target) if offered else 0)
