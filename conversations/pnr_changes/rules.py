"""The booking intent's lifecycle as plain values: which call comes next, and where an answer leaves the intent.

No database, no clock: `first_call` says whether an attempt sends the change or asks what became of
it, and `after` turns the PSS's answer (or its silence) into the next state and time. An intent is
sent once as such; every later attempt asks `change_status` first, because the earlier send may
have arrived (a timeout, a worker killed after the call): only UNKNOWN ("never arrived") sends again,
with the same key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rebooking_core.airline.ports import FlightKey, PnrChange, PnrOutcome, PnrSegment, PnrState

__all__ = [
    "Call",
    "IntentPolicy",
    "IntentState",
    "Next",
    "after",
    "change_from_json",
    "change_to_json",
    "first_call",
    "idempotency_key",
]


class IntentState(StrEnum):
    #: To be sent, or sent with no answer yet (timed out, or the worker died): the PSS is asked first.
    SENDING = "sending"
    #: The PSS accepted it and confirms later: asked with `change_status` until it does.
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REFUSED = "refused"
    #: No answer within the cap: the desk checks the PNR (reason `pss_unconfirmed`).
    ESCALATED = "escalated"


#: The states the pump still drives.
LIVE = (IntentState.SENDING, IntentState.PENDING)

#: The escalation reason the desk sees when the PSS never confirmed.
UNCONFIRMED = "pss_unconfirmed"


class Call(StrEnum):
    SEND = "send"
    ASK = "ask"


@dataclass(frozen=True)
class IntentPolicy:
    """How long a call may take, how often to try again, and when to hand over to the desk."""

    lease: dt.timedelta = dt.timedelta(seconds=60)
    #: Seconds to wait after the n-th attempt without an answer (the last one repeats).
    retry_s: tuple[float, ...] = (2.0, 5.0, 15.0, 30.0, 60.0)
    #: Seconds between questions to a PSS that accepted and will confirm later (the last one repeats).
    poll_s: tuple[float, ...] = (2.0, 5.0, 10.0, 30.0, 60.0)
    max_attempts: int = 20
    give_up_after: dt.timedelta = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Next:
    """Where an attempt leaves the intent: its state, when the pump takes it again (live states), a reason."""

    state: IntentState
    at: dt.datetime | None = None
    reason: str | None = None


def idempotency_key(offer_id: int, option_id: int) -> str:
    """Stable across retries and workers: an offer is accepted once, so offer and option name one attempt to book."""
    return f"rebook-o{offer_id}-p{option_id}"


def first_call(state: IntentState, attempts_before: int) -> Call:
    """Send only on an intent's very first attempt; afterwards the earlier send may have arrived, so ask."""
    return Call.SEND if state is IntentState.SENDING and attempts_before == 0 else Call.ASK


def after(
    policy: IntentPolicy,
    *,
    state: IntentState,
    attempts: int,
    created_at: dt.datetime,
    now: dt.datetime,
    outcome: PnrOutcome | None,
) -> Next:
    """The intent after attempt number `attempts` (counted from 1) got `outcome` (None: no answer, `PssUnavailable`)."""
    if outcome is not None and outcome.state is PnrState.CONFIRMED:
        return Next(IntentState.CONFIRMED)
    if outcome is not None and outcome.state is PnrState.REFUSED:
        return Next(IntentState.REFUSED, reason=outcome.reason)
    if attempts >= policy.max_attempts or now - created_at >= policy.give_up_after:
        return Next(IntentState.ESCALATED, reason=UNCONFIRMED)
    if outcome is not None and outcome.state is PnrState.PENDING:
        return Next(IntentState.PENDING, now + _step(policy.poll_s, attempts))
    # No answer, or UNKNOWN to a question already answered by a send: ask again later, in the state it was.
    return Next(state, now + _step(policy.retry_s, attempts))


def _step(schedule: tuple[float, ...], attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=schedule[min(max(attempts, 1), len(schedule)) - 1])


def change_to_json(change: PnrChange) -> dict[str, Any]:
    return {
        "locator": change.locator,
        "cancel": [_segment_json(s) for s in change.cancel],
        "sell": [_segment_json(s) for s in change.sell],
        "passengers": change.passengers,
        "version": change.version,
    }


def change_from_json(data: dict[str, Any]) -> PnrChange:
    return PnrChange(
        locator=str(data["locator"]),
        cancel=tuple(_segment(s) for s in data["cancel"]),
        sell=tuple(_segment(s) for s in data["sell"]),
        passengers=int(data["passengers"]),
        version=None if data.get("version") is None else int(data["version"]),
    )


def _segment_json(segment: PnrSegment) -> dict[str, str]:
    f = segment.flight
    return {
        "carrier": f.carrier,
        "number": f.number,
        "date": f.date.isoformat(),
        "cabin": segment.cabin,
        "status": segment.status,
    }


def _segment(data: dict[str, str]) -> PnrSegment:
    flight = FlightKey(data["carrier"], data["number"], dt.date.fromisoformat(data["date"]))
    return PnrSegment(flight, data["cabin"], data["status"])
