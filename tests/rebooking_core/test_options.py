"""Option search over a snapshot: direct vs one-stop, MCT, seats, cabin fallback; and loading it."""

from __future__ import annotations

import datetime as dt
import itertools

from rebooking_core.models import Inventory
from rebooking_core.network import Leg, NetworkSnapshot, ScheduleCache
from rebooking_core.network_store import load_network
from rebooking_core.options import find_itineraries
from tests.rebooking_core.factories import T0, add_flight, at

_ids = itertools.count(1)
MIN = dt.timedelta(minutes=1)


def leg(origin: str, destination: str, dep: dt.datetime, minutes: int = 120) -> Leg:
    fid = next(_ids)
    return Leg(fid, "LH", str(fid), dep.date(), origin, destination, dep, dep + minutes * MIN)


def snap(
    legs: list[Leg], free: dict[int, dict[str, int]] | None = None, default: int = 9
) -> NetworkSnapshot:
    seats = {(lg.flight_id, "Y"): default for lg in legs}
    for fid, cabins in (free or {}).items():
        for cabin, n in cabins.items():
            seats[(fid, cabin)] = n
    return NetworkSnapshot(legs, seats)


def departing(s: NetworkSnapshot, origin: str, start: dt.datetime, end: dt.datetime) -> list[int]:
    """Flights leaving `origin` in [start, end] that the snapshot's window lets a search use."""
    return [lg.flight_id for lg in s.schedule.departures(origin, start, end) if s.within(lg)]


def search(s: NetworkSnapshot, **kw):  # type: ignore[no-untyped-def]
    args = {"origin": "FRA", "destination": "JFK", "not_before": T0, "seats": 1, "cabin": "Y"}
    args.update(kw)
    return find_itineraries(s, **args)


def test_direct_and_one_stop_with_mct() -> None:
    direct = leg("FRA", "JFK", at(10), 500)
    to_hub = leg("FRA", "MUC", at(1), 60)  # arrives at(2)
    tight = leg("MUC", "JFK", at(2) + 30 * MIN, 500)  # 30 min: below MCT
    good = leg("MUC", "JFK", at(2) + 50 * MIN, 500)
    too_late = leg("MUC", "JFK", at(9), 500)  # 7 h connection: above max_connection
    elsewhere = leg("FRA", "CDG", at(1), 60)  # CDG has no onward flight
    s = snap([direct, to_hub, tight, good, too_late, elsewhere])

    found = search(s)
    assert [it.flight_ids for it in found] == [
        (to_hub.flight_id, good.flight_id),
        (direct.flight_id,),
    ]
    assert [it.stops for it in found] == [1, 0]
    assert found[0].dep_utc == to_hub.dep_utc and found[0].arr_utc == good.arr_utc
    assert not any(it.cabin_change for it in found)

    with_short_mct = search(s, mct=20 * MIN)
    assert (to_hub.flight_id, tight.flight_id) in [it.flight_ids for it in with_short_mct]
    with_long_wait = search(s, max_connection=dt.timedelta(hours=8))
    assert (to_hub.flight_id, too_late.flight_id) in [it.flight_ids for it in with_long_wait]


def test_not_before_window_seats_and_exclusions() -> None:
    early = leg("FRA", "JFK", at(-1))
    first = leg("FRA", "JFK", at(3))
    full = leg("FRA", "JFK", at(4))
    far = leg("FRA", "JFK", at(60))
    s = snap([early, first, full, far], free={full.flight_id: {"Y": 2}})

    assert [it.flight_ids for it in search(s)] == [(first.flight_id,), (full.flight_id,)]
    assert [it.flight_ids for it in search(s, seats=3)] == [(first.flight_id,)]
    assert search(s, exclude_flight_ids=frozenset({first.flight_id, full.flight_id})) == []
    assert [it.flight_ids for it in search(s, window=dt.timedelta(hours=72))][-1] == (
        far.flight_id,
    )


def test_a_group_needs_seats_on_every_leg() -> None:
    a = leg("FRA", "MUC", at(1), 60)
    b = leg("MUC", "JFK", at(3), 500)
    s = snap([a, b], free={b.flight_id: {"Y": 3}})
    assert search(s, seats=3)
    assert search(s, seats=4) == []


def test_other_cabin_only_when_same_cabin_has_nothing() -> None:
    y_full = leg("FRA", "JFK", at(2))
    j_free = leg("FRA", "JFK", at(5))
    s = snap(
        [y_full, j_free],
        free={y_full.flight_id: {"Y": 0, "J": 4}, j_free.flight_id: {"Y": 1, "J": 4}},
    )

    same = search(s)
    assert [(it.flight_ids, it.cabin, it.cabin_change) for it in same] == [
        ((j_free.flight_id,), "Y", False)
    ]

    fallback = search(s, seats=2)
    assert [(it.flight_ids, it.cabin, it.cabin_change) for it in fallback] == [
        ((y_full.flight_id,), "J", True),
        ((j_free.flight_id,), "J", True),
    ]


def test_snapshot_take_and_mark_short() -> None:
    a = leg("FRA", "JFK", at(2))
    s = snap([a], default=5)
    s.take(a.flight_id, "Y", 2)
    assert s.free(a.flight_id, "Y") == 3
    s.mark_short(a.flight_id, "Y", 2)
    assert s.free(a.flight_id, "Y") == 1
    s.give_back(a.flight_id, "Y", 1)
    assert s.free(a.flight_id, "Y") == 2


