"""decide() cases of a booking changed at the PSS (a delta import), run with the table's other cases (test_decide.py)."""

from __future__ import annotations

import datetime as dt

from conversations.engine import (
    BookingChangedElsewhere,
    CancelTimer,
    Command,
    Event,
    MessageKind,
    Send,
    Snapshot,
    Status,
    Withdraw,
)

S = Status
NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def _snap(status: Status) -> Snapshot:
    return Snapshot(
        status=status,
        now=NOW,
        offer_id=7,
        option_ids=(71, 72),
        offer_expires_at=NOW + dt.timedelta(minutes=30),
    )


CHANGED = BookingChangedElsewhere()

#: (name, state, event, status after, commands): the disrupted flight left the booking, so the case closes.
BOOKING_CHANGE_CASES: tuple[tuple[str, Snapshot, Event, Status, tuple[Command, ...]], ...] = (
    ("booking changed before any offer", _snap(S.PENDING), CHANGED, S.CLOSED, (Withdraw(),)),
    (
        "booking changed while offered",
        _snap(S.OFFERED),
        CHANGED,
        S.CLOSED,
        (Withdraw(), Send(MessageKind.BOOKING_CHANGED), CancelTimer()),
    ),
    (
        "booking changed while escalated",
        _snap(S.ESCALATED),
        CHANGED,
        S.CLOSED,
        (Withdraw(), Send(MessageKind.BOOKING_CHANGED), CancelTimer()),
    ),
    (
        "booking changed while opted out: nothing sent",
        _snap(S.OPTED_OUT),
        CHANGED,
        S.CLOSED,
        (Withdraw(), CancelTimer()),
    ),
    (
        "booking changed while an agent owns it: a desk note, no message",
        _snap(S.AGENT),
        CHANGED,
        S.CLOSED,
        (Withdraw(), CancelTimer()),
    ),
    (
        "booking changed once booked: rebook's own booking stands",
        _snap(S.BOOKED),
        CHANGED,
        S.BOOKED,
        (),
    ),
)
