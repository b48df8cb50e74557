"""Races: many transactions holding the last seats, and many choices booking the same offers."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from infra.db import make_sessionmaker
from rebooking_core.booking import BookingResult, BookingStatus, book_option
from rebooking_core.impact import assess_impact
from rebooking_core.inventory import hold_seats, release_seats
from rebooking_core.models import Inventory, Offer, OfferOption, SeatHold, Segment
from rebooking_core.network_store import load_network
from rebooking_core.offers import create_offer
from tests.rebooking_core.factories import T0, add_booking, add_disruption, add_flight, at, counters

NOW = T0 - dt.timedelta(hours=2)


async def _hold_race(engine: AsyncEngine, attempts: int, capacity: int) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        flight = await add_flight(
            session, origin="FRA", destination="JFK", dep=at(4), capacity={"Y": capacity}
        )

    async def attempt() -> bool:
        async with sm() as session, session.begin():
            return await hold_seats(session, flight_id=flight.id, cabin="Y", seats=1)

    results = await asyncio.gather(*(attempt() for _ in range(attempts)))
    assert results.count(True) == capacity
    async with sm() as session:
        assert await counters(session, flight.id) == (capacity, 0, capacity)


async def test_hold_race_on_postgresql(pg_engine: AsyncEngine) -> None:
    await _hold_race(pg_engine, attempts=300, capacity=150)


async def test_hold_race_on_sqlite(sqlite_engine: AsyncEngine) -> None:
    await _hold_race(sqlite_engine, attempts=300, capacity=150)


async def test_concurrent_choices_on_postgresql(pg_engine: AsyncEngine) -> None:
    await _choice_race(pg_engine)


async def test_concurrent_choices_on_sqlite(sqlite_engine: AsyncEngine) -> None:
    await _choice_race(sqlite_engine)


async def _choice_race(engine: AsyncEngine) -> None:
    """20 offers, each holding one seat on S (option 1) and one on Q (option 2), both 20 seats.
    Half the offers lose their S hold and only 5 of those seats are still free, so their S
    choices race for the last seats by direct sale. 200 calls: 5 taps on each option of each offer."""
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        cancelled = await add_flight(session, origin="FRA", destination="JFK", dep=at(1))
        scarce = await add_flight(
            session, origin="FRA", destination="JFK", dep=at(3), capacity={"Y": 20}
        )
        spare = await add_flight(
            session, origin="FRA", destination="JFK", dep=at(6), capacity={"Y": 20}
        )
        bookings = [await add_booking(session, flights=[cancelled]) for _ in range(20)]
        disruption = await add_disruption(session, flights=[cancelled], kind="cancelled")
        hits = await assess_impact(session, disruption_id=disruption.id, now=NOW)
        snapshot = await load_network(session, start=NOW, end=at(48))
        offers = []
        for hit in hits:
            created = await create_offer(
                session,
                impacted=hit,
                snapshot=snapshot,
                now=NOW,
                disruption_kind=hit.kind,
                reason_code=None,
                max_options=2,
            )
            assert created is not None
            assert [o.flight_ids for o in created.options] == [(scarce.id,), (spare.id,)]
            offers.append(created)
        for created in offers[:10]:
            first = created.options[0].option_id
            await session.execute(
                update(SeatHold).where(SeatHold.option_id == first).values(status="released")
            )
            assert await release_seats(session, flight_id=scarce.id, cabin="Y", seats=1)
        await session.execute(
            update(Inventory).where(Inventory.flight_id == scarce.id).values(sold=5)
        )
        assert await counters(session, scarce.id) == (20, 5, 10)

    async def choose(option_id: int) -> BookingResult:
        async with sm() as session, session.begin():
            return await book_option(
                session, option_id=option_id, now=NOW + dt.timedelta(minutes=1)
            )

    calls = [o.option_id for created in offers for o in created.options for _ in range(5)]
    assert len(calls) == 200
    results = await asyncio.gather(*(choose(option_id) for option_id in calls))

    statuses = Counter(r.status for r in results)
    assert set(statuses) <= {
        BookingStatus.BOOKED,
        BookingStatus.ALREADY_BOOKED,
        BookingStatus.UNAVAILABLE,
    }
    assert statuses[BookingStatus.BOOKED] == 20
    booked = {r.booking_id: r.option_id for r in results if r.status == BookingStatus.BOOKED}
    assert sorted(booked) == sorted(b.id for b in bookings)

    async with sm() as session:
        accepted = dict(
            (
                await session.execute(
                    select(Offer.booking_id, Offer.accepted_option_id).where(
                        Offer.status == "accepted"
                    )
                )
            ).all()
        )
        assert accepted == booked
        for r in results:
            if r.status == BookingStatus.ALREADY_BOOKED:
                assert r.option_id == booked[r.booking_id]
        on_scarce = sum(
            1 for created in offers if booked[created.booking_id] == created.options[0].option_id
        )
        on_spare = 20 - on_scarce
        assert 10 <= on_scarce <= 15  # 10 kept holds, at most 5 direct sales
        assert await counters(session, scarce.id) == (20, 5 + on_scarce, 0)
        assert await counters(session, spare.id) == (20, on_spare, 0)
        assert await counters(session, cancelled.id) == (150, 0, 0)
        assert (
            await session.execute(
                select(func.count()).select_from(SeatHold).where(SeatHold.status == "held")
            )
        ).scalar_one() == 0
        new_segments = Counter(
            (
                await session.execute(select(Segment.booking_id).where(Segment.status == "HK"))
            ).scalars()
        )
        assert new_segments == Counter({b.id: 1 for b in bookings})
        hx = (
            await session.execute(
                select(func.count()).select_from(Segment).where(Segment.status == "HX")
            )
        ).scalar_one()
        assert hx == 20
        rows = (await session.execute(select(OfferOption.id))).scalars().all()
        assert len(rows) == 40
