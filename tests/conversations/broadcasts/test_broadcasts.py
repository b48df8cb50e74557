"""Broadcasts: consent decides who is messaged, languages are each passenger's own, providers are paced."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict

from sqlalchemy import insert

from channels.sandbox import SandboxMessage
from consent.models import ConsentState
from conversations.broadcasts.broadcaster import Broadcaster, broadcast_counts
from conversations.broadcasts.ports import BroadcastRequested
from conversations.models import Conversation
from conversations.outbox.pacing import LocalBuckets, Pacer
from conversations.outbox.ports import ChannelPace, Limit
from infra import crypto
from rebooking_core.models import Booking, ContactPoint, Passenger, Segment
from tests.conversations.conftest import Rig
from tests.e2e.desk.conftest import Desk
from tests.gateway.observability.admin_client import admin_get

LANGS = ("en", "es", "de", "fr", "ar")
RATES = {"whatsapp": 80.0, "sms": 1.0}


class VirtualTime:
    """Pacing is checked in virtual seconds: sleeping advances the clock, nothing waits for real."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


async def _passengers(desk: Desk, n: int) -> dict[str, dict[str, object]]:
    """`n` one-person bookings on the disrupted flight; consent and channels vary, so do languages."""
    rig = desk.rig
    ring = crypto.keyring()
    now = rig.clock()
    people: dict[str, dict[str, object]] = {}
    async with rig.c.db.transaction() as s:
        ids = list((await s.scalars(insert(Booking).returning(Booking.id), [{"locator": f"B{i:05d}", "created_at": now} for i in range(n)])).all())
        pids = list(
            (
                await s.scalars(
                    insert(Passenger).returning(Passenger.id),
                    [{"booking_id": b, "given_name": "P", "family_name": "Q", "language": LANGS[i % 5], "is_contact": True} for i, b in enumerate(ids)],
                )
            ).all()
        )
        await s.execute(insert(Segment), [{"booking_id": b, "flight_id": rig.disrupted.id, "cabin": "Y", "seq": 1, "status": "HK"} for b in ids])
        contacts, consents = [], []
        for i, pid in enumerate(pids):
            phone = f"+4915{i:07d}"
            channels = ("whatsapp", "sms") if i % 2 == 0 else ("sms",)
            # i % 4 == 1: no consent anywhere; i % 4 == 3: only SMS withdrawn, WhatsApp missing too
            granted = {c: (i % 4 not in (1, 3)) for c in channels}
            if i % 8 == 2:
                granted["whatsapp"] = False  # falls back to SMS
            for pref, channel in enumerate(channels):
                contacts.append({"passenger_id": pid, "channel": channel, "address": phone, "address_hash": ring.blind_index(phone), "preference": pref})
                consents.append({"passenger_id": pid, "channel": channel, "purpose": "service", "state": "granted" if granted[channel] else "withdrawn", "updated_at": now})
            people[phone] = {"pid": pid, "lang": LANGS[i % 5], "granted": {c for c, g in granted.items() if g}}
        await s.execute(insert(ContactPoint), contacts)
        await s.execute(insert(ConsentState), consents)
    return people


async def _send(rig: Rig, b: Broadcaster) -> None:
    """What the worker does: the dispatcher sends the broadcast's outbox rows, the broadcaster follows them."""
    await rig.c.dispatcher.drain()
    await b.follow()


async def _open_whatsapp_window(desk: Desk, pids: list[int]) -> None:
    """These passengers wrote on WhatsApp an hour ago (their conversation knows the 24 h window)."""
    rig = desk.rig
    await rig.disrupt()
    until = (rig.clock() + dt.timedelta(hours=23)).isoformat()
    async with rig.c.db.transaction() as s:
        from sqlalchemy import update

        await s.execute(update(Conversation).where(Conversation.passenger_id.in_(pids)).values(window_open_until={"whatsapp": until}))


