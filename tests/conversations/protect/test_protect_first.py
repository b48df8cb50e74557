"""Protect first at scale: 1,000 passengers, half never answer — all protected, none escalated, the choosers moved, no oversell."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, update

from conversations.engine import Status
from conversations.intake.fanout import FanOut
from conversations.models import Conversation, Escalation, OutboxMessage
from conversations.timers import fire_due_timers
from rebooking_core.models import Inventory, OfferOption, Segment
from rebooking_core.offers import expire_offers
from tests.conversations.conftest import Pax, Rig

PASSENGERS = 1000
#: Seats on LH102, LH104 and LH106: each protection leaves room for the others' options (extras are held above
#: what later bookings still need), and the choosers all want LH104 at once.
CAPACITY = {0: 1000, 1: 1000, 2: 400}
#: Choices sent at once: on PostgreSQL they race for the same counter rows.
AT_ONCE = 20


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"first_contact": "protect", "batch_size": 100}


async def _crowd(rig: Rig) -> list[Pax]:
    async with rig.c.db.transaction() as s:
        await s.execute(
            update(Inventory)
            .where(Inventory.flight_id == rig.disrupted.id)
            .values(capacity=PASSENGERS)
        )
        for n, flight in enumerate(rig.alternatives):
            await s.execute(
                update(Inventory)
                .where(Inventory.flight_id == flight.id)
                .values(capacity=CAPACITY[n])
            )
    return [await rig.add_pax((_channel(n),)) for n in range(PASSENGERS)]


def _channel(n: int) -> str:
    """Every other pair on WhatsApp: the answering half (even numbers) is on both channels."""
    return "sms" if n % 4 < 2 else "whatsapp"


async def _fan_out(rig: Rig) -> int:
    await rig.disrupt()
    async with rig.c.db.reading() as s:
        disruption_id = int((await s.scalars(select(Conversation.disruption_id))).first() or 0)
    fan, batches = FanOut(rig.c.service, batch_size=100), 0
    while (await fan.offer_next(disruption_id)).more:
        batches += 1
    return batches


async def _by_status(rig: Rig) -> dict[str, int]:
    async with rig.c.db.reading() as s:
        rows = await s.execute(
            select(Conversation.status, func.count()).group_by(Conversation.status)
        )
        return {str(st): int(n) for st, n in rows}


async def _no_oversell(rig: Rig) -> None:
    inventory = await rig.inventory()
    async with rig.c.db.reading() as s:
        capacity = dict((await s.execute(select(Inventory.flight_id, Inventory.capacity))).all())
        booked = dict(
            (
                await s.execute(
                    select(Segment.flight_id, func.count())
                    .where(Segment.status == "HK")
                    .group_by(Segment.flight_id)
                )
            ).all()
        )
    for flight_id, (sold, held) in inventory.items():
        assert sold + held <= capacity[flight_id], flight_id
        assert sold == booked.get(flight_id, 0), (
            f"flight {flight_id}: counters and bookings disagree"
        )


async def test_a_thousand_protected_half_silent_none_escalated_choosers_moved(rig: Rig) -> None:
    people = await _crowd(rig)
    assert await _fan_out(rig) >= PASSENGERS // 100 - 1

    assert await _by_status(rig) == {Status.BOOKED.value: PASSENGERS}, "everyone protected at once"
    assert (
        sum(sold for f, (sold, _) in (await rig.inventory()).items() if f != rig.disrupted.id)
        == PASSENGERS
    )
    assert all(held == 0 for _, held in (await rig.inventory()).values()), (
        "the other options' holds went at booking"
    )
    await _no_oversell(rig)
    async with rig.c.db.reading() as s:
        kinds = dict(
            (
                await s.execute(select(OutboxMessage.key, func.count()).group_by(OutboxMessage.key))
            ).all()
        )
        timers = await s.scalar(
            select(func.count()).select_from(Conversation).where(Conversation.timer_at.is_not(None))
        )
    assert kinds == {"protected": PASSENGERS} and timers == 0

    # Half choose again on their channel (the other options' numbers as the message showed them).
    wanted: dict[int, int] = {}
    answers = []
    for n, who in enumerate(people):
        others = (await rig.options(who))[1:]
        if n % 2 == 0 and others:
            answers.append(rig.reply(_channel(n), who, str(others[0].rank)))
            wanted[who.booking_id] = others[0].id
    for first in range(0, len(answers), AT_ONCE):
        await asyncio.gather(*answers[first : first + AT_ONCE])
    assert len(wanted) == PASSENGERS // 2, "every protection came with other options"

    # The deadlines pass, timers are swept, fresh offers expire: nobody is escalated for silence.
    rig.clock.advance(hours=2)
    await fire_due_timers(rig.c.db, rig.c.service, clock=rig.clock)
    async with rig.c.db.transaction() as s:
        await expire_offers(s, now=rig.clock(), limit=10_000)

    assert set(await _by_status(rig)) == {Status.BOOKED.value}
    assert await rig.count(Escalation) == 0
    await _no_oversell(rig)
    assert all(held == 0 for _, held in (await rig.inventory()).values())
    async with rig.c.db.reading() as s:
        final = dict(
            (await s.execute(select(Conversation.booking_id, Conversation.booked_option_id))).all()
        )
        told = dict(
            (
                await s.execute(
                    select(Conversation.booking_id, func.count())
                    .join(OutboxMessage, OutboxMessage.conversation_id == Conversation.id)
                    .where(OutboxMessage.key == "offer_seat_gone")
                    .group_by(Conversation.booking_id)
                )
            ).all()
        )
        flights_of = dict((await s.execute(select(OfferOption.id, OfferOption.flight_ids))).all())
    assert [b for b, option in wanted.items() if final[b] != option] == [], (
        "every chooser got the seat chosen"
    )
    assert told == {}
    for who in people[1::2]:  # the silent half keep their protection
        assert (await rig.segments(who))[-1][1] == "HK"
    for booking_id in wanted:
        segments = [(f, st) for f, st in await _segments(rig, booking_id) if st == "HK"]
        assert [f for f, _ in segments] == list(flights_of[final[booking_id]])


async def _segments(rig: Rig, booking_id: int) -> list[tuple[int, str]]:
    async with rig.c.db.reading() as s:
        rows = await s.execute(
            select(Segment.flight_id, Segment.status)
            .where(Segment.booking_id == booking_id)
            .order_by(Segment.id)
        )
        return [(int(f), str(st)) for f, st in rows]
