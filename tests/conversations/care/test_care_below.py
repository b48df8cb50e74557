"""Care below the delay threshold (#21.3): a delay too short for a conversation still earns a meal, once, told outside any conversation."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from conversations.care_below import sweep_care_below
from conversations.care_sweep import Swept, sweep_care
from conversations.engine import MessageKind
from conversations.intake.story import apply_update
from conversations.models import Conversation, OutboxMessage
from rebooking_core.care.hotels import TableHotels
from rebooking_core.care.models import CareVoucher
from rebooking_core.care.policy import CarePolicy
from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind
from rebooking_core.models import Claim, Flight, Inventory
from tests.conversations.conftest import Clock, Rig

H = dt.timedelta(hours=1)
#: Long enough that the rig's flight, six hours out, is within the issuing window.
POLICY = CarePolicy(lead=7 * H)
_ids = itertools.count(1)


@pytest.fixture
def clock() -> Clock:
    """04:00 UTC today: the rig's flight leaves Frankfurt at 11:00 local, so no delay here runs overnight (no hotel)."""
    c = Clock()
    c.now = c.now.replace(hour=4, minute=0, second=0)
    return c


async def _delay(rig: Rig, new_departure: dt.datetime, flight: Flight | None = None) -> None:
    """What a feed does: the flight's delay applied to its story, the fan-out run for any booking it now reaches."""
    f = flight or rig.disrupted
    update = FlightUpdate(
        source="test",
        message_id=f"below-{next(_ids)}",
        flight=FlightRef(f.carrier, f.number, f.service_date),
        kind=UpdateKind.DELAY,
        issued_at=rig.clock(),
        new_departure=new_departure,
    )
    applied = await apply_update(rig.c.service, update)
    if applied.needs_fanout and applied.disruption_id is not None:
        await rig.c.jobs.disruption_recorded(applied.disruption_id)
        await rig.c.jobs.wait_idle()


async def _sweep_below(rig: Rig) -> Swept:
    """Every page of the sweep, two segments a page, each in its own transaction like the worker."""
    now = rig.clock()
    total = Swept()
    after: int | None = 0
    while after is not None:
        async with rig.c.db.transaction() as s:
            swept, after = await sweep_care_below(
                s,
                now=now,
                policy=POLICY,
                hotels=lambda s: TableHotels(s, (), now=now),
                carriers=rig.c.service.config.carriers,
                after=after,
                limit=2,
            )
        total.passengers += swept.passengers
        total.vouchers += swept.vouchers
        total.messages += swept.messages
    return total


async def _sweep_conversations(rig: Rig) -> Swept:
    now = rig.clock()
    total = Swept()
    after: int | None = 0
    while after is not None:
        async with rig.c.db.transaction() as s:
            swept, after = await sweep_care(
                s, now=now, policy=POLICY, hotels=lambda s: TableHotels(s, (), now=now), after=after
            )
        total.vouchers += swept.vouchers
        total.messages += swept.messages
    return total


async def _vouchers(rig: Rig) -> list[CareVoucher]:
    async with rig.c.db.reading() as s:
        return list(await s.scalars(select(CareVoucher).order_by(CareVoucher.id)))


async def _care_rows(rig: Rig) -> list[OutboxMessage]:
    async with rig.c.db.reading() as s:
        query = select(OutboxMessage).where(OutboxMessage.key == MessageKind.CARE_VOUCHER.value)
        return list(await s.scalars(query.order_by(OutboxMessage.id)))


