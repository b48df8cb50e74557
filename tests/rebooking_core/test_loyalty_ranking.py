"""Loyalty in ranking and allocation: preferences move options by documented weights, miles break equal tiers."""

from __future__ import annotations

import dataclasses

import pytest

from rebooking_core.allocation import allocate, order_for_allocation
from rebooking_core.impact import ImpactedBooking
from rebooking_core.network import Leg, NetworkSnapshot
from rebooking_core.options import Itinerary
from rebooking_core.preferences import Preferences, departs_in_window, normalised
from rebooking_core.ranking import DEFAULT_WEIGHTS, LoyaltyWeights, RankingWeights, rank, score
from tests.rebooking_core.factories import at

# T0 is 06:00 UTC on 1 June: 08:00 in Frankfurt (CEST), so at(h) leaves FRA at 08:00 + h local.
ORIGINAL_ARRIVAL = at(10)


def leg(fid: int, dep: float, arr: float, origin: str = "FRA", destination: str = "JFK") -> Leg:
    return Leg(fid, "RB", str(fid), at(dep).date(), origin, destination, at(dep), at(arr))


def direct(fid: int, dep: float, arr: float, cabin: str = "Y") -> Itinerary:
    return Itinerary(legs=(leg(fid, dep, arr),), cabin=cabin, cabin_change=cabin != "Y")


def via_munich(fid: int, dep: float, arr: float) -> Itinerary:
    return Itinerary(
        legs=(leg(fid, dep, dep + 1, "FRA", "MUC"), leg(fid + 1, dep + 2, arr, "MUC", "JFK")),
        cabin="Y",
    )


AFTERNOON_30_LATE = direct(1, 4, 10.5)  # leaves 12:00 local, 30 min late: score 30
MORNING_60_LATE = direct(2, 3.5, 11)  # leaves 11:30 local, 60 min late: score 60
CONNECTION_ON_TIME = via_munich(10, 2, 10)  # one stop, on time: score 60
NONSTOP_90_LATE = direct(3, 5, 11.5)  # score 90
NONSTOP_120_LATE = direct(4, 6, 12)  # score 120
Y_100_LATE = direct(5, 3, 11 + 2 / 3)  # score 100
J_ON_TIME = direct(6, 2, 10, cabin="J")  # cabin change: score 120

CASES: list[tuple[str, dict[str, str] | None, list[Itinerary], list[Itinerary]]] = [
    # (case, preferences, candidates, best first)
    (
        "no profile: today's order",
        None,
        [MORNING_60_LATE, AFTERNOON_30_LATE],
        [AFTERNOON_30_LATE, MORNING_60_LATE],
    ),
    (
        "only preferences ranking ignores",
        {"seat": "aisle", "meal": "VGML"},
        [MORNING_60_LATE, AFTERNOON_30_LATE],
        [AFTERNOON_30_LATE, MORNING_60_LATE],
    ),
    (
        "morning window wins 30 minutes back",
        {"time": "morning"},
        [AFTERNOON_30_LATE, MORNING_60_LATE],
        [MORNING_60_LATE, AFTERNOON_30_LATE],
    ),
    (
        "afternoon window keeps the afternoon first",
        {"time": "afternoon"},
        [MORNING_60_LATE, AFTERNOON_30_LATE],
        [AFTERNOON_30_LATE, MORNING_60_LATE],
    ),
    (
        "no connection: non-stop 90 late over a connection on time",
        {"avoid_connection": "yes"},
        [CONNECTION_ON_TIME, NONSTOP_90_LATE],
        [NONSTOP_90_LATE, CONNECTION_ON_TIME],
    ),
    (
        "no connection never buys hours",
        {"avoid_connection": "yes"},
        [NONSTOP_120_LATE, CONNECTION_ON_TIME],
        [CONNECTION_ON_TIME, NONSTOP_120_LATE],
    ),
    (
        "avoid_connection=no is no preference",
        {"avoid_connection": "no"},
        [NONSTOP_90_LATE, CONNECTION_ON_TIME],
        [CONNECTION_ON_TIME, NONSTOP_90_LATE],
    ),
    (
        "preferred cabin over a later flight in the booked one",
        {"cabin": "j"},
        [Y_100_LATE, J_ON_TIME],
        [J_ON_TIME, Y_100_LATE],
    ),
    (
        "booked cabin preferred: the other cabin stays behind",
        {"cabin": "Y"},
        [J_ON_TIME, Y_100_LATE],
        [Y_100_LATE, J_ON_TIME],
    ),
]


