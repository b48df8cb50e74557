"""Lanes: a paced provider never holds up another, answers go first, a conversation's messages arrive in
order, and a passenger is answered from the number they wrote to. Pacing runs on a clock the test moves,
one provider second at a time; each tick lets the dispatcher send what the buckets allow then."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import insert, select

from consent.models import ConsentState
from conversations.broadcasts.broadcaster import Broadcaster, broadcast_counts
from conversations.broadcasts.ports import BroadcastRequested
from conversations.models import OutboxMessage, Priority
from conversations.outbox.dispatcher import Dispatcher, sticky_sender
from conversations.outbox.pacing import LocalBuckets, Pacer
from conversations.outbox.ports import ChannelPace, Limit
from conversations.ports import RateLimited
from gateway.settings import TwilioSettings
from infra import crypto
from rebooking_core.models import Booking, ContactPoint, Passenger, Segment
from tests.conversations.conftest import Pax, Rig

NUMBER_A, NUMBER_B = "+15550000001", "+15550000002"


class Ticks:
    """Provider time: moves only when the test says; a send never waits (nothing is claimed without a token)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        raise AssertionError(f"a send waited {seconds:.3f} s for a token: the lane claimed more than its bucket had")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"twilio": TwilioSettings(from_number=NUMBER_A, from_numbers=NUMBER_B)}


def _paced(rig: Rig, ticks: Ticks, *, sms: float = 1.0, whatsapp: float = 80.0, reserve: float = 0.0) -> Dispatcher:
    d = rig.c.dispatcher
    sms_pace = ChannelPace(per_sender=Limit(sms, max(sms, 1.0 + reserve)), reserve=reserve)
    paces = {"sms": sms_pace, "whatsapp": ChannelPace(per_sender=Limit(whatsapp, whatsapp))}
    d.pacer = Pacer(paces, LocalBuckets(clock=ticks), sleep=ticks.sleep)
    d.config = dataclasses.replace(d.config, lane_horizon_s=0.0)
    return d


async def _tick(d: Dispatcher) -> int:
    """Everything the lanes can send at this instant: passes until one claims nothing."""
    total = 0
    while claimed := await d.pump(everywhere=True):
        await d.settle()
        total += len(claimed)
    await d.settle()
    return total


async def _crowd(rig: Rig, channels: list[str]) -> dict[str, str]:
    """One-person bookings on the disrupted flight, reachable on one channel each: phone -> channel."""
    ring = crypto.keyring()
    now = rig.clock()
    async with rig.c.db.transaction() as s:
        bookings = list(
            (await s.scalars(insert(Booking).returning(Booking.id), [{"locator": f"L{i:05d}", "created_at": now} for i in range(len(channels))])).all()
        )
        people = list(
            (
                await s.scalars(
                    insert(Passenger).returning(Passenger.id),
                    [{"booking_id": b, "given_name": "P", "family_name": "Q", "language": "en", "is_contact": True} for b in bookings],
                )
            ).all()
        )
        await s.execute(insert(Segment), [{"booking_id": b, "flight_id": rig.disrupted.id, "cabin": "Y", "seq": 1, "status": "HK"} for b in bookings])
        phones = {f"+4917{i:07d}": channel for i, channel in enumerate(channels)}
        rows = list(zip(people, phones.items(), strict=True))
        await s.execute(
            insert(ContactPoint),
            [{"passenger_id": p, "channel": ch, "address": ph, "address_hash": ring.blind_index(ph), "preference": 0} for p, (ph, ch) in rows],
        )
        await s.execute(
            insert(ConsentState),
            [{"passenger_id": p, "channel": ch, "purpose": "service", "state": "granted", "updated_at": now} for p, (_, ch) in rows],
        )
    return phones


async def test_a_one_a_second_sms_backlog_holds_up_neither_whatsapp_nor_an_answer(rig: Rig) -> None:
    answered = await rig.add_pax(("sms",))
    ticks = Ticks()
    d = _paced(rig, ticks)
    await rig.offered(answered)  # their offer went out before the backlog, at second 0
    crowd = await _crowd(rig, ["sms"] * 200 + ["whatsapp"] * 50)
    sent: list[tuple[str, float]] = []
    rig.sandbox.listeners.append(lambda m: sent.append((m.to, ticks.now)) if m.idempotency_key.startswith("b") else None)
    answers: list[float] = []
    rig.sandbox.listeners.append(lambda m: answers.append(ticks.now) if m.to == answered.phone and m.idempotency_key.startswith("c") else None)
    b = Broadcaster(rig.c.db, clock=rig.clock)
    flight = f"{rig.disrupted.carrier}{rig.disrupted.number}/{rig.disrupted.service_date.isoformat()}"
    bid = await b.start(BroadcastRequested(target=flight, message="Gate B12 is closed; use gate B14.", requested_by="test"))

    for second in range(40):
        ticks.now = float(second)
        if second == 30:  # the passenger asks for help while the SMS backlog drains
            await rig.reply("sms", answered, "HELP")
        await _tick(d)

    whatsapp = [t for to, t in sent if crowd.get(to) == "whatsapp"]
    assert len(whatsapp) == 50 and max(whatsapp) == 0.0, "WhatsApp left at its own pace, not the SMS lane's"
    assert len(answers) == 1 and 30.0 <= answers[0] <= 31.0, f"the answer waited behind the backlog: {answers}"
    sms = [t for to, t in sent if crowd.get(to) == "sms"]
    per_second = {t: sms.count(t) for t in sms}
    assert max(per_second.values()) <= 2, "two numbers, one SMS a second each"
    assert len(sms) >= 2 * 38 - 1, "both SMS lanes kept their buckets busy"
    counts = await broadcast_counts(rig.c.db, bid)
    assert counts is not None and counts.sent == len(sent) and counts.pending == counts.targeted - len(sent)


