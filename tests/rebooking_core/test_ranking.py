"""Ranking: delay, stops, cabin change and EU261 cost; weights as A/B variants."""

from __future__ import annotations

from rebooking_core.network import Leg
from rebooking_core.options import Itinerary
from rebooking_core.ranking import RankingWeights, arrival_delay_min, rank, score
from tests.rebooking_core.factories import at

ORIGINAL_ARRIVAL = at(4)


def it(*spans: tuple[float, float], cabin: str = "Y", fid: int = 1) -> Itinerary:
    legs = tuple(
        Leg(fid + i, "LH", str(fid + i), at(d).date(), f"A{i}", f"A{i + 1}", at(d), at(a))
        for i, (d, a) in enumerate(spans)
    )
    return Itinerary(legs=legs, cabin=cabin, cabin_change=cabin != "Y")


def test_score_components() -> None:
    w = RankingWeights()
    direct = it((5, 7))  # 3 h late
    assert arrival_delay_min(direct, ORIGINAL_ARRIVAL) == 180
    assert (
        score(direct, original_arrival=ORIGINAL_ARRIVAL, cabin="Y", eu261_amount=0, weights=w)
        == 180
    )
    assert (
        score(direct, original_arrival=ORIGINAL_ARRIVAL, cabin="Y", eu261_amount=400, weights=w)
        == 180 + 400 * w.per_eu261_euro
    )
    one_stop = it((3, 4), (5, 7), fid=10)
    assert (
        score(one_stop, original_arrival=ORIGINAL_ARRIVAL, cabin="Y", eu261_amount=0, weights=w)
        == 180 + w.per_stop
    )
    other_cabin = it((5, 7), cabin="J")
    assert (
        score(other_cabin, original_arrival=ORIGINAL_ARRIVAL, cabin="Y", eu261_amount=0, weights=w)
        == 180 + w.cabin_change
    )
    early = it((1, 3))  # one hour early: cheaper than late, not free
    assert (
        score(early, original_arrival=ORIGINAL_ARRIVAL, cabin="Y", eu261_amount=0, weights=w)
        == 60 * w.per_early_minute
    )


def test_rank_orders_by_score_then_arrival() -> None:
    late_direct = it((8, 10), fid=1)  # 360 min late
    quick_connection = it((4, 5), (6, 7), fid=10)  # 180 + 60
    downgrade = it((4, 6), cabin="J", fid=20)  # 120 + 120
    soon_direct = it((5, 7), fid=30)  # 180
    ranked = rank(
        [late_direct, quick_connection, downgrade, soon_direct],
        original_arrival=ORIGINAL_ARRIVAL,
        cabin="Y",
    )
    # equal scores: the earlier arrival first
    assert [r.itinerary for r in ranked] == [soon_direct, downgrade, quick_connection, late_direct]
    assert [r.score for r in ranked] == [180, 240, 240, 360]
    assert [r.arrival_delay_min for r in ranked] == [180, 120, 180, 360]


def test_eu261_cost_and_weights_change_the_order() -> None:
    a = it((5, 7), fid=1)  # 180 min late, costs 600
    b = it((6, 8), fid=2)  # 240 min late, costs nothing
    cost = {a: 600, b: 0}
    plain = rank(
        [a, b], original_arrival=ORIGINAL_ARRIVAL, cabin="Y", eu261_amount=cost.__getitem__
    )
    assert [r.itinerary for r in plain] == [b, a]
    assert [r.eu261_eur for r in plain] == [0, 600]
    passenger_first = RankingWeights(name="B", per_eu261_euro=0.0)
    variant = rank(
        [a, b],
        original_arrival=ORIGINAL_ARRIVAL,
        cabin="Y",
        weights=passenger_first,
        eu261_amount=cost.__getitem__,
    )
    assert [r.itinerary for r in variant] == [a, b]


def test_ties_are_deterministic() -> None:
    x = it((5, 7), fid=5)
    y = it((5, 7), fid=3)
    assert [r.itinerary for r in rank([x, y], original_arrival=ORIGINAL_ARRIVAL, cabin="Y")] == [
        y,
        x,
    ]
    assert [r.itinerary for r in rank([y, x], original_arrival=ORIGINAL_ARRIVAL, cabin="Y")] == [
        y,
        x,
    ]
