"""The booking rules decide what a choice cancels, sells and moves from plain values, without a database."""

from __future__ import annotations

import datetime as dt

from rebooking_core.booking.rules import (
    Choice,
    CounterMove,
    CurrentBooking,
    Hold,
    OnRefuse,
    SeatChange,
    can_wait_for_commit,
    each_row_once,
    net_moves,
    plan_moves,
    plan_rewrite,
)
from rebooking_core.impact_rules import SegmentRow

T = dt.datetime(2026, 6, 1, 6, tzinfo=dt.UTC)


def seg(segment_id: int, seq: int, flight_id: int, origin: str, destination: str, hours: float, cabin: str = "Y") -> SegmentRow:
    dep = T + dt.timedelta(hours=hours)
    return SegmentRow(segment_id, 7, seq, flight_id, cabin, origin, destination, dep, dep + dt.timedelta(hours=1))


#: FRA-MUC (cancelled) and MUC-JFK, then JFK-FRA five days later (another journey).
OUTBOUND = (seg(1, 1, 10, "FRA", "MUC", 1), seg(2, 2, 11, "MUC", "JFK", 3))
BACK = seg(3, 3, 12, "JFK", "FRA", 120)
CHOICE = Choice(booking_id=7, option_id=50, flight_ids=(20, 21), cabin="Y", seats=2)


def test_the_disrupted_journey_from_the_option_s_origin_is_replaced_and_later_segments_move_up() -> None:
    rewrite = plan_rewrite(CHOICE, CurrentBooking((*OUTBOUND, BACK), (10,), "FRA", last_seq=3))
    assert rewrite is not None
    assert rewrite.replaced_ids == [1, 2] and rewrite.later
    assert rewrite.last_seq == 2 and rewrite.new_seqs == [3, 4]


def test_a_replaced_part_that_ends_the_booking_moves_nothing_up() -> None:
    rewrite = plan_rewrite(CHOICE, CurrentBooking(OUTBOUND, (10,), "FRA", last_seq=2))
    assert rewrite is not None and not rewrite.later


def test_an_inactive_later_segment_still_makes_room() -> None:
    rewrite = plan_rewrite(CHOICE, CurrentBooking(OUTBOUND, (10,), "FRA", last_seq=3))
    assert rewrite is not None and rewrite.later


def test_nothing_to_replace_when_the_booking_changed_elsewhere() -> None:
    assert plan_rewrite(CHOICE, CurrentBooking((), (), "", 0)) is None
    assert plan_rewrite(CHOICE, CurrentBooking((BACK,), (10,), "FRA", last_seq=3)) is None, "hit flight no longer booked"
    assert plan_rewrite(CHOICE, CurrentBooking(OUTBOUND, (10,), "CDG", last_seq=2)) is None, "no segment leaves from there"


def test_moves_commit_our_holds_sell_lost_legs_release_the_rest_and_give_old_seats_back() -> None:
    holds = [Hold(1, 50, 20, "Y", 2), Hold(2, 51, 30, "Y", 2)]  # leg 21's hold was lost; 51 is another option
    moves = plan_moves(CHOICE, holds, OUTBOUND)
    assert [(m.flight_id, m.change, m.on_refuse) for m in moves] == [
        (20, SeatChange.COMMIT, OnRefuse.RAISE),
        (21, SeatChange.SELL, OnRefuse.ABORT),
        (30, SeatChange.RELEASE, OnRefuse.RAISE),
        (10, SeatChange.UNSELL, OnRefuse.SKIP),
        (11, SeatChange.UNSELL, OnRefuse.SKIP),
    ]
    assert [m.delta for m in moves] == [(2, -2), (2, 0), (0, -2), (-2, 0), (-2, 0)]
    assert moves[0].undo == (SeatChange.UNSELL, SeatChange.HOLD) and moves[1].undo == (SeatChange.UNSELL,)
    assert not can_wait_for_commit(moves), "a sale can be refused for want of seats"


def test_every_leg_held_can_wait_for_the_commit_unless_a_row_moves_twice() -> None:
    held = plan_moves(CHOICE, [Hold(1, 50, 20, "Y", 2), Hold(2, 50, 21, "Y", 2)], OUTBOUND)
    assert can_wait_for_commit(held)
    twice = plan_moves(CHOICE, [Hold(1, 50, 20, "Y", 2), Hold(2, 50, 21, "Y", 2)], (seg(1, 1, 20, "FRA", "MUC", 1),))
    assert not each_row_once(twice) and not can_wait_for_commit(twice)


def test_net_moves_add_up_per_counter_row() -> None:
    moves = [
        CounterMove(20, "Y", 2, SeatChange.COMMIT, (), OnRefuse.RAISE),
        CounterMove(20, "Y", 1, SeatChange.UNSELL, (), OnRefuse.SKIP),
        CounterMove(21, "J", 3, SeatChange.RELEASE, (), OnRefuse.RAISE),
    ]
    assert net_moves(moves) == {(20, "Y"): (1, -2), (21, "J"): (0, -3)}
