"""An agent's rebook against a remote PSS: accepted at once, booked and told only once the PSS confirmed.

Before, the desk took a conversation left in CONFIRMING for a failed booking and answered the agent
409 "the option could not be booked" while the change was on its way to the PSS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from conversations.desk.models import AgentDecision
from conversations.engine import Status
from rebooking_core.airline.ports import FlightKey
from rebooking_core.models import Booking, Flight
from tests.e2e.desk.conftest import Desk, escalate
from tests.fakes.pss import TOKEN, FakePss
from tests.fakes.server import LocalServer

ALICE = {"Authorization": "Bearer k-agent", "Rebook-Agent": "alice"}


@pytest.fixture
def pss() -> FakePss:
    return FakePss()


@pytest.fixture
def pss_url(pss: FakePss) -> Iterator[str]:
    with LocalServer(pss.app) as srv:
        yield srv.url
    assert pss.violations == []


@pytest.fixture
def settings_overrides(settings_overrides: dict[str, Any], pss_url: str) -> dict[str, Any]:
    """The desk tests' Slack, an agent key, and the PSS behind the REST contract."""
    return {
        **settings_overrides,
        "ops_api_keys": "k-agent:agents",
        "pss": {"adapter": "http", "base_url": pss_url, "token": TOKEN},
    }


def _key(f: Flight) -> FlightKey:
    return FlightKey(f.carrier, f.number, f.service_date)


async def test_an_agents_rebook_waits_for_the_pss_and_the_passenger_is_told_once(
    desk: Desk, pss: FakePss
) -> None:
    rig = desk.rig
    for f in [rig.disrupted, *rig.alternatives]:
        pss.add_flight(_key(f), {"Y": 100})
    a = await rig.add_pax(("sms",))
    pss.add_pnr(a.locator, [(_key(rig.disrupted), "Y")], version=1)
    async with rig.c.db.transaction() as s:
        booking = await s.get(Booking, a.booking_id)
        assert booking is not None
        booking.version = 1
    await escalate(desk, a, channel="sms")
    [esc] = await rig.escalations(a)
    claimed = await desk.http.post(f"/v1/escalations/{esc.id}/claim", headers=ALICE)
    assert claimed.status_code == 200, claimed.text
    option = (await rig.options(a))[1]

    booked = await desk.http.post(
        f"/v1/escalations/{esc.id}/book", headers=ALICE, json={"option_id": option.id}
    )

    assert booked.status_code == 200, booked.text
    assert (await rig.conversation(a)).status == Status.CONFIRMING
    async with rig.c.db.reading() as s:
        kinds = list(
            (
                await s.scalars(
                    select(AgentDecision.kind).where(
                        AgentDecision.conversation_id == esc.conversation_id
                    )
                )
            ).all()
        )
    assert kinds == ["rebook"]
    await rig.c.dispatcher.drain()
    assert "booked" not in [m.key for m in await rig.outbox(a)]
    assert pss.applied == []

    assert rig.c.pnr_changes is not None
    await rig.c.pnr_changes.drain()
    await rig.c.dispatcher.drain()

    assert len(pss.applied) == 1
    conv = await rig.conversation(a)
    assert conv.status == Status.BOOKED and conv.booked_option_id == option.id
    assert [m.key for m in await rig.outbox(a)].count("booked") == 1
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (option.flight_ids[0], "HK")]
