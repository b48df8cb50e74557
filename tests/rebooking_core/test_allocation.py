"""Allocation order, parties never split, and the priority-inversion measure."""

from __future__ import annotations

import dataclasses

from rebooking_core.allocation import (
    Allocation,
    allocate,
    order_for_allocation,
    priority_inversions,
    priority_key,
)
from rebooking_core.impact import ImpactedBooking
from rebooking_core.network import Leg, NetworkSnapshot
from rebooking_core.options import Itinerary
from rebooking_core.ranking import RankedOption
from tests.rebooking_core.factories import at

BASE = ImpactedBooking(
    booking_id=0,
    locator="X",
    passengers=1,
    contact_passenger_id=1,
    tier=0,
    language="en",
    has_ssr=False,
    group=False,
    cabin="Y",
    rebook_from="FRA",
    destination="JFK",
    not_before=at(0),
    original_arrival=at(9),
    replaced_segment_ids=(1,),
    missed_connection=False,
    disrupted_flight_id=99,
    reason=None,
    replaced_flight_ids=(99,),
)


def b(booking_id: int, **kw: object) -> ImpactedBooking:
    return dataclasses.replace(BASE, booking_id=booking_id, **kw)  # type: ignore[arg-type]


def test_priority_order() -> None:
    plain = b(1)
    platinum = b(2, tier=3)
    gold_party = b(3, tier=2, passengers=4)
    gold_single = b(4, tier=2)
    missed = b(5, missed_connection=True)
    wheelchair = b(6, has_ssr=True)
    missed_wheelchair = b(7, missed_connection=True, has_ssr=True)
    missed_platinum = b(8, missed_connection=True, tier=3)
    ordered = order_for_allocation(
        [
            plain,
            platinum,
            gold_party,
            gold_single,
            missed,
            wheelchair,
            missed_wheelchair,
            missed_platinum,
        ]
    )
    assert [x.booking_id for x in ordered] == [7, 8, 5, 6, 2, 3, 4, 1]
    assert priority_key(b(10)) < priority_key(b(11))  # booking id breaks ties


def leg(fid: int, dep: float, arr: float) -> Leg:
    return Leg(fid, "LH", str(fid), at(dep).date(), "FRA", "JFK", at(dep), at(arr))


def test_greedy_allocation_never_splits_a_party_and_minimises_inversions() -> None:
    early, late = leg(1, 2, 10), leg(2, 8, 16)
    snapshot = NetworkSnapshot([early, late], {(1, "Y"): 3, (2, "Y"): 2})
    party = b(1, tier=3, passengers=4)  # first pick, but no flight has 4 seats
    pair = b(2, tier=2, passengers=2)
    single = b(3, tier=1)
    last = b(4)
    result = allocate([last, single, pair, party], snapshot)

    got = {
        a.booking.booking_id: (a.option.itinerary.flight_ids if a.option else None) for a in result
    }
    assert got == {1: None, 2: (1,), 3: (1,), 4: (2,)}
    assert snapshot.free(1, "Y") == 0 and snapshot.free(2, "Y") == 1
    assert [a.booking.booking_id for a in result] == [1, 2, 3, 4]
    # the party's three inversions are unavoidable: no flight could take all four
    assert priority_inversions(result) == 3
    assert priority_inversions([a for a in result if a.booking is not party]) == 0

    # the same bookings served in reverse priority order: the single passengers take the early seats
    reverse = allocate(
        [last, single, pair, party],
        NetworkSnapshot([early, late], {(1, "Y"): 3, (2, "Y"): 2}),
        order=lambda xs: sorted(xs, key=priority_key, reverse=True),
    )
    got_rev = {
        a.booking.booking_id: (a.option.itinerary.flight_ids if a.option else None) for a in reverse
    }
    assert got_rev == {4: (1,), 3: (1,), 2: (2,), 1: None}
    assert priority_inversions(reverse) == 5


def option(delay_min: int) -> RankedOption:
    it = Itinerary(legs=(leg(1, 0, 1),), cabin="Y")
    return RankedOption(
        itinerary=it, score=float(delay_min), arrival_delay_min=delay_min, eu261_eur=0
    )


def test_priority_inversions_counts_pairs() -> None:
    high, mid, low = b(1, tier=3), b(2, tier=2), b(3, tier=1)
    assert (
        priority_inversions(
            [
                Allocation(high, option(60)),
                Allocation(mid, option(60)),
                Allocation(low, option(120)),
            ]
        )
        == 0
    )
    # low beats mid and high; mid beats high
    assert (
        priority_inversions(
            [
                Allocation(high, option(180)),
                Allocation(mid, option(120)),
                Allocation(low, option(60)),
            ]
        )
        == 3
    )
    # high got nothing: every lower booking that got something is an inversion; none for nothing vs nothing
    assert (
        priority_inversions(
            [Allocation(high, None), Allocation(mid, None), Allocation(low, option(600))]
        )
        == 2
    )
    assert priority_inversions([]) == 0
