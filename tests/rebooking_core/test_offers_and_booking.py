"""Offers hold exactly what they show; supersede/expire give it back; booking is once-only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from infra.db import make_sessionmaker
from rebooking_core.booking import BookingStatus, book_option
from rebooking_core.eu261 import compensation
from rebooking_core.impact import ImpactedBooking, assess_impact
from rebooking_core.inventory import move_many, release_seats
from rebooking_core.models import Flight, Inventory, Offer, OfferOption, SeatHold, Segment
from rebooking_core.network import NetworkSnapshot
from rebooking_core.network_store import load_network
from rebooking_core.offers import (
    CreatedOffer,
    InventoryInconsistent,
    create_offer,
    expire_offers,
    supersede_offer,
)
from tests.rebooking_core.factories import (
    T0,
    add_booking,
    add_disruption,
    add_flight,
    at,
    counters,
    segments_of,
)

NOW = T0 - dt.timedelta(hours=2)


@dataclass
class World:
    cancelled: Flight  # FRA-MUC, the disrupted first leg
    onward: Flight  # MUC-JFK, the booked connection
    back: Flight  # JFK-FRA five days later
    direct: Flight  # FRA-JFK alternative
    hub_in: Flight  # FRA-MUC alternative leg
    hub_out: Flight  # MUC-JFK alternative leg
    late: Flight  # FRA-JFK next day
    booking_id: int
    disruption_id: int


async def build(session: AsyncSession, *, direct_seats: int = 10) -> World:
    cancelled = await add_flight(session, origin="FRA", destination="MUC", dep=at(1), minutes=60)
    onward = await add_flight(session, origin="MUC", destination="JFK", dep=at(3), minutes=540)
    back = await add_flight(session, origin="JFK", destination="FRA", dep=at(120), minutes=480)
    direct = await add_flight(
        session,
        origin="FRA",
        destination="JFK",
        dep=at(4),
        minutes=510,
        capacity={"Y": direct_seats},
    )
    hub_in = await add_flight(session, origin="FRA", destination="MUC", dep=at(3), minutes=60)
    hub_out = await add_flight(session, origin="MUC", destination="JFK", dep=at(5), minutes=540)
    late = await add_flight(session, origin="FRA", destination="JFK", dep=at(26), minutes=510)
    booking = await add_booking(session, flights=[cancelled, onward, back], pax=2, tiers=[0, 2])
    disruption = await add_disruption(session, flights=[cancelled], kind="cancelled", reason="TECH")
    return World(cancelled, onward, back, direct, hub_in, hub_out, late, booking.id, disruption.id)


async def offer_for(
    session: AsyncSession, world: World, **kw: object
) -> tuple[CreatedOffer | None, ImpactedBooking, NetworkSnapshot]:
    [hit] = await assess_impact(session, disruption_id=world.disruption_id, now=NOW)
    snapshot = await load_network(session, start=NOW, end=NOW + dt.timedelta(hours=72))
    created = await create_offer(
        session,
        impacted=hit,
        snapshot=snapshot,
        now=NOW,
        disruption_kind=hit.kind,
        reason_code=hit.reason,
        **kw,
    )  # type: ignore[arg-type]
    return created, hit, snapshot


async def offered(engine: AsyncEngine) -> tuple[async_sessionmaker[AsyncSession], World, CreatedOffer]:
    """A built world whose booking has its offer, committed."""
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        w = await build(session)
        created, _, _ = await offer_for(session, w)
    assert created is not None
    return sm, w, created


async def held_by_rows(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(SeatHold.flight_id, func.sum(SeatHold.seats))
        .where(SeatHold.status == "held")
        .group_by(SeatHold.flight_id)
    )
    return {int(f): int(n) for f, n in rows}


async def held_by_counters(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(Inventory.flight_id, Inventory.held).where(Inventory.held > 0)
    )
    return {int(f): int(n) for f, n in rows}


async def test_create_offer_holds_seats_times_legs(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        w = await build(session)
        created, hit, snapshot = await offer_for(session, w)

    assert created is not None
    assert [o.rank for o in created.options] == [1, 2, 3]
    assert [o.flight_ids for o in created.options] == [
        (w.direct.id,),
        (w.hub_in.id, w.hub_out.id),
        (w.late.id,),
    ]
    assert created.expires_at == NOW + dt.timedelta(minutes=30)
    assert snapshot.free(w.direct.id, "Y") == 8 and snapshot.free(w.hub_out.id, "Y") == 148

    async with sm() as session:
        assert (
            await held_by_rows(session)
            == await held_by_counters(session)
            == {w.direct.id: 2, w.hub_in.id: 2, w.hub_out.id: 2, w.late.id: 2}
        )
        offer = await session.get(Offer, created.offer_id)
        assert offer is not None
        assert (offer.status, offer.seats, offer.booking_id, offer.disruption_id) == (
            "open",
            2,
            w.booking_id,
            w.disruption_id,
        )
        options = (
            (await session.execute(select(OfferOption).order_by(OfferOption.rank))).scalars().all()
        )
        assert [o.id for o in options] == [o.option_id for o in created.options]
        first = options[0]
        expected = compensation(
            origin="FRA",
            destination="JFK",
            carrier_is_eu=True,
            disruption_kind="cancelled",
            reason_code="TECH",
            original_arrival=hit.original_arrival,
            new_arrival=first.arr_utc,
            notice=at(1) - NOW,
            original_departure=at(1),
            new_departure=first.dep_utc,
        )
        assert (
            (first.eu261_eur, first.eu261_basis)
            == (expected.amount_eur, expected.basis)
            == (0, "notice_under_7d_reroute")
        )
        assert first.arrival_delay_min == 30 and first.stops == 0 and options[1].stops == 1
        assert (options[2].eu261_eur, options[2].eu261_basis) == (600, "cancelled")
        assert [o.eu261_eur for o in created.options] == [
            0,
            300,
            600,
        ]  # connection: 2 h late, halved


async def test_scarce_seats_and_a_leg_lost_after_the_snapshot(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        w = await build(session, direct_seats=1)  # one seat: the pair cannot go direct
        [hit] = await assess_impact(session, disruption_id=w.disruption_id, now=NOW)
        snapshot = await load_network(session, start=NOW, end=NOW + dt.timedelta(hours=72))
        # someone else takes the hub's onward seats after the snapshot was loaded
        await session.execute(
            update(Inventory).where(Inventory.flight_id == w.hub_out.id).values(sold=149)
        )
        created = await create_offer(
            session,
            impacted=hit,
            snapshot=snapshot,
            now=NOW,
            disruption_kind=hit.kind,
            reason_code=hit.reason,
        )
        assert created is not None
        assert [o.flight_ids for o in created.options] == [(w.late.id,)]
        assert await held_by_rows(session) == await held_by_counters(session) == {w.late.id: 2}
        assert await counters(session, w.hub_in.id) == (150, 0, 0)  # first leg held, then released
        assert snapshot.free(w.hub_out.id, "Y") == 1


async def test_nothing_to_hold_returns_none_and_writes_nothing(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        w = await build(session)
        for f in (w.direct, w.hub_in, w.late):
            await session.execute(
                update(Inventory)
                .where(Inventory.flight_id == f.id)
                .values(sold=Inventory.capacity - 1)
            )
        created, _, _ = await offer_for(session, w)
        assert created is None
        assert (await session.execute(select(func.count()).select_from(Offer))).scalar_one() == 0
        assert await held_by_counters(session) == {}


async def test_supersede_and_expire_release_everything(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        w = await build(session)
        first, _, _ = await offer_for(session, w)
        second, _, _ = await offer_for(session, w, max_options=1, hold_ttl=dt.timedelta(minutes=5))
    assert first is not None and second is not None

    async with sm() as session, session.begin():
        assert await supersede_offer(session, offer_id=first.offer_id)
        assert not await supersede_offer(session, offer_id=first.offer_id)
    async with sm() as session:
        assert await held_by_counters(session) == await held_by_rows(session) == {w.direct.id: 2}
        assert (await session.get(Offer, first.offer_id)).status == "superseded"  # type: ignore[union-attr]

    async with sm() as session, session.begin():
        assert await expire_offers(session, now=NOW + dt.timedelta(minutes=4)) == 0
        assert await expire_offers(session, now=NOW + dt.timedelta(minutes=5)) == 1
        assert await expire_offers(session, now=NOW + dt.timedelta(minutes=6)) == 0
    async with sm() as session:
        assert await held_by_counters(session) == await held_by_rows(session) == {}
        assert (await session.get(Offer, second.offer_id)).status == "expired"  # type: ignore[union-attr]
        statuses = (await session.execute(select(SeatHold.status).distinct())).scalars().all()
        assert statuses == ["released"]


async def test_book_option_commits_releases_and_rewrites_segments(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        w = await build(session)
        created, _, _ = await offer_for(session, w)
    assert created is not None
    chosen, other = created.options[1], created.options[0]  # the connection via MUC

    async with sm() as session, session.begin():
        result = await book_option(
            session, option_id=chosen.option_id, now=NOW + dt.timedelta(minutes=1)
        )
    assert (result.status, result.booking_id, result.option_id, result.flight_ids) == (
        BookingStatus.BOOKED,
        w.booking_id,
        chosen.option_id,
        (w.hub_in.id, w.hub_out.id),
    )

    async with sm() as session:
        assert await held_by_counters(session) == await held_by_rows(session) == {}
        assert await counters(session, w.hub_in.id) == (150, 2, 0)
        assert await counters(session, w.hub_out.id) == (150, 2, 0)
        assert await counters(session, w.direct.id) == (10, 0, 0)
        assert await counters(session, w.onward.id) == (
            150,
            0,
            0,
        )  # the replaced connection's seats are back
        assert await counters(session, w.back.id) == (150, 2, 0)  # the return is untouched
        assert await segments_of(session, w.booking_id) == [
            (1, w.cancelled.id, "HX"),
            (2, w.onward.id, "HX"),
            (3, w.hub_in.id, "HK"),
            (4, w.hub_out.id, "HK"),
            (5, w.back.id, "HK"),
        ]
        replaced_by = (
            (
                await session.execute(
                    select(Segment.replaced_by_option).where(Segment.status == "HX")
                )
            )
            .scalars()
            .all()
        )
        assert replaced_by == [chosen.option_id, chosen.option_id]
        offer = await session.get(Offer, created.offer_id)
        assert offer is not None and (offer.status, offer.accepted_option_id) == (
            "accepted",
            chosen.option_id,
        )
        hold_states = dict(
            (await session.execute(select(SeatHold.flight_id, SeatHold.status))).all()
        )
        assert hold_states[w.hub_in.id] == hold_states[w.hub_out.id] == "committed"
        assert hold_states[w.direct.id] == hold_states[w.late.id] == "released"
        before = [
            await counters(session, f.id) for f in (w.direct, w.hub_in, w.hub_out, w.late, w.onward)
        ]

    for option_id in (chosen.option_id, other.option_id):
        async with sm() as session, session.begin():
            again = await book_option(
                session, option_id=option_id, now=NOW + dt.timedelta(minutes=2)
            )
        assert (again.status, again.option_id, again.flight_ids) == (
            BookingStatus.ALREADY_BOOKED,
            chosen.option_id,
            (w.hub_in.id, w.hub_out.id),
        )
    async with sm() as session:
        after = [
            await counters(session, f.id) for f in (w.direct, w.hub_in, w.hub_out, w.late, w.onward)
        ]
        assert after == before
        assert len(await segments_of(session, w.booking_id)) == 5


async def test_book_option_expired_unknown_and_lost_holds(engine: AsyncEngine) -> None:
    sm, w, created = await offered(engine)
    direct = created.options[0]

    async with sm() as session, session.begin():
        assert (
            await book_option(session, option_id=10_000, now=NOW)
        ).status == BookingStatus.UNKNOWN
        late = await book_option(session, option_id=direct.option_id, now=created.expires_at)
        assert late.status == BookingStatus.EXPIRED

    # the direct flight's hold is lost and its last seats are sold elsewhere: unavailable, nothing moves
    async with sm() as session, session.begin():
        await session.execute(
            update(SeatHold).where(SeatHold.option_id == direct.option_id).values(status="released")
        )
        await release_seats(session, flight_id=w.direct.id, cabin="Y", seats=2)
        await session.execute(
            update(Inventory).where(Inventory.flight_id == w.direct.id).values(sold=9)
        )
    async with sm() as session, session.begin():
        before = {
            f: await counters(session, f)
            for f in (w.direct.id, w.hub_in.id, w.late.id, w.onward.id)
        }
        result = await book_option(session, option_id=direct.option_id, now=NOW)
        assert result.status == BookingStatus.UNAVAILABLE
    async with sm() as session:
        assert {f: await counters(session, f) for f in before} == before
        assert (await session.get(Offer, created.offer_id)).status == "open"  # type: ignore[union-attr]
        assert await held_by_rows(session) == await held_by_counters(session)
        assert [s for _, _, s in await segments_of(session, w.booking_id)] == ["HK", "HK", "HK"]

    # seats come back: the lost hold is replaced by a direct sale
    async with sm() as session, session.begin():
        await session.execute(
            update(Inventory).where(Inventory.flight_id == w.direct.id).values(sold=0)
        )
    async with sm() as session, session.begin():
        result = await book_option(session, option_id=direct.option_id, now=NOW)
        assert result.status == BookingStatus.BOOKED
    async with sm() as session:
        assert await counters(session, w.direct.id) == (10, 2, 0)
        assert await held_by_counters(session) == await held_by_rows(session) == {}


async def test_superseded_offer_cannot_be_booked(engine: AsyncEngine) -> None:
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        w = await build(session)
        created, _, _ = await offer_for(session, w)
        assert created is not None
        await supersede_offer(session, offer_id=created.offer_id)
        result = await book_option(session, option_id=created.options[0].option_id, now=NOW)
        assert result.status == BookingStatus.EXPIRED
        assert await counters(session, w.direct.id) == (10, 0, 0)


@pytest.mark.parametrize(
    ("moved_off", "left"),
    [("disrupted_journey", ["HX", "HX", "HK"]), ("whole_booking", ["HX", "HX", "HX"])],
)
async def test_booking_changed_elsewhere_retires_the_offer(engine: AsyncEngine, moved_off: str, left: list[str]) -> None:
    """An agent moved the passengers off by other means: nothing left to replace (or nothing active at all)."""
    sm, w, created = await offered(engine)
    flights = [w.cancelled.id, w.onward.id] + ([w.back.id] if moved_off == "whole_booking" else [])
    async with sm() as session, session.begin():
        await session.execute(update(Segment).where(Segment.flight_id.in_(flights)).values(status="HX"))
    async with sm() as session, session.begin():
        result = await book_option(session, option_id=created.options[0].option_id, now=NOW)
        assert result.status == BookingStatus.CHANGED
    async with sm() as session:
        assert (await session.get(Offer, created.offer_id)).status == "superseded"  # type: ignore[union-attr]
        assert await held_by_counters(session) == await held_by_rows(session) == {}
        assert [s for _, _, s in await segments_of(session, w.booking_id)] == left


async def test_a_held_hold_without_held_seats_is_never_hidden(engine: AsyncEngine) -> None:
    sm, w, created = await offered(engine)
    direct = created.options[0]
    async with sm() as session, session.begin():  # a manual edit: the counter forgets the hold
        await session.execute(update(Inventory).where(Inventory.flight_id == w.direct.id).values(held=0))
    with pytest.raises(InventoryInconsistent):
        async with sm() as session, session.begin():
            await book_option(session, option_id=direct.option_id, now=NOW)
    async with sm() as session:
        assert (await session.get(Offer, created.offer_id)).status == "open"  # type: ignore[union-attr]
        assert [s for _, _, s in await segments_of(session, w.booking_id)] == ["HK", "HK", "HK"]


async def test_later_inactive_segments_still_make_room(engine: AsyncEngine) -> None:
    """The replaced part ends the active journey, but a cancelled later segment still holds a seq."""
    sm = make_sessionmaker(engine)
    async with sm() as session, session.begin():
        w = await build(session)
        await session.execute(update(Segment).where(Segment.flight_id == w.back.id).values(status="HX"))
        created, _, _ = await offer_for(session, w)
    assert created is not None
    direct = created.options[0]
    async with sm() as session, session.begin():
        assert (await book_option(session, option_id=direct.option_id, now=NOW)).status == BookingStatus.BOOKED
    async with sm() as session:
        assert await segments_of(session, w.booking_id) == [
            (1, w.cancelled.id, "HX"),
            (2, w.onward.id, "HX"),
            (3, w.direct.id, "HK"),
            (4, w.back.id, "HX"),
        ]


async def test_move_many_moves_the_rows_its_guard_lets_through(pg_engine: AsyncEngine) -> None:
    sm = make_sessionmaker(pg_engine)
    async with sm() as session, session.begin():
        w = await build(session, direct_seats=3)
    async with sm() as session, session.begin():
        moved = await move_many(
            session,
            {
                (w.direct.id, "Y"): (4, 0),  # 4 sold on a 3-seat cabin: refused
                (w.hub_in.id, "Y"): (2, 1),  # sold and held together
                (w.onward.id, "Y"): (-2, 0),  # the booking's own 2 seats come back
                (w.late.id, "Y"): (0, -1),  # nothing held: refused
            },
        )
        assert moved == {(w.hub_in.id, "Y"), (w.onward.id, "Y")}
    async with sm() as session:
        assert await counters(session, w.direct.id) == (3, 0, 0)
        assert await counters(session, w.hub_in.id) == (150, 2, 1)
        assert await counters(session, w.onward.id) == (150, 0, 0)
        assert await counters(session, w.late.id) == (150, 0, 0)


async def test_a_held_booking_locks_its_counter_rows_only_at_commit(pg_engine: AsyncEngine) -> None:
    """Every leg held: the counters move after the rest of the transaction, so the row is free until then."""
    sm, w, created = await offered(pg_engine)
    direct = created.options[0]
    async with sm() as session, session.begin():
        result = await book_option(session, option_id=direct.option_id, now=NOW)
        assert result.status == BookingStatus.BOOKED
        async with sm() as other, other.begin():  # would wait (and NOWAIT fail) if the row were locked
            locked = await other.execute(
                select(Inventory.sold).where(Inventory.flight_id == w.direct.id).with_for_update(nowait=True)
            )
            assert locked.scalar_one() == 0
    async with sm() as session:
        assert await counters(session, w.direct.id) == (10, 2, 0)
        assert await held_by_counters(session) == await held_by_rows(session) == {}


async def test_deferred_counter_moves_are_dropped_with_a_rollback(pg_engine: AsyncEngine) -> None:
    sm, w, created = await offered(pg_engine)
    async with sm() as session:
        async with session.begin():
            await book_option(session, option_id=created.options[0].option_id, now=NOW)
            await session.rollback()
        async with session.begin():  # the same session's next transaction must not move them
            pass
    async with sm() as session:
        assert await counters(session, w.direct.id) == (10, 0, 2)
        assert (await session.get(Offer, created.offer_id)).status == "open"  # type: ignore[union-attr]
