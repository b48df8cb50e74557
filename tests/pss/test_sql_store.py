"""The built-in SQL store as the airline's Inventory, Reservations and Loyalty, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select, update

from rebooking_core.airline.ports import (
    Availability,
    Inventory,
    Loyalty,
    LoyaltyProfile,
    PnrChange,
    PnrSegment,
    PnrState,
    RefundRequest,
    Reservations,
)
from rebooking_core.airline.sql import SqlStore, passenger_in_pnr
from rebooking_core.airline.tables import PortRequest
from rebooking_core.models import Segment
from tests.pss.conftest import LX100, LX102, LX104, NOW, Airline

LATER = NOW + dt.timedelta(minutes=40)
MOVE = PnrChange(
    "ABC123", cancel=(PnrSegment(LX100, "Y"),), sell=(PnrSegment(LX104, "Y"),), passengers=2
)


def test_the_store_is_all_three_ports(airline: Airline) -> None:
    store: SqlStore = airline.store
    ports: tuple[Inventory, Reservations, Loyalty] = (store, store, store)
    assert all(port is store for port in ports)


async def test_availability_is_capacity_less_sold_and_held_per_cabin(airline: Airline) -> None:
    unknown = type(LX100)("LX", "999", LX100.date)
    found = await airline.store.availability([LX102, unknown, LX100])
    assert found == [
        Availability(LX102, "J", 2),
        Availability(LX102, "Y", 2),
        Availability(LX100, "J", 2),
        Availability(LX100, "Y", 6),
    ]
    assert await airline.store.availability([]) == []


async def test_a_hold_moves_held_once_per_key_and_a_release_gives_it_back_once(
    airline: Airline,
) -> None:
    hold = await airline.store.hold(LX102, "Y", 2, expires_at=LATER, idempotency_key="offer-1")
    assert hold is not None and hold.seats == 2 and hold.expires_at == LATER
    assert await airline.counters(LX102) == (8, 2)
    again = await airline.store.hold(LX102, "Y", 2, expires_at=LATER, idempotency_key="offer-1")
    assert again == hold
    assert await airline.counters(LX102) == (8, 2)
    assert (
        await airline.store.hold(LX102, "Y", 1, expires_at=LATER, idempotency_key="offer-2") is None
    )
    await airline.store.release(hold.reference)
    await airline.store.release(hold.reference)
    assert await airline.counters(LX102) == (8, 0)


async def test_a_hold_beyond_the_free_seats_is_refused_and_stays_refused(airline: Airline) -> None:
    assert (
        await airline.store.hold(LX102, "Y", 3, expires_at=LATER, idempotency_key="too-many")
        is None
    )
    assert await airline.counters(LX102) == (8, 0)
    # The seats come free later; the same key still answers what it answered.
    assert (
        await airline.store.hold(LX102, "Y", 3, expires_at=LATER, idempotency_key="too-many")
        is None
    )
    assert (
        await airline.store.hold(LX102, "Y", 2, expires_at=LATER, idempotency_key="fits")
        is not None
    )


async def test_concurrent_holds_never_take_more_than_the_free_seats(airline: Airline) -> None:
    results = await asyncio.gather(
        *(
            airline.store.hold(LX102, "Y", 1, expires_at=LATER, idempotency_key=f"k{i}")
            for i in range(6)
        )
    )
    assert sum(r is not None for r in results) == 2
    assert await airline.counters(LX102) == (8, 2)


async def test_expire_releases_lapsed_holds_only(airline: Airline) -> None:
    soon = await airline.store.hold(
        LX104, "Y", 3, expires_at=NOW + dt.timedelta(minutes=5), idempotency_key="a"
    )
    late = await airline.store.hold(LX104, "Y", 2, expires_at=LATER, idempotency_key="b")
    assert soon is not None and late is not None
    assert await airline.store.expire(NOW + dt.timedelta(minutes=10)) == 1
    assert await airline.counters(LX104) == (0, 2)
    assert await airline.store.expire(NOW + dt.timedelta(minutes=10)) == 0
    await airline.store.release(soon.reference)  # already released at expiry: nothing moves
    assert await airline.counters(LX104) == (0, 2)


async def test_a_change_confirms_at_once_writes_nothing_and_answers_a_retry_the_same(
    airline: Airline,
) -> None:
    before = await airline.store.read("ABC123")
    assert before is not None and before.version == 1 and before.passengers == 2
    assert before.segments == (PnrSegment(LX100, "Y", "HK"),)
    outcome = await airline.store.change(MOVE, idempotency_key="choice-1")
    assert outcome.state is PnrState.CONFIRMED
    assert await airline.store.change(MOVE, idempotency_key="choice-1") == outcome
    assert await airline.store.change_status("ABC123", "choice-1") == outcome
    # rebook's booking transaction does the rewrite: the store moved no segment and no seat.
    assert await airline.store.read("ABC123") == before
    assert await airline.counters(LX100) == (4, 0) and await airline.counters(LX104) == (0, 0)
    async with airline.db.reading() as s:
        assert await s.scalar(select(func.count()).select_from(PortRequest)) == 1


async def test_change_status_of_a_key_never_sent_is_unknown(airline: Airline) -> None:
    await airline.store.change(MOVE, idempotency_key="sent")
    assert (await airline.store.change_status("ABC123", "never-sent")).state is PnrState.UNKNOWN
    assert (await airline.store.change_status("ZZZ999", "sent")).state is PnrState.UNKNOWN


async def test_a_change_planned_on_a_stale_version_is_refused(airline: Airline) -> None:
    view = await airline.store.read("ABC123")
    assert view is not None
    # rebook's booking transaction rewrites the PNR (LX100 HX, LX104 HK): the version moves on.
    async with airline.db.transaction() as s:
        await s.execute(
            update(Segment).where(Segment.flight_id == airline.flights[LX100]).values(status="HX")
        )
        s.add(
            Segment(
                booking_id=await _booking_id(airline),
                flight_id=airline.flights[LX104],
                cabin="Y",
                seq=1,
            )
        )
    stale = PnrChange(
        "ABC123",
        cancel=(PnrSegment(LX100, "Y"),),
        sell=(PnrSegment(LX102, "Y"),),
        passengers=2,
        version=view.version,
    )
    outcome = await airline.store.change(stale, idempotency_key="late")
    assert (
        outcome.state is PnrState.REFUSED
        and outcome.reason == "version_conflict"
        and outcome.version == 2
    )
    now = await airline.store.read("ABC123")
    assert now is not None and now.version == 2
    assert now.segments == (PnrSegment(LX100, "Y", "HX"), PnrSegment(LX104, "Y", "HK"))


async def test_a_change_cancelling_a_segment_the_pnr_lacks_is_refused(airline: Airline) -> None:
    wrong = PnrChange(
        "ABC123", cancel=(PnrSegment(LX102, "Y"),), sell=(PnrSegment(LX104, "Y"),), passengers=2
    )
    outcome = await airline.store.change(wrong, idempotency_key="wrong")
    assert outcome.state is PnrState.REFUSED and outcome.reason == "segment_not_held"
    assert await airline.store.change_status("ABC123", "wrong") == outcome


async def test_an_unknown_pnr_is_refused_and_reads_as_none(airline: Airline) -> None:
    lost = PnrChange("ZZZ999", cancel=(), sell=(PnrSegment(LX104, "Y"),), passengers=1)
    assert (await airline.store.change(lost, idempotency_key="x")).reason == "unknown_pnr"
    assert await airline.store.read("ZZZ999") is None


async def test_a_refund_is_recorded_once_per_key(airline: Airline) -> None:
    request = RefundRequest(
        "ABC123", (PnrSegment(LX100, "Y"),), basis="EU261 Art. 8(1)(a)", passengers=2
    )
    first = await airline.store.refund(request, idempotency_key="refund-1")
    assert first.state is PnrState.CONFIRMED and first.reference is not None
    assert await airline.store.refund(request, idempotency_key="refund-1") == first
    async with airline.db.reading() as s:
        kinds = (await s.scalars(select(PortRequest.kind))).all()
    assert kinds == ["refund"]
    # A key already spent on a refund never confirms a change.
    reused = await airline.store.change(MOVE, idempotency_key="refund-1")
    assert reused.state is PnrState.REFUSED and reused.reason == "key_reused"


async def test_loyalty_profile_is_what_the_import_gave(airline: Airline) -> None:
    gold, basic = airline.passenger_ids
    assert await airline.store.profile(gold) == LoyaltyProfile(
        tier=2, status="Gold", miles=48_000, preferences={"seat": "aisle"}
    )
    assert await airline.store.profile(basic) == LoyaltyProfile(tier=0)
    assert await airline.store.profile(10_000) is None


async def test_a_passenger_is_named_by_locator_and_place_for_a_remote_pss(airline: Airline) -> None:
    first, second = airline.passenger_ids
    assert await passenger_in_pnr(airline.db, first) == ("ABC123", 1)
    assert await passenger_in_pnr(airline.db, second) == ("ABC123", 2)
    assert await passenger_in_pnr(airline.db, 10_000) is None


async def _booking_id(airline: Airline) -> int:
    async with airline.db.reading() as s:
        found = await s.scalar(select(Segment.booking_id).limit(1))
    assert found is not None
    return int(found)