async def test_a_2h30_delay_below_the_threshold_gives_each_passenger_a_meal_once_even_swept_twice_at_once(
    rig: Rig,
) -> None:
    family = await rig.add_pax(("sms",), pax=3)
    alone = await rig.add_pax(("sms",))
    await _delay(rig, rig.disrupted.dep_utc + 2.5 * H)
    assert await rig.count(Conversation) == 0  # below REBOOK_DELAY_THRESHOLD_MINUTES (180)
    first, second = await asyncio.gather(_sweep_below(rig), _sweep_below(rig))
    assert (first.vouchers + second.vouchers, first.messages + second.messages) == (4, 2)
    again = await _sweep_below(rig)
    assert (again.vouchers, again.messages) == (0, 0)
    vouchers = await _vouchers(rig)
    # FRA-MAD is 1,418 km: EU261 Art. 6(1)(a), a meal once the delay reaches 2 h
    assert [(v.kind, v.threshold, v.regime, v.amount, v.currency) for v in vouchers] == [
        ("meal", "2h", "eu261", 15, "EUR")
    ] * 4
    assert all(v.valid_until == rig.disrupted.dep_utc + 2.5 * H for v in vouchers)
    assert sorted(v.booking_id for v in vouchers) == sorted([family.booking_id] * 3 + [alone.booking_id])
    rows = await _care_rows(rig)
    assert len(rows) == 2 and all(r.conversation_id is None and r.passenger_id is not None for r in rows)

    await rig.c.dispatcher.drain()
    for who in (family, alone):
        [message] = [m for m in rig.inbox("sms", who) if "voucher" in m.text]
        assert all(v.code in message.text for v in vouchers if v.booking_id == who.booking_id)
        assert "€15" in message.text and "LH100" in message.text
    assert sum(v.code in m.text for m in rig.sandbox.messages for v in vouchers) == 4


async def test_a_1h30_delay_gives_no_voucher(rig: Rig) -> None:
    await rig.add_pax(("sms",), pax=2)
    await _delay(rig, rig.disrupted.dep_utc + 1.5 * H)
    swept = await _sweep_below(rig)
    assert (swept.passengers, swept.vouchers, swept.messages) == (2, 0, 0)
    assert await _vouchers(rig) == [] and await _care_rows(rig) == []


async def test_no_voucher_out_of_scope(rig: Rig) -> None:
    async with rig.c.db.transaction() as s:
        # JFK-LAX on an EU carrier: a flight neither from nor to the EU (nor UK, nor Canada)
        far = Flight(
            carrier="ZZ",
            number="9",
            service_date=rig.disrupted.service_date,
            origin="JFK",
            destination="LAX",
            dep_utc=rig.disrupted.dep_utc,
            arr_utc=rig.disrupted.dep_utc + 5 * H,
        )
        s.add(far)
        await s.flush()
        s.add(Inventory(flight_id=far.id, cabin="Y", capacity=50, sold=0, held=0))
    rig.disrupted = far
    await rig.add_pax(("sms",))
    await _delay(rig, far.dep_utc + 2.5 * H, far)
    swept = await _sweep_below(rig)
    assert (swept.passengers, swept.vouchers) == (1, 0)
    assert await _vouchers(rig) == []


async def test_a_delay_that_grows_past_the_threshold_does_not_issue_the_same_meal_again(rig: Rig) -> None:
    who = await rig.add_pax(("sms",), pax=2)
    await _delay(rig, rig.disrupted.dep_utc + 2.5 * H)
    assert (await _sweep_below(rig)).vouchers == 2
    rig.clock.advance(minutes=5)
    await _delay(rig, rig.disrupted.dep_utc + 4 * H)
    conv = await rig.conversation(who)  # the grown delay reached the booking: it has a conversation now
    assert conv.disruption_id == (await _vouchers(rig))[0].disruption_id
    assert (await _sweep_below(rig)).passengers == 0  # the booking is the conversation sweep's now
    async with rig.c.db.reading() as s:
        regimes = list(await s.scalars(select(Claim.regime).where(Claim.booking_id == who.booking_id)))
    assert regimes == ["eu261", "eu261"]  # the conversation sweep does look at both passengers
    later = await _sweep_conversations(rig)
    assert (later.vouchers, later.messages) == (0, 0)
    vouchers = await _vouchers(rig)
    assert [(v.kind, v.threshold) for v in vouchers] == [("meal", "2h")] * 2
    assert [r.conversation_id for r in await _care_rows(rig)] == [None]
