"""Feeds name a flight's UTC date, the schedule its local service date: intake finds the one flight either way (#16).

An arrival-only estimate (MVT `EA`) moves the flight's arrival, and the connections it breaks are re-assessed.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from conversations.intake.ports import UnknownFlight
from conversations.intake.story import Outcome, apply_update, find_flight
from conversations.models import Conversation
from rebooking_core.flight_updates import FlightRef, UpdateKind
from rebooking_core.ingest import mvt
from rebooking_core.models import Flight, Inventory, Segment
from tests.conversations.conftest import Rig
from tests.conversations.intake.test_story import _update, apply


def _service(carrier: str, number: str, origin: str, dep: dt.datetime, zone: str) -> Flight:
    """A flight whose service date is the local date at `origin` (as `rebook import schedule` and SSM load them)."""
    return Flight(
        carrier=carrier,
        number=number,
        service_date=dep.astimezone(ZoneInfo(zone)).date(),
        origin=origin,
        destination="MAD",
        dep_utc=dep,
        arr_utc=dep + dt.timedelta(hours=3),
    )


async def test_a_utc_date_finds_flights_around_midnight_and_across_the_date_line(rig: Rig) -> None:
    day = dt.date(2027, 3, 10)
    at = lambda d, h, m: dt.datetime.combine(d, dt.time(h, m), dt.UTC)  # noqa: E731
    flights = {
        # Frankfurt 00:30 local on the 11th is 23:30 UTC on the 10th.
        "FRA": _service("RB", "10", "FRA", at(day, 23, 30), "Europe/Berlin"),
        # Apia (UTC+13) 08:00 local on the 11th is 19:00 UTC on the 10th: a day behind across the date line.
        "APW": _service("RB", "20", "APW", at(day, 19, 0), "Pacific/Apia"),
        # Honolulu (UTC-10) 22:00 local on the 10th is 08:00 UTC on the 11th: a day ahead.
        "HNL": _service("RB", "30", "HNL", at(day + dt.timedelta(days=1), 8, 0), "Pacific/Honolulu"),
    }
    # RB40 daily from Frankfurt: the service of the 11th left at 00:10 local (23:10 UTC on the 10th) until a
    # schedule change; the service of the 10th leaves 21:50 UTC. Both leave on the UTC 10th: the 10th's is meant.
    late = _service("RB", "40", "FRA", at(day, 21, 50), "Europe/Berlin")
    early = _service("RB", "40", "FRA", at(day, 23, 10), "Europe/Berlin")
    async with rig.c.db.transaction() as s:
        s.add_all([*flights.values(), late, early])
    async with rig.c.db.reading() as s:
        assert flights["FRA"].service_date == day + dt.timedelta(days=1)
        assert (await find_flight(s, FlightRef("RB", "10", day))).id == flights["FRA"].id
        assert (await find_flight(s, FlightRef("RB", "10", day + dt.timedelta(days=1), local=True))).id == flights["FRA"].id
        assert (await find_flight(s, FlightRef("RB", "20", day))).id == flights["APW"].id
        assert flights["APW"].service_date == day + dt.timedelta(days=1)
        assert (await find_flight(s, FlightRef("RB", "30", day + dt.timedelta(days=1)))).id == flights["HNL"].id
        assert flights["HNL"].service_date == day
        assert (await find_flight(s, FlightRef("RB", "40", day))).id == late.id
        # The local date alone does not name the UTC one: no RB10 leaves on the UTC 11th.
        with pytest.raises(UnknownFlight, match="UTC departure date"):
            await find_flight(s, FlightRef("RB", "10", day + dt.timedelta(days=1)))
        with pytest.raises(UnknownFlight, match="local date"):
            await find_flight(s, FlightRef("RB", "30", day + dt.timedelta(days=1), local=True))


async def test_an_mvt_for_a_flight_leaving_after_local_midnight_reaches_its_passengers(rig: Rig) -> None:
    """The flight leaves Frankfurt at 00:30 local, 23:30 UTC the day before: the MVT names the UTC day."""
    now = rig.clock()
    dep = dt.datetime.combine(now.date(), dt.time(23, 30), dt.UTC)
    if dep - now < dt.timedelta(hours=3):
        dep += dt.timedelta(days=1)
    local = dep.astimezone(ZoneInfo("Europe/Berlin")).date()
    assert local != dep.date()
    async with rig.c.db.transaction() as s:
        await s.execute(
            update(Flight)
            .where(Flight.id == rig.disrupted.id)
            .values(dep_utc=dep, arr_utc=dep + dt.timedelta(minutes=150), service_date=local)
        )
    who = await rig.add_pax(("sms",))
    text = f"MVT\nLH100/{dep.day:02d}.DAIPA.FRA\nED{(dep + dt.timedelta(hours=5)):%d%H%M}\nDL93/0500\n"
    [delay] = mvt.parse(text, received=now)
    assert delay.flight == FlightRef("LH", "100", dep.date())
    applied = await apply(rig, delay)
    assert (applied.outcome, applied.created) == (Outcome.APPLIED, True)
    # Told once (the small test network has no later flight to offer, so an agent takes it over).
    assert len(await rig.outbox(who)) == 1


async def test_an_arrival_estimate_alone_moves_the_arrival_and_breaks_a_connection(rig: Rig) -> None:
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
            dep_utc=f.arr_utc + dt.timedelta(hours=1),
            arr_utc=f.arr_utc + dt.timedelta(hours=2),
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
            dep_utc=f.arr_utc + dt.timedelta(hours=6),
            arr_utc=f.arr_utc + dt.timedelta(hours=7),
        )
        s.add(later)
        await s.flush()
        s.add(Inventory(flight_id=later.id, cabin="Y", capacity=100, sold=0, held=0))
    # On time: an estimate at the schedule changes nothing.
    on_time = await apply(rig, _update(rig, UpdateKind.ARRIVAL, new_arrival=f.arr_utc))
    assert on_time.outcome is Outcome.UNCHANGED
    # 90 minutes late into Madrid: the one-hour connection breaks; the passenger ending there is not hit (under 3 h).
    expected = (f.arr_utc + dt.timedelta(minutes=90)).replace(second=0)
    text = f"MVT\nLH100/{f.dep_utc.day:02d}.DAIPA.FRA\nAD{f.dep_utc:%H%M}/{f.dep_utc + dt.timedelta(minutes=10):%H%M} EA{expected:%H%M} MAD\n"
    rig.clock.advance(minutes=1)
    [eta] = mvt.parse(text, received=rig.clock())
    assert (eta.kind, eta.new_departure, eta.new_arrival) == (UpdateKind.ARRIVAL, None, expected)
    late = await apply(rig, eta)
    assert (late.outcome, late.created) == (Outcome.APPLIED, True)
    async with rig.c.db.reading() as s:
        flight = await s.get(Flight, f.id)
        convs = {c.booking_id: c for c in (await s.scalars(select(Conversation))).all()}
    assert flight is not None and (flight.status, flight.est_arr_utc, flight.est_dep_utc) == (
        "delayed",
        expected,
        None,
    )
    assert set(convs) == {onward.booking_id}
    assert convs[onward.booking_id].impact["missed_connection"] is True
    assert [m.key for m in await rig.outbox(onward)] == ["offer"]
    assert local.booking_id not in convs
    # Back on time: the connection holds again and the passenger keeps it.
    rig.clock.advance(minutes=1)
    back = await apply_update(rig.c.service, _update(rig, UpdateKind.ARRIVAL, new_arrival=f.arr_utc - dt.timedelta(minutes=5)))
    assert back.withdrawn == 1
