"""The engine's rows for protect first and change after booking, on the pure decide()."""

from __future__ import annotations

import dataclasses
import datetime as dt

from consent.keywords import Keyword
from conversations.engine import (
    Change,
    ChangeConfirmed,
    ChangeFailed,
    KeywordReceived,
    MakeOffer,
    MessageKind,
    NoOptions,
    OfferReason,
    OffersReady,
    OptionChosen,
    Policy,
    Protected,
    Send,
    Snapshot,
    Status,
    TimerFired,
    TimerKind,
    decide,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
S = Status


def booked(*, protected: bool = False, **kw: object) -> Snapshot:
    base = Snapshot(status=S.BOOKED, now=NOW, offer_id=9, booked_option_id=71, protected=protected)
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_a_protection_books_at_once_and_starts_no_timer() -> None:
    decision = decide(Snapshot(status=S.PENDING, now=NOW), Protected(9, 71))
    assert decision.status is S.BOOKED
    assert decision.commands == (Send(MessageKind.PROTECTED),)


def test_silence_never_escalates_a_protection() -> None:
    for kind in TimerKind:
        decision = decide(booked(protected=True), TimerFired(kind), Policy(on_deadline="escalate"))
        assert (decision.status, decision.commands) == (S.BOOKED, ())


def test_another_option_of_a_protection_is_a_change_until_the_cut_off() -> None:
    policy = Policy(change_cutoff=dt.timedelta(hours=3))
    decision = decide(booked(protected=True), OptionChosen(9, 72, "sms"), policy)
    assert decision.status is S.BOOKED
    assert decision.commands == (Change(9, 72, NOW + dt.timedelta(hours=3)),)


def test_the_protected_option_itself_is_already_booked() -> None:
    decision = decide(booked(protected=True), OptionChosen(9, 71, "sms"))
    assert decision.commands == (Send(MessageKind.ALREADY_BOOKED),)


def test_after_the_passengers_own_choice_a_second_answer_is_acknowledged_not_a_change() -> None:
    decision = decide(booked(protected=False), OptionChosen(9, 72, "sms"))
    assert decision.commands == (Send(MessageKind.ALREADY_BOOKED),)


def test_an_option_of_fresh_options_is_a_change() -> None:
    snap = booked(option_ids=(81, 82), offer_expires_at=NOW + dt.timedelta(minutes=30))
    decision = decide(snap, OptionChosen(9, 82, "sms"))
    assert [type(c) for c in decision.commands] == [Change]
    expired = booked(option_ids=(81, 82), offer_expires_at=NOW - dt.timedelta(minutes=1))
    assert decide(expired, OptionChosen(9, 82, "sms")).commands == (
        Send(MessageKind.ALREADY_BOOKED),
    )


def test_what_a_change_comes_to() -> None:
    cases = {
        ChangeConfirmed(72): (Send(MessageKind.BOOKED),),
        ChangeFailed("unavailable"): (MakeOffer(OfferReason.SEAT_GONE),),
        ChangeFailed("too_late"): (Send(MessageKind.CHANGE_CLOSED),),
        ChangeFailed("expired"): (Send(MessageKind.ALREADY_BOOKED),),
    }
    for event, commands in cases.items():
        decision = decide(booked(protected=True), event)
        assert (decision.status, decision.commands) == (S.BOOKED, commands), event


def test_fresh_options_after_booking_keep_the_booking() -> None:
    assert decide(booked(), KeywordReceived(Keyword.MORE, "sms")).commands == (
        MakeOffer(OfferReason.REFRESHED),
    )
    ready = OffersReady(10, (81, 82), NOW + dt.timedelta(minutes=30), OfferReason.REFRESHED)
    assert (decide(booked(), ready).status, decide(booked(), ready).commands) == (
        S.BOOKED,
        (Send(MessageKind.OFFER_REFRESHED),),
    )
    assert decide(booked(), NoOptions()).commands == (Send(MessageKind.CHANGE_NO_OPTIONS),)
