"""The booking intent's lifecycle as values: which call an attempt makes, where each answer leaves it."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations.pnr_changes.rules import (
    UNCONFIRMED,
    Call,
    IntentPolicy,
    IntentState,
    Next,
    after,
    change_from_json,
    change_to_json,
    first_call,
    idempotency_key,
)
from rebooking_core.airline.ports import FlightKey, PnrChange, PnrOutcome, PnrSegment, PnrState

T0 = dt.datetime(2031, 3, 1, 8, 0, tzinfo=dt.UTC)
POLICY = IntentPolicy(
    retry_s=(2.0, 5.0, 30.0),
    poll_s=(3.0, 10.0),
    max_attempts=5,
    give_up_after=dt.timedelta(minutes=10),
)


def _after(
    state: IntentState, attempts: int, outcome: PnrOutcome | None, *, now: dt.datetime = T0
) -> Next:
    return after(POLICY, state=state, attempts=attempts, created_at=T0, now=now, outcome=outcome)


def test_only_the_first_attempt_sends_every_later_one_asks_first() -> None:
    assert first_call(IntentState.SENDING, 0) is Call.SEND
    assert first_call(IntentState.SENDING, 1) is Call.ASK, (
        "a timed-out or interrupted send may have arrived"
    )
    assert first_call(IntentState.PENDING, 1) is Call.ASK


@pytest.mark.parametrize("state", [IntentState.SENDING, IntentState.PENDING])
def test_confirmed_and_refused_end_it_whatever_the_attempt(state: IntentState) -> None:
    assert _after(state, 4, PnrOutcome(PnrState.CONFIRMED, version=3)) == Next(
        IntentState.CONFIRMED
    )
    assert _after(state, 99, PnrOutcome(PnrState.CONFIRMED)) == Next(IntentState.CONFIRMED), (
        "a late yes still books"
    )
    assert _after(state, 1, PnrOutcome(PnrState.REFUSED, reason="version_conflict")) == Next(
        IntentState.REFUSED, reason="version_conflict"
    )


def test_pending_is_polled_on_the_poll_schedule_its_last_step_repeating() -> None:
    pending = PnrOutcome(PnrState.PENDING)
    assert _after(IntentState.SENDING, 1, pending) == Next(
        IntentState.PENDING, T0 + dt.timedelta(seconds=3)
    )
    assert _after(IntentState.PENDING, 2, pending) == Next(
        IntentState.PENDING, T0 + dt.timedelta(seconds=10)
    )
    assert _after(IntentState.PENDING, 4, pending) == Next(
        IntentState.PENDING, T0 + dt.timedelta(seconds=10)
    )


def test_no_answer_keeps_the_state_and_backs_off() -> None:
    assert _after(IntentState.SENDING, 1, None) == Next(
        IntentState.SENDING, T0 + dt.timedelta(seconds=2)
    )
    assert _after(IntentState.SENDING, 2, None) == Next(
        IntentState.SENDING, T0 + dt.timedelta(seconds=5)
    )
    assert _after(IntentState.PENDING, 3, None) == Next(
        IntentState.PENDING, T0 + dt.timedelta(seconds=30)
    )
    assert _after(IntentState.PENDING, 4, None) == Next(
        IntentState.PENDING, T0 + dt.timedelta(seconds=30)
    )


def test_the_cap_hands_over_to_the_desk_by_attempts_or_by_time() -> None:
    assert _after(IntentState.SENDING, 5, None) == Next(IntentState.ESCALATED, reason=UNCONFIRMED)
    assert _after(IntentState.PENDING, 5, PnrOutcome(PnrState.PENDING)) == Next(
        IntentState.ESCALATED, reason=UNCONFIRMED
    )
    late = T0 + dt.timedelta(minutes=10)
    assert _after(IntentState.SENDING, 2, None, now=late) == Next(
        IntentState.ESCALATED, reason=UNCONFIRMED
    )
    assert (
        _after(IntentState.SENDING, 4, None, now=late - dt.timedelta(seconds=1)).state
        is IntentState.SENDING
    )


def test_the_key_is_stable_per_offer_and_option_and_differs_between_them() -> None:
    assert idempotency_key(7, 21) == idempotency_key(7, 21)
    assert len({idempotency_key(7, 21), idempotency_key(7, 22), idempotency_key(8, 21)}) == 3
    assert len(idempotency_key(2**62, 2**62)) <= 64


def test_a_change_survives_its_json_round_trip() -> None:
    day = dt.date(2031, 3, 1)
    change = PnrChange(
        locator="ABC123",
        cancel=(PnrSegment(FlightKey("LH", "100", day), "Y", "HX"),),
        sell=(
            PnrSegment(FlightKey("LH", "102", day), "Y", "HK"),
            PnrSegment(FlightKey("IB", "3001", day), "Y", "HK"),
        ),
        passengers=2,
        version=4,
    )
    assert change_from_json(change_to_json(change)) == change
    assert change_from_json(change_to_json(PnrChange("ABC123", (), (), 1))).version is None
