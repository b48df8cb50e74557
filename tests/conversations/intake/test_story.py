"""A flight's updates move its one live disruption on: idempotent, ordered, validated; an equipment change moves only its overflow."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest
from sqlalchemy import func, select, update

from conversations.engine import Status
from conversations.intake.ports import DisruptionRequest, FlightKey, UnknownFlight
from conversations.intake.story import Applied, InvalidUpdate, Outcome, apply_update
from conversations.intake.workflow import record_disruption
from conversations.models import Conversation, OutboxMessage
from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind
from rebooking_core.models import (
    Disruption,
    DisruptionUpdate,
    Flight,
    Inventory,
    Passenger,
    Segment,
)
from rebooking_core.types import DisruptionKind
from tests.conversations.conftest import Pax, Rig

_ids = itertools.count(1)


def _update(rig: Rig, kind: UpdateKind, *, flight: Flight | None = None, message_id: str | None = None, **fields) -> FlightUpdate:  # type: ignore[no-untyped-def]
    f = flight or rig.disrupted
    fields.setdefault("issued_at", rig.clock())
    return FlightUpdate(
        source="test",
        message_id=message_id or f"m{next(_ids)}",
        flight=FlightRef(f.carrier, f.number, f.service_date),
        kind=kind,
        **fields,
    )


async def apply(rig: Rig, upd: FlightUpdate) -> Applied:
    """What a feed does: apply, then kick the fan-out when bookings wait for a first offer."""
    applied = await apply_update(rig.c.service, upd)
    if applied.needs_fanout and applied.disruption_id is not None:
        await rig.c.jobs.disruption_recorded(applied.disruption_id)
        await rig.c.jobs.wait_idle()
    await rig.c.dispatcher.drain()
    return applied


async def test_the_same_message_twice_changes_nothing(rig: Rig) -> None:
    who = await rig.add_pax(("sms",))
    cancel = _update(rig, UpdateKind.CANCELLATION)
    first = await apply(rig, cancel)
    assert (first.outcome, first.created) == (Outcome.APPLIED, True)
    again = await apply(rig, cancel)
    assert (again.outcome, again.disruption_id) == (Outcome.DUPLICATE, first.disruption_id)
    assert [m.key for m in await rig.outbox(who)] == ["offer"]
    assert await rig.count(Disruption) == 1


async def test_an_update_that_changes_nothing_is_a_no_op(rig: Rig) -> None:
    who = await rig.add_pax(("sms",))
    await apply(rig, _update(rig, UpdateKind.CANCELLATION))
    rig.clock.advance(minutes=1)
    second = await apply(rig, _update(rig, UpdateKind.CANCELLATION))
    assert second.outcome is Outcome.UNCHANGED
    assert [m.key for m in await rig.outbox(who)] == ["offer"]
    assert (await rig.conversation(who)).status == Status.OFFERED
    assert await rig.count(Conversation) == 1


async def test_an_update_older_than_the_last_applied_is_ignored_and_logged(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    who = await rig.add_pax(("sms",))
    t = rig.clock()
    await apply(rig, _update(rig, UpdateKind.CANCELLATION, issued_at=t))
    late = _update(rig, UpdateKind.REINSTATEMENT, issued_at=t - dt.timedelta(minutes=5))
    assert (await apply(rig, late)).outcome is Outcome.STALE
    assert "older than the last applied" in caplog.text
    assert (await rig.conversation(who)).status == Status.OFFERED
    async with rig.c.db.reading() as s:
        flight = await s.get(Flight, rig.disrupted.id)
        outcomes = list((await s.scalars(select(DisruptionUpdate.outcome).order_by(DisruptionUpdate.id))).all())
    assert flight is not None and flight.status == "cancelled"
    assert outcomes == ["applied", "stale"]


async def test_a_delay_not_after_the_schedule_or_without_a_zone_is_refused(rig: Rig) -> None:
    dep = rig.disrupted.dep_utc
    with pytest.raises(InvalidUpdate, match="after the schedule"):
        await apply_update(rig.c.service, _update(rig, UpdateKind.DELAY, new_departure=dep))
    with pytest.raises(InvalidUpdate, match="after the schedule"):
        await apply_update(rig.c.service, _update(rig, UpdateKind.DELAY, new_departure=dep - dt.timedelta(hours=1)))
    with pytest.raises(InvalidUpdate, match="time zone"):
        await apply_update(
            rig.c.service, _update(rig, UpdateKind.DELAY, new_departure=(dep + dt.timedelta(hours=4)).replace(tzinfo=None))
        )
    with pytest.raises(InvalidUpdate, match="needs new_departure"):
        await apply_update(rig.c.service, _update(rig, UpdateKind.DELAY))
    ghost = Flight(carrier="LH", number="999", service_date=rig.disrupted.service_date)
    with pytest.raises(UnknownFlight):
        await apply_update(rig.c.service, _update(rig, UpdateKind.CANCELLATION, flight=ghost))
    assert await rig.count(DisruptionUpdate) == 0
    assert await rig.count(Disruption) == 0


async def test_the_ops_request_for_a_flight_with_a_live_disruption_updates_it(rig: Rig) -> None:
    """The path of POST /v1/disruptions and `rebook disrupt`: a second event is the same disruption, not a second one."""
    who = await rig.add_pax(("sms",))
    f = rig.disrupted
    key = (FlightKey(f.carrier, f.number, f.service_date),)
    delay = DisruptionRequest(flights=key, kind=DisruptionKind.DELAYED, new_departure=f.dep_utc + dt.timedelta(hours=4))
    first = await record_disruption(rig.c.db, delay, clock=rig.clock, service=rig.c.service)
    await rig.c.jobs.disruption_recorded(first.disruption_id)
    await rig.c.jobs.wait_idle()
    cancel = DisruptionRequest(flights=key, kind=DisruptionKind.CANCELLED)
    second = await record_disruption(rig.c.db, cancel, clock=rig.clock, service=rig.c.service)
    assert (second.disruption_id, second.created) == (first.disruption_id, False)
    await rig.c.dispatcher.drain()
    assert [m.key for m in await rig.outbox(who)] == ["offer", "offer_updated"]
    assert "now cancelled" in rig.last("sms", who).text
    with pytest.raises(InvalidUpdate):
        await record_disruption(
            rig.c.db,
            DisruptionRequest(flights=key, kind=DisruptionKind.DELAYED, new_departure=f.dep_utc),
            clock=rig.clock,
            service=rig.c.service,
        )


async def test_a_growing_delay_reassesses_connections(rig: Rig) -> None:
    """A 1 h delay hurts nobody; 5 h breaks a connection in MAD (offered, one message) and passes the threshold for the rest."""
    local = await rig.add_pax(("sms",))
    onward = await rig.add_pax(("sms",))
    f = rig.disrupted
    async with rig.c.db.transaction() as s:
        leg = Flight(
            carrier="LH",
            number="500",
            service_date=f.arr_utc.date(),
            origin="MAD",
            destination="LIS",
            dep_utc=f.arr_utc + dt.timedelta(hours=2),
            arr_utc=f.arr_utc + dt.timedelta(hours=3),
        )
        s.add(leg)
        await s.flush()
        s.add(Inventory(flight_id=leg.id, cabin="Y", capacity=100, sold=1, held=0))
        s.add(Segment(booking_id=onward.booking_id, flight_id=leg.id, cabin="Y", seq=2, status="HK"))
        later = Flight(
            carrier="LH",
            number="502",
            service_date=f.arr_utc.date(),
            origin="MAD",
            destination="LIS",
            dep_utc=f.arr_utc + dt.timedelta(hours=8),
            arr_utc=f.arr_utc + dt.timedelta(hours=9),
        )
        s.add(later)
        await s.flush()
        s.add(Inventory(flight_id=later.id, cabin="Y", capacity=100, sold=0, held=0))
    small = await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=f.dep_utc + dt.timedelta(hours=1)))
    assert small.outcome is Outcome.APPLIED
    assert await rig.count(Conversation) == 0 and await rig.count(OutboxMessage) == 0
    rig.clock.advance(minutes=1)
    await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=f.dep_utc + dt.timedelta(hours=5)))
    async with rig.c.db.reading() as s:
        convs = {c.booking_id: c for c in (await s.scalars(select(Conversation))).all()}
    assert set(convs) == {local.booking_id, onward.booking_id}
    assert convs[onward.booking_id].impact["missed_connection"] is True
    assert [m.key for m in await rig.outbox(onward)] == ["offer"]
    assert [m.key for m in await rig.outbox(local)] == ["offer"]


async def _add_many(rig: Rig, n: int) -> list[Pax]:
    return [await rig.add_pax(("sms",)) for _ in range(n)]


async def test_an_equipment_change_moves_exactly_the_overflow_lowest_priority_first(rig: Rig) -> None:
    """180 → 140 seats with 170 booked: 30 bookings re-accommodated, the lowest by `order_for_allocation`."""
    async with rig.c.db.transaction() as s:
        await s.execute(update(Inventory).where(Inventory.flight_id == rig.disrupted.id).values(capacity=180))
        await s.execute(update(Inventory).where(Inventory.flight_id != rig.disrupted.id).values(capacity=60))
    people = await _add_many(rig, 170)
    # Tiers: the first 100 bookings gold, the next 40 silver, the last 30 none; within a tier, higher booking id goes last.
    async with rig.c.db.transaction() as s:
        for n, who in enumerate(people):
            tier = 2 if n < 100 else 1 if n < 140 else 0
            await s.execute(update(Passenger).where(Passenger.id == who.passenger_id).values(tier=tier))
    # A booking of no tier with a wheelchair request outranks every gold one and stays on board.
    urgent = people[150]
    async with rig.c.db.transaction() as s:
        await s.execute(update(Passenger).where(Passenger.id == urgent.passenger_id).values(ssr="WCHR"))
    applied = await apply(rig, _update(rig, UpdateKind.EQUIPMENT, capacity=(("Y", 140),)))
    assert applied.created
    async with rig.c.db.reading() as s:
        moved = set((await s.scalars(select(Conversation.booking_id))).all())
        inv = await s.get(Inventory, (rig.disrupted.id, "Y"))
    expected = {p.booking_id for p in people[139:170] if p is not urgent}
    assert len(moved) == 30 and moved == expected
    assert inv is not None and (inv.capacity, inv.sold) == (170, 170)
    for who in people[139:]:
        if who is urgent:
            continue
        assert [m.key for m in await rig.outbox(who)] == ["offer"]
        await rig.reply("sms", who, "1")
        assert (await rig.conversation(who)).status == Status.BOOKED
    # A re-sent equipment message (a new id) settles the capacity on the new aircraft's.
    rig.clock.advance(minutes=1)
    await apply(rig, _update(rig, UpdateKind.EQUIPMENT, capacity=(("Y", 140),)))
    async with rig.c.db.reading() as s:
        inv = await s.get(Inventory, (rig.disrupted.id, "Y"))
        over = await s.scalar(select(func.count()).select_from(Inventory).where(Inventory.sold + Inventory.held > Inventory.capacity))
        disruption = (await s.scalars(select(Disruption))).one()
    assert inv is not None and (inv.capacity, inv.sold, inv.held) == (140, 140, 0)
    assert over == 0
    assert disruption.status == "settled"


async def test_a_delay_cut_below_the_threshold_lifts_the_waiting_and_leaves_the_booked(rig: Rig) -> None:
    waiting, chooser = await rig.add_pax(("sms",)), await rig.add_pax(("sms",))
    dep = rig.disrupted.dep_utc
    await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=dep + dt.timedelta(hours=5)))
    await rig.reply("sms", chooser, "1")
    rig.clock.advance(minutes=1)
    reduced = await apply(rig, _update(rig, UpdateKind.DELAY_REDUCED, new_departure=dep + dt.timedelta(minutes=30)))
    assert (reduced.outcome, reduced.withdrawn, reduced.updated) == (Outcome.APPLIED, 1, 0)
    assert [m.key for m in await rig.outbox(waiting)] == ["offer", "disruption_lifted"]
    assert [m.key for m in await rig.outbox(chooser)] == ["offer", "booked"]
    assert (await rig.conversation(waiting)).status == Status.CLOSED
    holds = await rig.holds()
    assert "held" not in holds and holds["committed"] == 1
    with pytest.raises(InvalidUpdate, match="before the schedule"):
        await apply_update(rig.c.service, _update(rig, UpdateKind.DELAY_REDUCED, new_departure=dep - dt.timedelta(minutes=5)))


async def test_a_diversion_is_told_like_a_cancellation(rig: Rig) -> None:
    who = await rig.add_pax(("sms",))
    applied = await apply(rig, _update(rig, UpdateKind.DIVERSION, diverted_to="VLC"))
    assert applied.created
    assert [m.key for m in await rig.outbox(who)] == ["offer"]
    async with rig.c.db.reading() as s:
        flight = await s.get(Flight, rig.disrupted.id)
        disruption = (await s.scalars(select(Disruption))).one()
    assert flight is not None and (flight.status, disruption.kind) == ("diverted", "cancelled")
    with pytest.raises(InvalidUpdate, match="airport"):
        await apply_update(rig.c.service, _update(rig, UpdateKind.DIVERSION))


async def test_a_schedule_change_moves_the_schedule_and_hits_only_broken_journeys(rig: Rig) -> None:
    """A time change is the new schedule: the passenger ending there is not disrupted; a reinstated cancellation keeps its flight."""
    who = await rig.add_pax(("sms",))
    dep = rig.disrupted.dep_utc
    applied = await apply(rig, _update(rig, UpdateKind.TIME_CHANGE, new_departure=dep + dt.timedelta(hours=1)))
    assert applied.outcome is Outcome.APPLIED
    async with rig.c.db.reading() as s:
        flight = await s.get(Flight, rig.disrupted.id)
    assert flight is not None and flight.dep_utc == dep + dt.timedelta(hours=1) and flight.est_dep_utc is None
    assert await rig.count(Conversation) == 0
    rig.clock.advance(minutes=1)
    await apply(rig, _update(rig, UpdateKind.CANCELLATION))
    rig.clock.advance(minutes=1)
    back = await apply(rig, _update(rig, UpdateKind.REINSTATEMENT))
    assert back.withdrawn == 1
    assert [m.key for m in await rig.outbox(who)] == ["offer", "disruption_lifted"]
    assert "operates again" in rig.last("sms", who).text
    rig.clock.advance(minutes=1)
    again = await apply(rig, _update(rig, UpdateKind.CANCELLATION))
    assert again.created, "the reinstated story settled: a new cancellation is a new disruption"
    async with rig.c.db.reading() as s:
        rows = (await s.execute(select(Conversation.status).where(Conversation.booking_id == who.booking_id))).scalars().all()
    assert sorted(rows) == ["closed", "offered"], "one live conversation per booking"


async def test_the_delay_threshold_is_the_engines_and_a_growing_delay_crosses_it(rig: Rig) -> None:
    """Two hours late is nothing under the default 3 h; with a 1 h threshold the bigger delay reaches the passenger once."""
    who = await rig.add_pax(("sms",))
    dep = rig.disrupted.dep_utc
    await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=dep + dt.timedelta(minutes=50)))
    assert await rig.count(Conversation) == 0
    rig.c.service.config = dataclasses.replace(rig.c.service.config, delay_threshold=dt.timedelta(hours=1))
    rig.clock.advance(minutes=1)
    grown = await apply(rig, _update(rig, UpdateKind.DELAY, new_departure=dep + dt.timedelta(hours=2)))
    assert grown.added == 1
    assert [m.key for m in await rig.outbox(who)] == ["offer"]