async def test_load_network_uses_estimates_and_skips_cancelled(engine) -> None:  # type: ignore[no-untyped-def]
    from infra.db import make_sessionmaker

    async with make_sessionmaker(engine)() as session, session.begin():
        plain = await add_flight(
            session,
            origin="FRA",
            destination="JFK",
            dep=at(2),
            capacity={"Y": 10, "J": 4},
            sold={"Y": 6},
            held={"Y": 1, "J": 4},
        )
        late = await add_flight(
            session, origin="FRA", destination="MUC", dep=at(1), est_dep=at(30), est_arr=at(31)
        )
        await add_flight(session, origin="FRA", destination="JFK", dep=at(3), status="cancelled")
        outside = await add_flight(session, origin="FRA", destination="JFK", dep=at(40))
        session.add(Inventory(flight_id=outside.id, cabin="J", capacity=2, sold=0, held=0))

    async with make_sessionmaker(engine)() as session:
        s = await load_network(session, start=T0, end=at(36))
    assert len(s) == 2
    assert s.free(plain.id, "Y") == 3 and s.free(plain.id, "J") == 0
    assert s.leg(late.id).dep_utc == at(30) and s.leg(late.id).arr_utc == at(31)
    assert s.leg(plain.id).arr_utc == at(4) and s.leg(plain.id).arr_utc.tzinfo is not None
    assert s.cabins == frozenset({"Y", "J"})
    assert departing(s, "FRA", T0, at(36)) == [plain.id, late.id]


def test_a_snapshot_searches_only_its_window_though_its_schedule_holds_more() -> None:
    early = leg("FRA", "JFK", at(1), 500)
    to_hub = leg("FRA", "MUC", at(3), 60)  # arrives at(4)
    onward_late = leg("MUC", "JFK", at(5), 500)  # departs after the window
    direct = leg("FRA", "JFK", at(4), 500)
    whole = snap([early, to_hub, onward_late, direct])
    assert [it.flight_ids for it in search(whole)] == [
        (early.flight_id,),
        (direct.flight_id,),
        (to_hub.flight_id, onward_late.flight_id),
    ]
    seats = {(lg.flight_id, "Y"): 9 for lg in (early, to_hub, onward_late, direct)}
    windowed = NetworkSnapshot(whole.schedule, seats, earliest=at(2), latest=at(4) + 30 * MIN)
    assert [it.flight_ids for it in search(windowed)] == [(direct.flight_id,)]
    assert departing(windowed, "FRA", T0, at(48)) == [to_hub.flight_id, direct.flight_id]
    assert len(windowed) == 2


async def test_a_cached_schedule_serves_until_a_leg_in_its_window_changes(engine) -> None:  # type: ignore[no-untyped-def]
    """Seats are always read fresh; the legs are rebuilt when a flight is retimed, cancelled or added."""
    from sqlalchemy import update

    from infra.db import make_sessionmaker
    from rebooking_core.models import Flight

    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        direct = await add_flight(session, origin="FRA", destination="JFK", dep=at(6), capacity={"Y": 10})
        to_hub = await add_flight(session, origin="FRA", destination="MUC", dep=at(1), minutes=60)
        onward = await add_flight(session, origin="MUC", destination="JFK", dep=at(3))
    cache = ScheduleCache()

    async def load() -> NetworkSnapshot:
        async with maker() as session:
            return await load_network(session, start=T0, end=at(36), schedules=cache)

    async def change(**values: object) -> None:
        async with maker() as session, session.begin():
            await session.execute(update(Flight).where(Flight.id == values.pop("fid")).values(**values))

    first = await load()
    assert [it.flight_ids for it in search(first)] == [(to_hub.id, onward.id), (direct.id,)]
    async with maker() as session, session.begin():
        await session.execute(update(Inventory).where(Inventory.flight_id == direct.id).values(sold=10))
    again = await load()
    assert again.schedule is first.schedule and again.schedule.routes, "same legs: the schedule and its searches are kept"
    assert again.free(direct.id, "Y") == 0 and [it.flight_ids for it in search(again)] == [(to_hub.id, onward.id)]

    await change(fid=onward.id, est_dep_utc=at(9), est_arr_utc=at(17))  # a 7 h connection: too long
    retimed = await load()
    assert retimed.schedule is not first.schedule
    assert retimed.leg(onward.id).dep_utc == at(9)
    assert search(retimed) == []

    await change(fid=to_hub.id, status="cancelled")
    cancelled = await load()
    assert to_hub.id not in departing(cancelled, "FRA", T0, at(36))
    assert search(cancelled) == []

    async with maker() as session, session.begin():
        added = await add_flight(session, origin="FRA", destination="JFK", dep=at(20))
    assert [it.flight_ids for it in search(await load())] == [(added.id,)]


def test_a_schedule_cache_keeps_its_newest_schedules() -> None:
    from rebooking_core.network import Schedule

    cache = ScheduleCache(size=2)
    first, second, third = (Schedule([], window=(at(h), at(h + 10))) for h in (0, 1, 2))
    cache.keep(first, replaces=None)
    cache.keep(second, replaces=None)
    cache.keep(third, replaces=None)
    assert cache.covering(at(1), at(5)) is second and cache.covering(at(0), at(5)) is None
    fresh = Schedule([], window=(at(1), at(11)))
    cache.keep(fresh, replaces=second)
    assert cache.covering(at(1), at(5)) is fresh and cache.covering(at(2), at(5)) is fresh
    assert cache.covering(at(2), at(12)) is third
