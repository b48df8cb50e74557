"""Every outbound event type from real flows, verified by an independent receiver (`standardwebhooks`) on 127.0.0.1:
a cancellation and a delay through the ops API, offers, a reply that books, a booking changed elsewhere that fails,
a hand-over taken in Slack with a voucher and a refund, a refund asked on the passenger page, STOP, erasure, and
the disruption settling — each in the order its conversation lived it. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from conversations.page import links
from gateway.settings import DEV_OPS_KEY
from gateway.worker.process import Worker
from infra.event_log import EventType
from rebooking_core.models import Segment
from tests.e2e.desk.conftest import Desk
from tests.fakes.server import LocalServer
from tests.fakes.webhook_receiver import WebhookReceiver

OPS = {"Authorization": f"Bearer {DEV_OPS_KEY}"}
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[WebhookReceiver, str]]:
    fake = WebhookReceiver()
    with LocalServer(fake.app()) as srv:
        yield fake, srv.url


async def test_every_event_type_from_real_flows_arrives_verified_and_in_order(desk: Desk, endpoint: tuple[WebhookReceiver, str]) -> None:
    rig, http = desk.rig, desk.http
    fake, base = endpoint
    name = f"all-{rig.c.db.engine.dialect.name}"
    everything = [e.value for e in EventType]
    r = await http.post("/v1/webhooks", json={"url": f"{base}/hooks/{name}", "events": everything, "pii": True}, headers=OPS)
    assert r.status_code == 201, r.text
    fake.secrets[name] = r.json()["secret"]
    deliverer = rig.c.outbound
    assert deliverer is not None

    booked = await rig.add_pax(("whatsapp",))
    failing = await rig.add_pax(("whatsapp",))
    helped = await rig.add_pax(("whatsapp",))
    refunding = await rig.add_pax(("whatsapp",))
    await rig.offered(booked, failing, helped, refunding)
    flight = rig.disrupted

    # The ops API moves the live disruption on: a cancelled flight now leaves late instead.
    later = (flight.dep_utc + dt.timedelta(hours=5)).isoformat()
    body = {"flight": {"carrier": flight.carrier, "number": flight.number, "date": flight.service_date.isoformat()}, "kind": "delayed", "new_departure": later}
    assert (await http.post("/v1/disruptions", json=body, headers=OPS)).status_code == 202
    await rig.c.dispatcher.drain()

    # A reply books; a booking changed elsewhere (the PSS cancelled the segment) fails and its conversation closes.
    await rig.reply("whatsapp", booked, "1")
    async with rig.c.db.transaction() as s:
        await s.execute(update(Segment).where(Segment.booking_id == failing.booking_id).values(status="HX"))
    await rig.reply("whatsapp", failing, "1")

    # A hand-over taken in Slack: a voucher, a refund, back to the bot (closed, refunded).
    await rig.reply("whatsapp", helped, "agent")
    await desk.settle()
    await desk.agents.pump()
    conv = await rig.conversation(helped)
    assert (await desk.click("take_next", str(conv.disruption_id))).status_code == 200
    await desk.settle()
    [esc] = await rig.escalations(helped)
    for action in ("voucher", "refund", "release"):
        await desk.click(action, str(esc.id))
        await desk.settle()

    # Another passenger asks for a refund on the page, then sends STOP; then the booked passenger is erased.
    rconv = await rig.conversation(refunding)
    async with rig.c.db.transaction() as s:
        token = links.mint(s, booking_id=refunding.booking_id, disruption_id=rconv.disruption_id, now=rig.clock(), ttl=dt.timedelta(days=1))
    page = await http.get(f"/p/{token}")
    csrf = _CSRF.search(page.text)
    assert csrf is not None, page.text
    assert (await http.post(f"/p/{token}/refund", data={"csrf": csrf.group(1)})).status_code in (200, 303)
    await rig.reply("whatsapp", refunding, "STOP")
    assert (await http.delete(f"/v1/passengers/{booked.passenger_id}", headers=OPS)).status_code == 200

    # Every conversation is over: the worker's sweep settles the disruption; then it delivers.
    await Worker(rig.c).settle_disruptions()
    await deliverer.drain()

    got = fake.got(name)
    assert fake.rejected == [] or all(n != name for n, _ in fake.rejected)
    assert {g.type for g in got} == set(everything), {g.type for g in got}
    assert len({g.msg_id for g in got}) == len(got), "each event once"

    def of(passenger_booking: int) -> list[str]:
        return [g.type for g in got if g.data.get("booking_id") == passenger_booking and "conversation_id" in g.data]

    mine = of(booked.booking_id)
    assert mine.index("offer.sent") < mine.index("option.chosen") < mine.index("booking.confirmed")
    failed = of(failing.booking_id)
    assert failed.index("option.chosen") < failed.index("booking.failed")
    refunded = of(refunding.booking_id)
    assert refunded.index("offer.sent") < refunded.index("refund.requested")
    helped_types = of(helped.booking_id)
    assert helped_types.index("conversation.escalated") < helped_types.index("agent.decided")
    decisions = [g.data["decision"] for g in got if g.type == "agent.decided"]
    assert decisions == ["voucher", "refund", "closed_refunded"]
    created = next(g for g in got if g.type == "disruption.created")
    assert created.data["flights"] == [{"carrier": flight.carrier, "number": flight.number, "date": flight.service_date.isoformat()}]
    updated = next(g for g in got if g.type == "disruption.updated")
    assert updated.data["update"] == "delay" and updated.data["disruption_id"] == created.data["disruption_id"]
    disruption_order = [g.type for g in got if g.data.get("disruption_id") == created.data["disruption_id"] and g.type.startswith("disruption.")]
    assert disruption_order == ["disruption.created", "disruption.updated", "disruption.settled"]
    consent = [g.data for g in got if g.type == "consent.changed"]
    assert {"passenger_id": refunding.passenger_id, "channel": "whatsapp", "purpose": "service", "state": "withdrawn", "source": "keyword"} in consent
    erased = [g.data for g in got if g.type == "passenger.erased"]
    assert erased == [{"passenger_id": booked.passenger_id, "booking_id": booked.booking_id, "locator": None}], "erased: no locator"

    # The pii scope shows locators; nothing else personal ever leaves: no phone number, no name.
    offers = [g for g in got if g.type == "offer.sent"]
    assert {g.data["locator"] for g in offers if g.data["booking_id"] == failing.booking_id} == {failing.locator}
    for g in got:
        text = g.body.decode()
        assert all(p.phone not in text and p.phone[1:] not in text for p in (booked, failing, helped, refunding))
        assert "Given0" not in text and "Family" not in text
    async with rig.c.db.reading() as s:
        rows = (await s.execute(select(Segment.status).where(Segment.booking_id == booked.booking_id))).all()
    assert rows, "the booked passenger's booking record stays after erasure"
