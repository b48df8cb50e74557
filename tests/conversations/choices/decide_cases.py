"""decide() cases of the passenger's own choices, run with the table's other cases (tests/conversations/test_decide.py)."""

from __future__ import annotations

import datetime as dt

from conversations.engine import (
    CancelTimer,
    ChoiceUnavailable,
    Command,
    DateGiven,
    Event,
    KeepChosen,
    LaterDateAsked,
    MakeOffer,
    MessageKind,
    OfferReason,
    RecordChoice,
    RefundChosen,
    RepliedAfterChoice,
    Send,
    Snapshot,
    Status,
)

S = Status
NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
LATEST = TODAY + dt.timedelta(days=14)
BASIS = "Regulation (EC) No 261/2004 Art. 5(1)(a), 8(1)(a)"


def _snap(status: Status) -> Snapshot:
    return Snapshot(
        status=status,
        now=NOW,
        offer_id=7,
        option_ids=(71, 72, 73),
        offer_expires_at=NOW + dt.timedelta(minutes=30),
    )


def _date(days: int) -> DateGiven:
    return DateGiven("sms", TODAY + dt.timedelta(days=days), TODAY, LATEST)


def _about(kind: MessageKind, choice: str) -> Send:
    return Send(kind, (("choice", choice),))


REFUNDED = (CancelTimer(), RecordChoice("refund", BASIS), Send(MessageKind.REFUND_RECORDED))
KEPT = (CancelTimer(), RecordChoice("keep"), Send(MessageKind.KEEP_CONFIRMED))

#: (name, state, event, status after, commands)
CHOICE_CASES: tuple[tuple[str, Snapshot, Event, Status, tuple[Command, ...]], ...] = (
    (
        "refund instead while offered",
        _snap(S.OFFERED),
        RefundChosen("sms", BASIS),
        S.CLOSED,
        REFUNDED,
    ),
    (
        "refund instead while waiting for an agent",
        _snap(S.ESCALATED),
        RefundChosen("page", BASIS),
        S.CLOSED,
        REFUNDED,
    ),
    ("keep my flight while offered", _snap(S.OFFERED), KeepChosen("whatsapp"), S.CLOSED, KEPT),
    (
        "keep my flight while waiting for an agent",
        _snap(S.ESCALATED),
        KeepChosen("sms"),
        S.CLOSED,
        KEPT,
    ),
    (
        "a later date asks which",
        _snap(S.OFFERED),
        LaterDateAsked("telegram"),
        S.OFFERED,
        (Send(MessageKind.ASK_DATE),),
    ),
    (
        "a date in range is searched",
        _snap(S.OFFERED),
        _date(3),
        S.OFFERED,
        (CancelTimer(), MakeOffer(OfferReason.LATER_DATE, TODAY + dt.timedelta(days=3))),
    ),
    (
        "a date beyond the range is told so",
        _snap(S.OFFERED),
        _date(15),
        S.OFFERED,
        (
            Send(
                MessageKind.DATE_OUT_OF_RANGE,
                (("earliest", TODAY.isoformat()), ("latest", LATEST.isoformat())),
            ),
        ),
    ),
    (
        "a choice not offered while offered",
        _snap(S.OFFERED),
        ChoiceUnavailable("sms", "refund"),
        S.OFFERED,
        (_about(MessageKind.CHOICE_NOT_OFFERED, "refund"),),
    ),
    (
        "a choice not offered while escalated",
        _snap(S.ESCALATED),
        ChoiceUnavailable("sms", "keep"),
        S.ESCALATED,
        (_about(MessageKind.CHOICE_NOT_OFFERED, "keep"),),
    ),
    (
        "refund while the booking is in flight",
        _snap(S.CONFIRMING),
        RefundChosen("sms", BASIS),
        S.CONFIRMING,
        (Send(MessageKind.ALREADY_BOOKED),),
    ),
    (
        "refund once booked",
        _snap(S.BOOKED),
        RefundChosen("sms", BASIS),
        S.BOOKED,
        (Send(MessageKind.ALREADY_BOOKED),),
    ),
    (
        "keep once booked",
        _snap(S.BOOKED),
        KeepChosen("sms"),
        S.BOOKED,
        (Send(MessageKind.ALREADY_BOOKED),),
    ),
    (
        "a reply after a refund: told again, nothing twice",
        _snap(S.CLOSED),
        RepliedAfterChoice("sms", "refund"),
        S.CLOSED,
        (_about(MessageKind.CHOICE_ALREADY, "refund"),),
    ),
    (
        "a date in the past is told so",
        _snap(S.OFFERED),
        _date(-1),
        S.OFFERED,
        (
            Send(
                MessageKind.DATE_OUT_OF_RANGE,
                (("earliest", TODAY.isoformat()), ("latest", LATEST.isoformat())),
            ),
        ),
    ),
    (
        "a refund after the lift closed it is ignored",
        _snap(S.CLOSED),
        RefundChosen("sms", BASIS),
        S.CLOSED,
        (),
    ),
)