async def test_a_thousand_passenger_flight(desk: Desk) -> None:
    rig = desk.rig
    people = await _passengers(desk, 1000)
    window_pids = [int(p["pid"]) for p in list(people.values())[:100]]  # type: ignore[call-overload]
    await _open_whatsapp_window(desk, window_pids)
    sent_at: dict[str, list[float]] = defaultdict(list)
    vt = VirtualTime()
    rig.sandbox.listeners.append(lambda m: sent_at[m.channel].append(vt.now))
    paces = {name: ChannelPace(per_sender=Limit(rate, 1.0)) for name, rate in RATES.items()}
    rig.c.dispatcher.pacer = Pacer(paces, LocalBuckets(clock=vt.monotonic), sleep=vt.sleep)
    rig.c.dispatcher.sleep = vt.sleep
    b = Broadcaster(rig.c.db, clock=rig.clock)
    flight = f"{rig.disrupted.carrier}{rig.disrupted.number}/{rig.disrupted.service_date.isoformat()}"
    bid = await b.start(BroadcastRequested(target=flight, message="Gate B12 is closed; use gate B14.", requested_by="test"))
    await _send(rig, b)

    counts = await broadcast_counts(rig.c.db, bid)
    assert counts is not None and counts.finished
    assert counts.targeted == 1000
    assert counts.sent + counts.skipped_consent + counts.failed == counts.targeted
    messages: dict[str, list[SandboxMessage]] = defaultdict(list)
    for m in rig.sandbox.messages:
        messages[m.to].append(m)
    skipped = [phone for phone, p in people.items() if not p["granted"]]
    assert counts.skipped_consent == len(skipped) and all(phone not in messages for phone in skipped)
    assert counts.sent == sum(1 for p in people.values() if p["granted"]) and counts.failed == 0
    for phone, p in people.items():
        for m in messages.get(phone, []):
            assert m.channel in p["granted"]  # type: ignore[operator]
        assert len(messages.get(phone, [])) == (1 if p["granted"] else 0)
    # Free text: as written inside the WhatsApp window, otherwise inside the template.
    wa = [m for m in rig.sandbox.messages if m.channel == "whatsapp"]
    inside = {m.to for m in wa if m.kind == "text"}
    assert inside and all(m.text == "Gate B12 is closed; use gate B14." for m in wa if m.kind == "text")
    assert {m.kind for m in wa} == {"text", "template"}
    # Provider pacing: consecutive sends on one provider are never closer than 1/rate (virtual seconds).
    for channel, times in sent_at.items():
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 1 / RATES[channel] - 1e-9, channel


async def test_a_catalog_key_is_rendered_in_each_passengers_language(desk: Desk) -> None:
    rig = desk.rig
    people = await _passengers(desk, 10)
    await _open_whatsapp_window(desk, [int(str(p["pid"])) for p in people.values()])
    b = Broadcaster(rig.c.db, clock=rig.clock)
    bid = await b.start(BroadcastRequested(target="FRA", message="broadcast.weather", requested_by="test"))
    await _send(rig, b)
    by_lang = {people[m.to]["lang"]: m.text for m in rig.sandbox.messages if m.to in people and m.kind == "text"}
    assert "Severe weather at Frankfurt" in by_lang["en"] and "LH100" in by_lang["en"]
    assert "Unwetter" in by_lang["de"]
    counts = await broadcast_counts(rig.c.db, bid)
    assert counts is not None and counts.targeted == 10


async def test_http_api_and_slack_command(desk: Desk) -> None:
    rig = desk.rig
    await _passengers(desk, 20)
    headers = {"Authorization": f"Bearer {rig.c.settings.api_keys[0]}"}
    r = await desk.http.post("/v1/broadcasts", json={"target": "LH100", "message": "Hello from ops", "idempotency_key": "k1"}, headers=headers)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["targeted"] == 20 and body["sent"] == 0
    again = await desk.http.post("/v1/broadcasts", json={"target": "LH100", "message": "Hello from ops", "idempotency_key": "k1"}, headers=headers)
    assert again.json()["id"] == body["id"]
    assert (await desk.http.post("/v1/broadcasts", json={"target": "nowhere!", "message": "x"}, headers=headers)).status_code == 422
    assert (await desk.http.get(f"/v1/broadcasts/{body['id']}")).status_code == 401
    parts = rig.c.desk
    assert parts is not None
    await _send(rig, parts.broadcaster)
    got = (await desk.http.get(f"/v1/broadcasts/{body['id']}", headers=headers)).json()
    assert got["finished"] and got["sent"] + got["skipped_consent"] + got["failed"] == 20

    r = await desk.command("broadcast FRA broadcast.check_status", channel="COPS")
    assert r.status_code == 200
    await desk.settle()
    await _send(rig, parts.broadcaster)
    progress = [c.body for c in desk.fake.calls if c.body.get("channel") == "COPS"]
    assert progress and "to FRA" in progress[0]["text"]
    assert "(done)" in progress[-1]["text"] and "20/20 handled" in progress[-1]["text"]
    metrics = (await admin_get(desk.rig.c)).text
    assert "rebook_agent_time_to_claim_seconds" in metrics