async def test_with_a_reserve_an_answer_leaves_the_instant_it_is_written_while_its_lane_drains(rig: Rig) -> None:
    answered = await rig.add_pax(("sms",))
    ticks = Ticks()
    d = _paced(rig, ticks, reserve=3.0)  # the SMS default: 1 segment/s, 3 kept for answers, burst 4
    await rig.offered(answered)
    crowd = await _crowd(rig, ["sms"] * 100)
    sent: list[float] = []
    rig.sandbox.listeners.append(lambda m: sent.append(ticks.now) if crowd.get(m.to) else None)
    answers: list[float] = []
    rig.sandbox.listeners.append(
        lambda m: answers.append(ticks.now) if m.to == answered.phone and m.idempotency_key.startswith("c") else None
    )
    b = Broadcaster(rig.c.db, clock=rig.clock)
    await b.start(BroadcastRequested(target="LH100", message="Gate B12 is closed.", requested_by="test"))

    for tenth in range(300):
        ticks.now = tenth / 10
        if tenth == 205:  # between two of the lane's turns, with its backlog waiting
            await rig.reply("sms", answered, "HELP")
        await _tick(d)

    assert answers == [20.5], "the answer took a reserved token the moment it was written"
    assert sum(1 for t in sent if t < 20.5) >= 2 * 20, "meanwhile both lanes sent at their bucket's rate"
    assert max(sent.count(t) for t in sent) <= 2, "the reserve never went to the wave: one a second a number"
    assert len(sent) >= 2 * 29 - 1, "the answer cost the wave one turn, no more"


async def test_a_conversations_messages_arrive_in_order_while_others_pass_it(rig: Rig) -> None:
    slow, other = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    await rig.offered(slow, other)
    for text in ("HELP", "what?", "HELP"):
        await rig.reply("sms", slow, text)
    await rig.reply("sms", other, "HELP")
    rig.sandbox.fail_next("sms", slow.phone, RateLimited("slow down", code="20429", retry_after=30))

    await rig.c.dispatcher.drain()
    assert len(rig.inbox("sms", other)) == 2, "the other conversation was not held up"
    assert len(rig.inbox("sms", slow)) == 1, "nothing of the first conversation overtook its delayed message"
    queued = [r for r in await rig.outbox(slow) if r.status != "sent"]
    assert len(queued) >= 2 and {r.status for r in queued} == {"pending"}

    rig.clock.advance(seconds=31)
    await rig.c.dispatcher.drain()
    rows = sorted(await rig.outbox(slow), key=lambda r: r.id)
    delivered = sorted((r for r in await rig.deliveries(slow) if r.status == "sent"), key=lambda r: r.id)
    assert len(rows) == len(queued) + 1 and {r.status for r in rows} == {"sent"}
    assert [d.outbox_id for d in delivered] == [r.id for r in rows], "handed over in the order they were written"


async def test_a_passenger_is_answered_from_the_number_they_wrote_to(rig: Rig) -> None:
    wrote, silent = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    await rig.offered(wrote, silent)
    async with rig.c.db.reading() as s:
        [first_sender] = {m.sender for m in rig.inbox("sms", wrote)}
        contact = (await s.scalars(select(ContactPoint).where(ContactPoint.passenger_id == wrote.passenger_id))).one()
    assert first_sender == sticky_sender((NUMBER_A, NUMBER_B), contact), "before they write: a stable hash"
    other = NUMBER_B if first_sender == NUMBER_A else NUMBER_A

    event = dataclasses.replace(rig.sandbox.reply("sms", wrote.phone, "HELP"), recipient=other)
    await rig.c.inbound.accept([event])
    await rig.c.dispatcher.drain()
    assert rig.last("sms", wrote).sender == other, "answered from the number they wrote to"
    assert {m.sender for m in rig.inbox("sms", silent)} == {sticky_sender((NUMBER_A, NUMBER_B), await _contact(rig, silent))}


async def _contact(rig: Rig, who: Pax) -> ContactPoint:
    async with rig.c.db.reading() as s:
        return (await s.scalars(select(ContactPoint).where(ContactPoint.passenger_id == who.passenger_id))).one()


async def test_an_answer_goes_before_first_wave_notices_in_its_lane(rig: Rig) -> None:
    ticks = Ticks()
    d = _paced(rig, ticks)
    early = await rig.add_pax(("sms",))
    await rig.offered(early)
    await _crowd(rig, ["sms"] * 20)
    b = Broadcaster(rig.c.db, clock=rig.clock)
    await b.start(BroadcastRequested(target="LH100", message="Gate B12 is closed.", requested_by="test"))
    await rig.reply("sms", early, "HELP")
    async with rig.c.db.reading() as s:
        priorities = dict((await s.execute(select(OutboxMessage.key, OutboxMessage.priority))).all())
    assert priorities["help"] == Priority.ANSWER and priorities["broadcast"] == Priority.BROADCAST
    ticks.now = 1.0
    await _tick(d)
    sent = [m.idempotency_key for m in rig.inbox("sms", early)]
    assert len(sent) == 2 and sent[1].startswith("c"), "the answer took the first token of its lane"
