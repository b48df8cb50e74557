"""An ops broadcast outside the 24 h window reaches WhatsApp as the broadcast template, not the notice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels.whatsapp import WhatsAppChannel
from conversations.broadcasts.broadcaster import Broadcaster, BroadcastNotices, broadcast_counts
from conversations.broadcasts.ports import BroadcastRequested
from conversations.outbox.dispatcher import Dispatcher
from conversations.outbox.pacing import Pacer
from conversations.outbox.rendering import Branding
from tests.conversations.broadcasts.test_broadcasts import _passengers
from tests.e2e.desk.conftest import Desk
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer

TEXT = "Gate B12 is closed;\nuse gate B14."


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraphAPI, str]]:
    fake = FakeGraphAPI()
    with LocalServer(fake.app()) as srv:
        yield fake, srv.url


async def test_free_text_outside_the_window_goes_out_as_the_broadcast_template(
    desk: Desk, graph: tuple[FakeGraphAPI, str]
) -> None:
    rig = desk.rig
    fake, url = graph
    people = await _passengers(desk, 5)
    whatsapp = WhatsAppChannel(phone_number_id=fake.phone_number_id, token=fake.token, api_base=url)
    channels = {**rig.c.channels, "whatsapp": whatsapp}
    dispatcher = Dispatcher(
        rig.c.db,
        channels=channels,
        renderer=rig.c.dispatcher.renderer,
        notices=BroadcastNotices(Branding(airline="Rebook Air")),
        service=rig.c.service,
        clock=rig.clock,
        pacer=Pacer({}),
    )
    b = Broadcaster(rig.c.db, clock=rig.clock)
    try:
        flight = f"{rig.disrupted.carrier}{rig.disrupted.number}/{rig.disrupted.service_date.isoformat()}"
        bid = await b.start(BroadcastRequested(target=flight, message=TEXT, requested_by="test"))
        await dispatcher.drain()
        await b.follow()
    finally:
        await whatsapp.aclose()

    counts = await broadcast_counts(rig.c.db, bid)
    assert counts is not None and counts.finished and counts.failed == 0
    on_whatsapp = {p for p, v in people.items() if "whatsapp" in v["granted"]}  # type: ignore[operator]
    assert on_whatsapp and {"+" + body["to"] for body in fake.bodies} == on_whatsapp
    languages = {"en": "en_US", "es": "es", "de": "de", "fr": "fr", "ar": "ar"}
    for body in fake.bodies:
        assert body["type"] == "template"
        template = body["template"]
        assert template["name"] == "rebook_broadcast_notice"
        assert template["language"] == {"code": languages[str(people["+" + body["to"]]["lang"])]}
        [component] = template["components"]
        assert [p["text"] for p in component["parameters"]] == ["Rebook Air", "Gate B12 is closed; use gate B14."]