@pytest.mark.parametrize(
    ("case", "preferences", "candidates", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_preferences_reorder_options_by_their_weights(
    case: str,
    preferences: dict[str, str] | None,
    candidates: list[Itinerary],
    expected: list[Itinerary],
) -> None:
    ranked = rank(
        candidates,
        original_arrival=ORIGINAL_ARRIVAL,
        cabin="Y",
        preferences=normalised(preferences),
    )
    assert [r.itinerary for r in ranked] == expected, case


@pytest.mark.parametrize("candidates", [c[2] for c in CASES])
def test_without_preferences_every_score_is_today_s(candidates: list[Itinerary]) -> None:
    for it in candidates:
        plain = score(
            it,
            original_arrival=ORIGINAL_ARRIVAL,
            cabin="Y",
            eu261_amount=50,
            weights=DEFAULT_WEIGHTS,
        )
        # today's formula, written out: lateness, stops, cabin change, EU261
        delay = int((it.arr_utc - ORIGINAL_ARRIVAL).total_seconds() // 60)
        expected = delay + 60.0 * it.stops + (120.0 if it.cabin != "Y" else 0.0) + 50 * 0.2
        assert plain == expected
        assert (
            score(
                it,
                original_arrival=ORIGINAL_ARRIVAL,
                cabin="Y",
                eu261_amount=50,
                weights=DEFAULT_WEIGHTS,
                preferences=(),
            )
            == plain
        )


def test_each_matched_preference_takes_its_weight_off_the_score() -> None:
    w = RankingWeights(
        loyalty=LoyaltyWeights(preferred_cabin=7.0, departure_window=11.0, nonstop=13.0)
    )
    everything = normalised({"cabin": "J", "time": "morning", "avoid_connection": "yes"})
    morning_j = direct(7, 2, 10, cabin="J")  # leaves 10:00 local, non-stop, in J
    base = score(morning_j, original_arrival=ORIGINAL_ARRIVAL, cabin="Y", eu261_amount=0, weights=w)
    assert (
        score(
            morning_j,
            original_arrival=ORIGINAL_ARRIVAL,
            cabin="Y",
            eu261_amount=0,
            weights=w,
            preferences=everything,
        )
        == base - 31.0
    )
    off = RankingWeights(loyalty=LoyaltyWeights(0.0, 0.0, 0.0))
    assert (
        score(
            morning_j,
            original_arrival=ORIGINAL_ARRIVAL,
            cabin="Y",
            eu261_amount=0,
            weights=off,
            preferences=everything,
        )
        == base
    )


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (None, ()),
        ({}, ()),
        ({"seat": "aisle"}, ()),
        ({"cabin": "j", "time": " Morning "}, (("cabin", "J"), ("time", "morning"))),
        ({"cabin": "F"}, ()),
        ({"time": "brunch"}, ()),
        ({"avoid_connection": "YES"}, (("avoid_connection", "yes"),)),
        ({"avoid_connection": "no"}, ()),
        ([("time", "night"), ("cabin", "Y")], (("cabin", "Y"), ("time", "night"))),
    ],
)
def test_normalised_keeps_what_ranking_understands(
    given: dict[str, str] | None, kept: Preferences
) -> None:
    assert normalised(given) == kept


@pytest.mark.parametrize(
    ("dep_hours", "window", "inside"),
    [
        (-3, "morning", True),  # 05:00 local
        (-3.5, "morning", False),  # 04:30 local: night
        (-3.5, "night", True),
        (15.5, "night", True),  # 23:30 local
        (10, "evening", True),  # 18:00 local
        (9.9, "evening", False),
    ],
)
def test_departure_windows_are_local_time_at_the_origin(
    dep_hours: float, window: str, inside: bool
) -> None:
    assert (
        departs_in_window(direct(1, dep_hours, dep_hours + 8), normalised({"time": window}))
        is inside
    )


def test_an_unknown_airport_matches_no_window() -> None:
    somewhere = Itinerary(legs=(leg(1, 2, 10, "QQQ", "JFK"),), cabin="Y")
    assert departs_in_window(somewhere, normalised({"time": "morning"})) is False


BASE = ImpactedBooking(
    booking_id=0,
    locator="X",
    passengers=1,
    contact_passenger_id=1,
    tier=2,
    language="en",
    has_ssr=False,
    group=False,
    cabin="Y",
    rebook_from="FRA",
    destination="JFK",
    not_before=at(0),
    original_arrival=ORIGINAL_ARRIVAL,
    replaced_segment_ids=(1,),
    missed_connection=False,
    disrupted_flight_id=99,
    reason=None,
    replaced_flight_ids=(99,),
)


def b(booking_id: int, **kw: object) -> ImpactedBooking:
    return dataclasses.replace(BASE, booking_id=booking_id, **kw)  # type: ignore[arg-type]


def test_miles_give_the_scarce_seat_to_the_more_loyal_of_equal_tiers() -> None:
    early, late = leg(1, 2, 10), leg(2, 12, 20)
    bookings = [b(1, miles=12_000), b(2, miles=480_000), b(3)]
    snapshot = NetworkSnapshot([early, late], {(1, "Y"): 1, (2, "Y"): 3})
    got = {
        a.booking.booking_id: a.option.itinerary.flight_ids if a.option else None
        for a in allocate(bookings, snapshot)
    }
    assert got == {2: (1,), 1: (2,), 3: (2,)}
    # without miles the booking id decides, as before
    plain = [dataclasses.replace(x, miles=0) for x in bookings]
    got_plain = {
        a.booking.booking_id: a.option.itinerary.flight_ids if a.option else None
        for a in allocate(plain, NetworkSnapshot([early, late], {(1, "Y"): 1, (2, "Y"): 3}))
    }
    assert got_plain == {1: (1,), 2: (2,), 3: (2,)}


def test_miles_never_beat_urgency_tier_or_party_size() -> None:
    rich = b(1, miles=9_000_000)
    ordered = order_for_allocation(
        [
            rich,
            b(2, missed_connection=True),
            b(3, tier=3),
            b(4, passengers=3),
            b(5, has_ssr=True),
            b(6, miles=10),
        ]
    )
    assert [x.booking_id for x in ordered] == [2, 5, 3, 4, 1, 6]


def test_allocation_ranks_each_booking_by_its_own_preferences() -> None:
    morning, afternoon = (
        leg(1, 3.5, 11),
        leg(2, 4, 10.5),
    )  # 11:30 local 60 late; 12:00 local 30 late
    snapshot = NetworkSnapshot([morning, afternoon], {(1, "Y"): 5, (2, "Y"): 5})
    early_riser = b(1, preferences=normalised({"time": "morning"}))
    no_profile = b(2)
    got = {
        a.booking.booking_id: a.option.itinerary.flight_ids if a.option else None
        for a in allocate([early_riser, no_profile], snapshot)
    }
    assert got == {1: (1,), 2: (2,)}
