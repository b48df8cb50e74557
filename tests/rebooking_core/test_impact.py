"""Impact assessment: cancellations, missed connections, long delays, journeys; bulk loading."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, insert, update

from infra.db import make_sessionmaker
from rebooking_core.impact import (
    DisruptedFlight,
    PassengerRow,
    SegmentRow,
    assess,
    assess_impact,
    journeys,
    segments_to_replace,
)
from rebooking_core.models import Booking, Passenger, Segment
from rebooking_core.types import DisruptionKind
from tests.rebooking_core.factories import T0, add_booking, add_disruption, add_flight, at

H = dt.timedelta(hours=1)
NOW = T0 - 2 * H


def seg(
    sid: int, seq: int, flight: int, o: str, d: str, dep: float, arr: float, booking: int = 1
) -> SegmentRow:
    return SegmentRow(sid, booking, seq, flight, "Y", o, d, at(dep), at(arr))


def pax(
    pid: int,
    booking: int = 1,
    *,
    tier: int = 0,
    ssr: str | None = None,
    contact: bool = False,
    language: str = "en",
    group: str | None = None,
) -> PassengerRow:
    return PassengerRow(pid, booking, f"L{booking:05d}", group, tier, language, ssr, contact)


# FRA -> MUC (1-2), MUC -> JFK (3-11); return JFK -> FRA five days later
OUT1 = seg(1, 1, 101, "FRA", "MUC", 1, 2)
OUT2 = seg(2, 2, 102, "MUC", "JFK", 3, 11)
BACK = seg(3, 3, 103, "JFK", "FRA", 120, 128)
TRIP = [OUT1, OUT2, BACK]


def test_journeys_split_at_stopovers_and_returns() -> None:
    assert journeys(TRIP) == [(OUT1, OUT2), (BACK,)]
    day_return = [seg(1, 1, 1, "FRA", "MUC", 1, 2), seg(2, 2, 2, "MUC", "FRA", 5, 6)]
    assert len(journeys(day_return)) == 1
    there_and_back = [*day_return, seg(3, 3, 3, "FRA", "MUC", 8, 9)]
    assert len(journeys(there_and_back)) == 2
    disconnected = [seg(1, 1, 1, "FRA", "MUC", 1, 2), seg(2, 2, 2, "CDG", "JFK", 3, 9)]
    assert len(journeys(disconnected)) == 2


def test_cancelled_first_leg_replaces_the_rest_of_the_journey_only() -> None:
    [hit] = assess(
        disrupted={101: DisruptedFlight(101, cancelled=True)},
        segments=TRIP,
        passengers=[pax(10, tier=1), pax(11, tier=3, contact=True, language="de", ssr="WCHR")],
        now=NOW,
        disruption_id=7,
        reason="TECH",
    )
    assert hit.replaced_segment_ids == (1, 2) and hit.replaced_flight_ids == (101, 102)
    assert (hit.rebook_from, hit.destination, hit.journey_origin) == ("FRA", "JFK", "FRA")
    assert (
        hit.not_before == at(1)
        and hit.original_arrival == at(11)
        and hit.original_departure == at(1)
    )
    assert (hit.passengers, hit.tier, hit.contact_passenger_id, hit.language, hit.has_ssr) == (
        2,
        3,
        11,
        "de",
        True,
    )
    assert (hit.missed_connection, hit.kind, hit.disrupted_flight_id, hit.reason) == (
        False,
        "cancelled",
        101,
        "TECH",
    )
    assert hit.disruption_id == 7 and not hit.group


def test_cancelled_second_leg_rebooks_from_the_hub_not_before_now() -> None:
    later = at(5)
    [hit] = assess(
        disrupted={102: DisruptedFlight(102, cancelled=True)},
        segments=TRIP,
        passengers=[pax(10), pax(12)],
        now=later,
    )
    assert hit.replaced_segment_ids == (2,)
    assert hit.rebook_from == "MUC" and hit.not_before == later
    assert hit.contact_passenger_id == 10  # nobody flagged: the first passenger


def test_delay_missing_the_connection() -> None:
    # lands 2:30 instead of 2:00; the 3:00 connection needs 3:15 with a 45 min MCT
    [hit] = assess(
        disrupted={101: DisruptedFlight(101, cancelled=False, est_arr_utc=at(2.5))},
        segments=TRIP,
        passengers=[pax(10)],
        now=NOW,
    )
    assert hit.missed_connection and hit.kind == DisruptionKind.DELAYED
    assert hit.replaced_segment_ids == (2,) and hit.rebook_from == "MUC"
    assert hit.not_before == at(2.5) + 45 * dt.timedelta(minutes=1)
    assert hit.original_departure == at(3)


def test_delay_with_connection_still_made_or_short_is_not_impacted() -> None:
    made = DisruptedFlight(101, cancelled=False, est_arr_utc=at(2.25))  # 2:15 + 45 = 3:00
    assert assess(disrupted={101: made}, segments=TRIP, passengers=[pax(10)], now=NOW) == []
    short = DisruptedFlight(102, cancelled=False, est_arr_utc=at(13.9))  # last leg, 2h54 late
    assert assess(disrupted={102: short}, segments=TRIP, passengers=[pax(10)], now=NOW) == []


def test_long_delay_on_the_last_leg_rebooks_that_leg() -> None:
    long = DisruptedFlight(102, cancelled=False, est_arr_utc=at(14))
    [hit] = assess(disrupted={102: long}, segments=TRIP, passengers=[pax(10)], now=NOW)
    assert (
        hit.replaced_segment_ids == (2,) and hit.rebook_from == "MUC" and not hit.missed_connection
    )
    assert (
        assess(
            disrupted={102: long},
            segments=TRIP,
            passengers=[pax(10)],
            now=NOW,
            rebook_delay_threshold=4 * H,
        )
        == []
    )


def test_one_impact_per_booking_the_earliest_break() -> None:
    both = {
        101: DisruptedFlight(101, cancelled=False, est_arr_utc=at(2.5)),
        102: DisruptedFlight(102, cancelled=True),
    }
    [hit] = assess(disrupted=both, segments=TRIP, passengers=[pax(10)], now=NOW)
    assert hit.replaced_segment_ids == (2,) and hit.not_before == at(3.25)


def test_groups_and_bookings_without_passengers() -> None:
    segs = [
        seg(1, 1, 101, "FRA", "MUC", 1, 2, booking=1),
        seg(2, 1, 101, "FRA", "MUC", 1, 2, booking=2),
        seg(3, 1, 101, "FRA", "MUC", 1, 2, booking=3),
    ]
    people = [pax(1, 1, group="SKI CLUB"), *[pax(10 + i, 2) for i in range(10)]]
    hits = assess(
        disrupted={101: DisruptedFlight(101, cancelled=True)},
        segments=segs,
        passengers=people,
        now=NOW,
    )
    assert [(h.booking_id, h.group, h.passengers) for h in hits] == [(1, True, 1), (2, True, 10)]


def test_segments_to_replace_follows_the_chosen_origin() -> None:
    assert segments_to_replace(TRIP, [101], "FRA") == (OUT1, OUT2)
    assert segments_to_replace(TRIP, [101], "MUC") == (OUT2,)
    assert segments_to_replace(TRIP, [103], "JFK") == (BACK,)
    assert segments_to_replace(TRIP, [999], "FRA") == ()


async def test_assess_impact_from_the_database(engine) -> None:  # type: ignore[no-untyped-def]
    async with make_sessionmaker(engine)() as session, session.begin():
        f1 = await add_flight(session, origin="FRA", destination="MUC", dep=at(1), minutes=60)
        f2 = await add_flight(session, origin="MUC", destination="JFK", dep=at(3), minutes=480)
        other = await add_flight(session, origin="FRA", destination="CDG", dep=at(1))
        connecting = await add_booking(
            session, flights=[f1, f2], pax=2, tiers=[0, 2], contact=1, language="fr"
        )
        local = await add_booking(session, flights=[f1])
        await add_booking(session, flights=[other])
        moved = await add_booking(session, flights=[f1])
        await session.execute(
            update(Segment).where(Segment.booking_id == moved.id).values(status="HX")
        )
        disruption = await add_disruption(session, flights=[f1], kind="cancelled", reason="WEAT")

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with make_sessionmaker(engine)() as session:
            hits = await assess_impact(session, disruption_id=disruption.id, now=NOW)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)

    assert [h.booking_id for h in hits] == [connecting.id, local.id]
    first, second = hits
    assert first.replaced_flight_ids == (f1.id, f2.id) and first.destination == "JFK"
    assert (first.passengers, first.tier, first.language, first.reason) == (2, 2, "fr", "WEAT")
    assert first.original_arrival == at(11) and first.not_before == at(1)
    assert second.replaced_flight_ids == (f1.id,) and second.destination == "MUC"
    assert len(statements) <= 5


async def test_assess_impact_delay_uses_estimates(engine) -> None:  # type: ignore[no-untyped-def]
    async with make_sessionmaker(engine)() as session, session.begin():
        f1 = await add_flight(
            session,
            origin="FRA",
            destination="MUC",
            dep=at(1),
            minutes=60,
            est_dep=at(1.75),
            est_arr=at(2.75),
        )
        f2 = await add_flight(session, origin="MUC", destination="JFK", dep=at(3), minutes=480)
        booking = await add_booking(session, flights=[f1, f2])
        disruption = await add_disruption(session, flights=[f1], kind="delayed")
    async with make_sessionmaker(engine)() as session:
        [hit] = await assess_impact(session, disruption_id=disruption.id, now=NOW)
    assert hit.booking_id == booking.id and hit.missed_connection
    assert hit.replaced_flight_ids == (f2.id,) and hit.not_before == at(3.5)


async def test_five_thousand_passengers_in_a_fixed_number_of_queries(pg_engine) -> None:  # type: ignore[no-untyped-def]
    async with make_sessionmaker(pg_engine)() as session, session.begin():
        f1 = await add_flight(
            session, origin="FRA", destination="MUC", dep=at(1), minutes=60, capacity={"Y": 9000}
        )
        f2 = await add_flight(
            session, origin="MUC", destination="JFK", dep=at(2), minutes=480, capacity={"Y": 9000}
        )
        n_bookings = 2500
        booking_ids = list(
            (
                await session.execute(
                    insert(Booking).returning(Booking.id),
                    [{"locator": f"P{i:05d}", "created_at": T0} for i in range(n_bookings)],
                )
            ).scalars()
        )
        await session.execute(
            insert(Passenger),
            [
                {
                    "booking_id": b,
                    "given_name": None,
                    "family_name": None,
                    "tier": i % 4,
                    "language": "en",
                    "is_contact": i == 0,
                }
                for b in booking_ids
                for i in range(2)
            ],
        )
        await session.execute(
            insert(Segment),
            [
                {"booking_id": b, "flight_id": f.id, "cabin": "Y", "seq": s, "status": "HK"}
                for b in booking_ids
                for s, f in ((1, f1), (2, f2))
            ],
        )
        disruption = await add_disruption(session, flights=[f1], kind="cancelled")

    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(pg_engine.sync_engine, "before_cursor_execute", count)
    try:
        async with make_sessionmaker(pg_engine)() as session:
            hits = await assess_impact(session, disruption_id=disruption.id, now=NOW)
    finally:
        event.remove(pg_engine.sync_engine, "before_cursor_execute", count)
    assert len(hits) == n_bookings
    assert sum(h.passengers for h in hits) == 5000
    assert all(h.tier == 1 and h.replaced_flight_ids == (f1.id, f2.id) for h in hits)
    assert len(statements) <= 5
