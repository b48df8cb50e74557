"""The pure decide(): every row of TRANSITIONS exercised, and the rules that protect passengers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pytest

from consent.keywords import Keyword
from conversations.engine import (
    TRANSITIONS,
    AgentBooked,
    AgentClaimed,
    AgentClosed,
    AgentOfferedRefund,
    AgentReleased,
    AgentReplied,
    AgentSentVoucher,
    Book,
    BookingConfirmed,
    BookingFailed,
    BookingUnconfirmed,
    CancelTimer,
    Change,
    ChangeConfirmed,
    ChangeFailed,
    Command,
    Decision,
    DeliveryFailed,
    DisruptionUpdated,
    Escalate,
    Event,
    KeywordReceived,
    MakeOffer,
    MessageKind,
    NoOptions,
    OfferReason,
    OffersReady,
    OffersWithdrawn,
    OptionChosen,
    OptionsRequested,
    Policy,
    Protected,
    ProtectionSent,
    RecordChoice,
    RefundChosen,
    RepliedAfterLift,
    Send,
    SetConsent,
    Snapshot,
    StartTimer,
    Status,
    TextReceived,
    TimerFired,
    TimerKind,
    Transition,
    Withdraw,
    decide,
)
from tests.conversations.booking_change_cases import BOOKING_CHANGE_CASES
from tests.conversations.choices.decide_cases import CHOICE_CASES

S = Status
NOW = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
OFFER = 7
OPTIONS = (71, 72, 73)
EXPIRES = NOW + dt.timedelta(minutes=30)
OFFERED_AT = NOW - dt.timedelta(minutes=5)
POLICY = Policy()
PROTECT = Policy(on_deadline="protect")
REMIND_AT = NOW + POLICY.reminder_after
DEADLINE_AT = OFFERED_AT + POLICY.deadline_after


def snap(status: Status, **changes: object) -> Snapshot:
    """A conversation holding an open offer of three options, offered five minutes ago."""
    base = Snapshot(
        status=status,
        now=NOW,
        offer_id=OFFER,
        option_ids=OPTIONS,
        offer_expires_at=EXPIRES,
        offered_at=OFFERED_AT,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def kw(word: Keyword, channel: str = "sms") -> KeywordReceived:
    return KeywordReceived(word, channel)


def chosen(option_id: int = 72, offer_id: int = OFFER) -> OptionChosen:
    return OptionChosen(offer_id, option_id, "whatsapp")


READY = OffersReady(OFFER, OPTIONS, EXPIRES)


@dataclass(frozen=True)
class Case:
    name: str
    state: Snapshot
    event: Event
    status: Status
    commands: tuple[Command, ...]
    policy: Policy = POLICY


CASES: tuple[Case, ...] = (
    # keywords
    Case("STOP while offered", snap(S.OFFERED), kw(Keyword.STOP), S.OPTED_OUT,
         (SetConsent("sms", False), Send(MessageKind.STOP_ACK), CancelTimer())),
    Case("START after opting out", snap(S.OPTED_OUT), kw(Keyword.START, "whatsapp"), S.OFFERED,
         (SetConsent("whatsapp", True), Send(MessageKind.START_ACK), MakeOffer(OfferReason.REFRESHED))),
    Case("STOP twice", snap(S.OPTED_OUT), kw(Keyword.STOP), S.OPTED_OUT, ()),
    # first contact
    Case("offer ready", snap(S.PENDING, offer_id=None, option_ids=(), offer_expires_at=None, offered_at=None),
         READY, S.OFFERED, (Send(MessageKind.OFFER), StartTimer(TimerKind.REMINDER, REMIND_AT))),
    Case("nothing to offer", snap(S.PENDING, offer_id=None, option_ids=()), NoOptions(), S.ESCALATED,
         (Send(MessageKind.ESCALATED_NO_OPTIONS), Escalate("no_options"))),
    # waiting for a choice
    Case("current choice", snap(S.OFFERED), chosen(72), S.CONFIRMING, (CancelTimer(), Book(OFFER, 72))),
    Case("choice after expiry", snap(S.OFFERED, now=EXPIRES), chosen(72), S.OFFERED,
         (MakeOffer(OfferReason.REFRESHED),)),
    Case("re-offer while offered", snap(S.OFFERED), OffersReady(8, (81,), EXPIRES, OfferReason.SEAT_GONE), S.OFFERED,
         (Send(MessageKind.OFFER_SEAT_GONE), StartTimer(TimerKind.REMINDER, REMIND_AT))),
    Case("options gone while offered", snap(S.OFFERED), NoOptions(), S.ESCALATED,
         (Send(MessageKind.ESCALATED_NO_OPTIONS), Escalate("no_options"), CancelTimer())),
    Case("see options tapped", snap(S.OFFERED), OptionsRequested("whatsapp"), S.OFFERED, (Send(MessageKind.OFFER),)),
    Case("MORE", snap(S.OFFERED), kw(Keyword.MORE), S.OFFERED, (Send(MessageKind.OFFER),)),
    Case("AGENT while offered", snap(S.OFFERED), kw(Keyword.AGENT), S.ESCALATED,
         (Send(MessageKind.ESCALATED_AGENT), Escalate("passenger_request"), CancelTimer())),
    Case("HELP while offered", snap(S.OFFERED), kw(Keyword.HELP), S.ESCALATED,
         (Send(MessageKind.HELP), Escalate("passenger_request"), CancelTimer())),
    Case("'stop please'", snap(S.OFFERED), TextReceived("sms", Keyword.STOP), S.OFFERED, (Send(MessageKind.STOP_HINT),)),
    Case("free text", snap(S.OFFERED), TextReceived("sms"), S.OFFERED, (Send(MessageKind.NOT_UNDERSTOOD),)),
    Case("reminder", snap(S.OFFERED), TimerFired(TimerKind.REMINDER), S.OFFERED,
         (Send(MessageKind.REMINDER), StartTimer(TimerKind.DEADLINE, DEADLINE_AT))),
    Case("deadline, protect", snap(S.OFFERED, reminders_sent=1), TimerFired(TimerKind.DEADLINE), S.CONFIRMING,
         (CancelTimer(), Book(OFFER, 71)), PROTECT),
    Case("deadline, escalate", snap(S.OFFERED, reminders_sent=1), TimerFired(TimerKind.DEADLINE), S.ESCALATED,
         (Send(MessageKind.ESCALATED_DEADLINE), Escalate("deadline"), CancelTimer())),
    Case("unreachable", snap(S.OFFERED), DeliveryFailed("no_channel"), S.ESCALATED,
         (Escalate("unreachable"), CancelTimer())),
    # booking in flight
    Case("booked", snap(S.CONFIRMING), BookingConfirmed(72), S.BOOKED, (Send(MessageKind.BOOKED),)),
    Case("seat gone", snap(S.CONFIRMING), BookingFailed("unavailable"), S.OFFERED, (MakeOffer(OfferReason.SEAT_GONE),)),
    Case(
        "pss never confirmed",
        snap(S.CONFIRMING),
        BookingUnconfirmed(),
        S.ESCALATED,
        (Send(MessageKind.ESCALATED_AGENT), Escalate("pss_unconfirmed")),
    ),
    Case(
        "pss never confirmed a change after booking",
        snap(S.BOOKED, booked_option_id=71),
        BookingUnconfirmed(),
        S.ESCALATED,
        (Send(MessageKind.ESCALATED_AGENT), Escalate("pss_unconfirmed")),
    ),
    Case("booking changed elsewhere", snap(S.CONFIRMING), BookingFailed("changed"), S.CLOSED,
         (Send(MessageKind.BOOKING_CHANGED),)),
    Case("second choice while confirming", snap(S.CONFIRMING), chosen(71), S.CONFIRMING,
         (Send(MessageKind.ALREADY_BOOKED),)),
    # done
    # (the offer a passenger chose from is accepted: it shows no open options)
    Case("second choice when booked", snap(S.BOOKED, booked_option_id=72, option_ids=(), offer_expires_at=None), chosen(71),
         S.BOOKED, (Send(MessageKind.ALREADY_BOOKED),)),
    # protect first, and choosing again after booking (tests/conversations/protect/)
    Case("protected at once", snap(S.PENDING), Protected(OFFER, 71), S.BOOKED, (Send(MessageKind.PROTECTED),)),
    Case("protection sent to a remote PSS, unsaid", snap(S.PENDING), ProtectionSent(OFFER, 71), S.CONFIRMING, ()),
    Case("protection confirmed by the PSS", snap(S.CONFIRMING), Protected(OFFER, 71), S.BOOKED,
         (Send(MessageKind.PROTECTED),)),
    Case("another option of a protection", snap(S.BOOKED, booked_option_id=71, option_ids=(), protected=True), chosen(72),
         S.BOOKED, (Change(OFFER, 72, NOW + POLICY.change_cutoff),)),
    Case("change confirmed", snap(S.BOOKED), ChangeConfirmed(72), S.BOOKED, (Send(MessageKind.BOOKED),)),
    Case("change: seat gone", snap(S.BOOKED), ChangeFailed("unavailable"), S.BOOKED, (MakeOffer(OfferReason.SEAT_GONE),)),
    Case("change: too late", snap(S.BOOKED), ChangeFailed("too_late"), S.BOOKED, (Send(MessageKind.CHANGE_CLOSED),)),
    Case("change: expired", snap(S.BOOKED), ChangeFailed("expired"), S.BOOKED, (Send(MessageKind.ALREADY_BOOKED),)),
    Case("options asked after booking", snap(S.BOOKED), OptionsRequested("sms"), S.BOOKED, (MakeOffer(OfferReason.REFRESHED),)),
    Case("MORE after booking", snap(S.BOOKED), kw(Keyword.MORE), S.BOOKED, (MakeOffer(OfferReason.REFRESHED),)),
    Case("fresh options after booking", snap(S.BOOKED), READY, S.BOOKED, (Send(MessageKind.OFFER),)),
    Case("no fresh options after booking", snap(S.BOOKED), NoOptions(), S.BOOKED, (Send(MessageKind.CHANGE_NO_OPTIONS),)),
    Case("AGENT when booked", snap(S.BOOKED), kw(Keyword.AGENT), S.ESCALATED,
         (Send(MessageKind.ESCALATED_AGENT), Escalate("passenger_request"))),
    Case("HELP when booked", snap(S.BOOKED), kw(Keyword.HELP), S.BOOKED, (Send(MessageKind.HELP),)),
    # waiting for an agent
    Case("choice while escalated", snap(S.ESCALATED), chosen(73), S.CONFIRMING, (Book(OFFER, 73),)),
    Case("stale choice while escalated", snap(S.ESCALATED), chosen(73, offer_id=6), S.ESCALATED,
         (Send(MessageKind.ESCALATED_AGENT),)),
    Case("AGENT again", snap(S.ESCALATED), kw(Keyword.AGENT), S.ESCALATED, (Send(MessageKind.ESCALATED_AGENT),)),
    Case("HELP while escalated", snap(S.ESCALATED), kw(Keyword.HELP), S.ESCALATED, (Send(MessageKind.HELP),)),
    Case("agent claims", snap(S.ESCALATED), AgentClaimed("a1"), S.AGENT, (CancelTimer(),)),
    Case("offer while escalated", snap(S.ESCALATED), READY, S.OFFERED,
         (Send(MessageKind.OFFER), StartTimer(TimerKind.REMINDER, REMIND_AT))),
    # an agent owns it
    Case("agent books", snap(S.AGENT), AgentBooked(72), S.CONFIRMING, (Book(OFFER, 72),)),
    Case("agent hands back", snap(S.AGENT), AgentReleased("a1"), S.OFFERED, (MakeOffer(OfferReason.REFRESHED),)),
    Case("agent hands back after a refund", snap(S.AGENT), AgentReleased("a1", refunded=True), S.CLOSED, (CancelTimer(),)),
    Case("offer while an agent owns it", snap(S.AGENT), READY, S.AGENT, ()),
    Case("agent closes", snap(S.AGENT), AgentClosed("a1"), S.CLOSED, (Withdraw(), CancelTimer())),
    Case("agent closes after a failed rebook re-offered", snap(S.OFFERED), AgentClosed("a1"), S.CLOSED, (Withdraw(), CancelTimer())),
    Case("agent closes an opted-out passenger's case", snap(S.OPTED_OUT), AgentClosed("a1"), S.CLOSED, (Withdraw(), CancelTimer())),
    Case("agent replies", snap(S.AGENT), AgentReplied("a1", "sealed", "e5-t1.2"), S.AGENT,
         (Send(MessageKind.AGENT_TEXT, (("text", "sealed"),), "e5-t1.2"),)),
    Case("agent offers a refund", snap(S.AGENT), AgentOfferedRefund("a1", "e5-refund"), S.AGENT,
         (Send(MessageKind.AGENT_REFUND, (), "e5-refund"),)),
    Case("agent sends a voucher after booking", snap(S.BOOKED), AgentSentVoucher("a1", 100, "EUR", "e5-voucher"), S.BOOKED,
         (Send(MessageKind.AGENT_VOUCHER, (("amount", 100), ("currency", "EUR")), "e5-voucher"),)),
    Case("re-offer after a failed booking", snap(S.CONFIRMING),
         OffersReady(8, (81,), EXPIRES, OfferReason.SEAT_GONE), S.OFFERED,
         (Send(MessageKind.OFFER_SEAT_GONE), StartTimer(TimerKind.REMINDER, REMIND_AT))),
    Case("nothing left after a failed booking", snap(S.CONFIRMING), NoOptions(), S.ESCALATED,
         (Send(MessageKind.ESCALATED_NO_OPTIONS), Escalate("no_options"))),
    Case("offer after START", snap(S.OPTED_OUT), OffersReady(8, (81,), EXPIRES, OfferReason.REFRESHED), S.OFFERED,
         (Send(MessageKind.OFFER_REFRESHED), StartTimer(TimerKind.REMINDER, REMIND_AT))),
    Case("nothing to offer after START", snap(S.OPTED_OUT), NoOptions(), S.ESCALATED, (Escalate("no_options"),)),
    # the flight's story moved on (#16): the one conversation follows it
    Case("flight update while offered", snap(S.OFFERED), DisruptionUpdated(), S.OFFERED,
         (CancelTimer(), MakeOffer(OfferReason.UPDATED))),
    Case("flight update while escalated", snap(S.ESCALATED), DisruptionUpdated(), S.ESCALATED,
         (MakeOffer(OfferReason.UPDATED),)),
    Case("updated offer", snap(S.OFFERED), OffersReady(8, (81,), EXPIRES, OfferReason.UPDATED), S.OFFERED,
         (Send(MessageKind.OFFER_UPDATED), StartTimer(TimerKind.REMINDER, REMIND_AT))),
    Case("flight update once booked", snap(S.BOOKED), DisruptionUpdated(), S.BOOKED, ()),
    Case("lifted before any offer", snap(S.PENDING), OffersWithdrawn(), S.CLOSED, ()),
    Case("lifted while offered", snap(S.OFFERED), OffersWithdrawn(), S.CLOSED,
         (Withdraw(), Send(MessageKind.DISRUPTION_LIFTED), CancelTimer())),
    Case("lifted while escalated", snap(S.ESCALATED), OffersWithdrawn(), S.CLOSED,
         (Withdraw(), Send(MessageKind.DISRUPTION_LIFTED), CancelTimer())),
    Case("lifted while opted out", snap(S.OPTED_OUT), OffersWithdrawn(), S.CLOSED, (Withdraw(), CancelTimer())),
    Case("lifted once booked", snap(S.BOOKED), OffersWithdrawn(), S.BOOKED, ()),
    Case("flight update while an agent owns it: new options, no bot message", snap(S.AGENT), DisruptionUpdated(), S.AGENT,
         (MakeOffer(OfferReason.UPDATED),)),
    Case("lifted while an agent owns it: the agent decides", snap(S.AGENT), OffersWithdrawn(), S.AGENT, ()),
    Case("a reply after the lift: the flight is kept", snap(S.CLOSED), RepliedAfterLift("sms"), S.CLOSED, (Send(MessageKind.KEPT),)),
)

# The passenger's own choices (refund instead, keep my flight, a later date).
CASES += tuple(Case(*case) for case in CHOICE_CASES)
# A refund instead of a protection the passenger never chose (tests/conversations/protect/test_refund_after_protection.py).
CASES += (
    Case("refund instead of a protection", snap(S.BOOKED, booked_option_id=71, option_ids=(), protected=True),
         RefundChosen("sms", "basis"), S.CLOSED, (RecordChoice("refund", "basis"), Send(MessageKind.REFUND_RECORDED))),
)
# A booking changed at the PSS (a delta import) closes a live conversation.
CASES += tuple(Case(*case) for case in BOOKING_CHANGE_CASES)


def row_label(t: Transition) -> str:
    """The label decide() gives the row (target None stays in the row's own state)."""
    guard = f"[{t.guard}]" if t.guard else ""
    return f"{t.source or '*'} --{t.event.__name__}{guard}--> {t.target or t.source or '*'}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transition(case: Case) -> None:
    decision = decide(case.state, case.event, case.policy)
    assert (decision.status, decision.commands) == (case.status, case.commands)


def test_every_row_of_the_table_is_exercised() -> None:
    labels = [row_label(t) for t in TRANSITIONS]
    assert len(set(labels)) == len(labels), "two rows share a label, so a label no longer names one row"
    exercised = {decide(c.state, c.event, c.policy).transition for c in CASES}
    missing = [label for label in labels if label not in exercised]
    assert missing == [], f"rows without a test case: {missing}"


@pytest.mark.parametrize("status", [s for s in Status if s is not S.OPTED_OUT])
def test_stop_wins_in_every_state(status: Status) -> None:
    decision = decide(snap(status), kw(Keyword.STOP, "whatsapp"))
    assert decision.status is S.OPTED_OUT
    assert decision.commands == (SetConsent("whatsapp", False), Send(MessageKind.STOP_ACK), CancelTimer())


def test_stop_beats_an_open_offer() -> None:
    decision = decide(snap(S.OFFERED), kw(Keyword.STOP))
    assert decision.status is S.OPTED_OUT
    assert SetConsent("sms", False) in decision.commands
    assert Send(MessageKind.STOP_ACK) in decision.commands
    assert not any(isinstance(c, Book) for c in decision.commands)


@pytest.mark.parametrize(
    ("state", "event"),
    [
        pytest.param(snap(S.OFFERED, now=EXPIRES), chosen(72), id="offer expired"),
        pytest.param(snap(S.OFFERED, now=EXPIRES + dt.timedelta(hours=1)), chosen(72), id="long expired"),
        pytest.param(snap(S.OFFERED), chosen(72, offer_id=6), id="earlier offer"),
        pytest.param(snap(S.OFFERED), chosen(99), id="option not in this offer"),
        pytest.param(snap(S.OFFERED, offer_expires_at=None, option_ids=()), chosen(72), id="offer closed"),
    ],
)
def test_stale_choice_gets_a_fresh_offer_never_a_booking(state: Snapshot, event: OptionChosen) -> None:
    decision = decide(state, event)
    assert decision.status is S.OFFERED
    assert decision.commands == (MakeOffer(OfferReason.REFRESHED),)


def test_choice_one_second_before_expiry_books() -> None:
    decision = decide(snap(S.OFFERED, now=EXPIRES - dt.timedelta(seconds=1)), chosen(73))
    assert decision.status is S.CONFIRMING
    assert Book(OFFER, 73) in decision.commands


def test_second_choice_when_booked_is_acknowledged_not_booked() -> None:
    decision = decide(snap(S.BOOKED, booked_option_id=72), chosen(72))
    assert decision.status is S.BOOKED
    assert decision.commands == (Send(MessageKind.ALREADY_BOOKED),)


def _play(policy: Policy, offered: Snapshot, timers: list[TimerKind]) -> list[Decision]:
    """Fire timers in order, counting reminders the way the service does."""
    state = offered
    out = []
    for kind in timers:
        decision = decide(state, TimerFired(kind), policy)
        out.append(decision)
        sent = sum(1 for c in decision.commands if c == Send(MessageKind.REMINDER))
        state = dataclasses.replace(state, status=decision.status, reminders_sent=state.reminders_sent + sent)
    return out


def test_one_reminder_then_deadline_escalates() -> None:
    policy = Policy(max_reminders=1)
    first, second = _play(policy, snap(S.OFFERED), [TimerKind.REMINDER, TimerKind.DEADLINE])
    assert first.status is S.OFFERED
    assert first.commands == (Send(MessageKind.REMINDER), StartTimer(TimerKind.DEADLINE, DEADLINE_AT))
    assert second.status is S.ESCALATED
    assert second.commands == (Send(MessageKind.ESCALATED_DEADLINE), Escalate("deadline"), CancelTimer())


def test_two_reminders_then_deadline() -> None:
    policy = Policy(max_reminders=2)
    kinds = [TimerKind.REMINDER, TimerKind.REMINDER, TimerKind.DEADLINE]
    first, second, third = _play(policy, snap(S.OFFERED), kinds)
    assert first.commands == (Send(MessageKind.REMINDER), StartTimer(TimerKind.REMINDER, NOW + policy.reminder_after))
    assert second.commands == (Send(MessageKind.REMINDER), StartTimer(TimerKind.DEADLINE, DEADLINE_AT))
    assert third.status is S.ESCALATED
    assert Escalate("deadline") in third.commands


def test_a_reminder_beyond_the_maximum_counts_as_the_deadline() -> None:
    decision = decide(snap(S.OFFERED, reminders_sent=1), TimerFired(TimerKind.REMINDER), Policy(max_reminders=1))
    assert decision.status is S.ESCALATED
    assert Send(MessageKind.REMINDER) not in decision.commands


def test_late_reminder_leaves_at_least_a_minute_before_the_deadline() -> None:
    long_ago = snap(S.OFFERED, offered_at=NOW - dt.timedelta(hours=2))
    decision = decide(long_ago, TimerFired(TimerKind.REMINDER))
    assert decision.commands[-1] == StartTimer(TimerKind.DEADLINE, NOW + dt.timedelta(minutes=1))


def test_no_reminders_means_the_first_timer_is_the_deadline() -> None:
    pending = snap(S.PENDING, offer_id=None, option_ids=(), offer_expires_at=None, offered_at=None)
    decision = decide(pending, READY, Policy(max_reminders=0))
    assert decision.commands == (Send(MessageKind.OFFER), StartTimer(TimerKind.DEADLINE, NOW + POLICY.deadline_after))


def test_protect_books_the_best_option() -> None:
    decision = decide(snap(S.OFFERED, reminders_sent=1), TimerFired(TimerKind.DEADLINE), PROTECT)
    assert decision.status is S.CONFIRMING
    assert Book(OFFER, OPTIONS[0]) in decision.commands


def test_protect_without_options_escalates() -> None:
    state = snap(S.OFFERED, reminders_sent=1, option_ids=(), offer_expires_at=None)
    decision = decide(state, TimerFired(TimerKind.DEADLINE), PROTECT)
    assert decision.status is S.ESCALATED
    assert not any(isinstance(c, Book) for c in decision.commands)


def test_delivery_failure_escalates() -> None:
    decision = decide(snap(S.OFFERED), DeliveryFailed("no_channel"))
    assert decision.status is S.ESCALATED
    assert Escalate("unreachable") in decision.commands


@pytest.mark.parametrize(
    ("state", "event"),
    [
        pytest.param(snap(S.PENDING), chosen(72), id="choice before any offer"),
        pytest.param(snap(S.BOOKED), TimerFired(TimerKind.DEADLINE), id="timer after booking"),
        pytest.param(snap(S.AGENT), TextReceived("sms"), id="bot silent while an agent owns it"),
        pytest.param(snap(S.AGENT), chosen(72), id="choice while an agent owns it"),
        pytest.param(snap(S.CLOSED), chosen(72), id="closed"),
        pytest.param(snap(S.OPTED_OUT), TextReceived("sms"), id="text after STOP"),
        pytest.param(snap(S.OPTED_OUT), chosen(72), id="choice after STOP"),
        pytest.param(snap(S.BOOKED), DeliveryFailed("no_channel"), id="failure after booking"),
        pytest.param(snap(S.OFFERED), AgentClaimed("a1"), id="claim without escalation"),
        pytest.param(snap(S.OFFERED), AgentReplied("a1", "sealed", "e5-t1.2"), id="agent reply once handed back"),
        pytest.param(snap(S.CLOSED), AgentOfferedRefund("a1", "e5-refund"), id="refund after closing"),
        pytest.param(snap(S.BOOKED), AgentClosed("a1"), id="closing a booked case keeps the booking"),
    ],
)
def test_unmatched_events_change_nothing(state: Snapshot, event: Event) -> None:
    decision = decide(state, event)
    assert decision.status is state.status
    assert decision.commands == ()
    assert decision.transition == f"{state.status} ignores {type(event).__name__}"
