"""The conversation as data: states, events, commands, the TRANSITIONS table and a pure decide()."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from consent.keywords import Keyword


class Status(StrEnum):
    PENDING = "pending"
    OFFERED = "offered"
    CONFIRMING = "confirming"
    BOOKED = "booked"
    ESCALATED = "escalated"
    AGENT = "agent"
    CLOSED = "closed"
    OPTED_OUT = "opted_out"


class MessageKind(StrEnum):
    """What to tell the passenger; the dispatcher renders it from the database at send time."""

    OFFER = "offer"
    OFFER_REFRESHED = "offer_refreshed"
    OFFER_SEAT_GONE = "offer_seat_gone"
    #: The flight's story changed (a bigger delay, now cancelled): what changed, and new options.
    OFFER_UPDATED = "offer_updated"
    #: The flight no longer disrupts the trip (reinstated, back on time): keep the booking.
    DISRUPTION_LIFTED = "disruption_lifted"
    #: A reply after the flight operates again: the passenger keeps the original flight.
    KEPT = "kept"
    #: A choice found the disrupted flight no longer on the booking (changed elsewhere): nothing to offer again.
    BOOKING_CHANGED = "booking_changed"
    REMINDER = "reminder"
    BOOKED = "booked"
    #: Protect first: the first message says we already moved the passenger, and what else they may choose.
    PROTECTED = "protected"
    #: A change after booking asked too close to departure (past the policy's cut-off): the booking stands.
    CHANGE_CLOSED = "change_closed"
    #: Fresh options asked for after booking, and none has a seat: the booking stands.
    CHANGE_NO_OPTIONS = "change_no_options"
    ALREADY_BOOKED = "already_booked"
    ESCALATED_AGENT = "escalated_agent"
    ESCALATED_NO_OPTIONS = "escalated_no_options"
    ESCALATED_DEADLINE = "escalated_deadline"
    NOT_UNDERSTOOD = "not_understood"
    STOP_HINT = "stop_hint"
    STOP_ACK = "stop_ack"
    START_ACK = "start_ack"
    HELP = "help"
    AGENT_TEXT = "agent_text"
    AGENT_REFUND = "agent_refund"
    AGENT_VOUCHER = "agent_voucher"
    #: The passenger's own choices (conversations/choices.py): a refund recorded, a delayed flight kept, a later date.
    REFUND_RECORDED = "refund_recorded"
    KEEP_CONFIRMED = "keep_confirmed"
    ASK_DATE = "ask_date"
    OFFER_ON_DATE = "offer_on_date"
    #: Nothing leaves on the day the passenger named: said so, with the options offered again.
    NOTHING_ON_DATE = "nothing_on_date"
    DATE_OUT_OF_RANGE = "date_out_of_range"
    CHOICE_NOT_OFFERED = "choice_not_offered"
    CHOICE_ALREADY = "choice_already"
    #: Care while waiting (conversations/care_sweep.py): meal, hotel and transfer vouchers with their codes.
    CARE_VOUCHER = "care_voucher"


class OfferReason(StrEnum):
    INITIAL = "initial"
    REFRESHED = "refreshed"
    SEAT_GONE = "seat_gone"
    UPDATED = "updated"
    #: Options on a date the passenger named (Reg. 261/2004 Art. 8(1)(c)).
    LATER_DATE = "later_date"
    #: The options offered again after nothing left on the day the passenger named (`OffersReady.on`).
    NOTHING_ON_DATE = "nothing_on_date"


class TimerKind(StrEnum):
    REMINDER = "reminder"
    DEADLINE = "deadline"


# ---- events (past tense) ----


@dataclass(frozen=True)
class OffersReady:
    offer_id: int
    option_ids: tuple[int, ...]
    expires_at: dt.datetime
    reason: OfferReason = OfferReason.INITIAL
    #: The day the passenger named, when nothing left on it (NOTHING_ON_DATE).
    on: dt.date | None = None


@dataclass(frozen=True)
class NoOptions:
    pass


@dataclass(frozen=True)
class DisruptionUpdated:
    """The booking's disruption changed in a way that matters to it: the offer no longer fits."""


@dataclass(frozen=True)
class OffersWithdrawn:
    """The flight no longer disrupts this booking (reinstated, delay shortened): it keeps its flight."""


@dataclass(frozen=True)
class BookingChangedElsewhere:
    """The PSS changed the booking (a delta import): the disrupted flight is no longer on it, so nothing is left to offer."""


@dataclass(frozen=True)
class RepliedAfterLift:
    """The passenger answered after their flight's disruption was lifted (reinstated, back on time) and the conversation closed."""

    channel: str


@dataclass(frozen=True)
class OptionChosen:
    offer_id: int
    option_id: int
    channel: str


@dataclass(frozen=True)
class OptionsRequested:
    channel: str


@dataclass(frozen=True)
class TextReceived:
    channel: str
    near_keyword: Keyword | None = None


@dataclass(frozen=True)
class KeywordReceived:
    keyword: Keyword
    channel: str


@dataclass(frozen=True)
class BookingConfirmed:
    option_id: int


@dataclass(frozen=True)
class BookingFailed:
    reason: str


@dataclass(frozen=True)
class Protected:
    """Protect first: the fan-out booked the best option at once; the offer's other options stay a choice."""

    offer_id: int
    option_id: int


@dataclass(frozen=True)
class ProtectionSent:
    """Protect first against a remote PSS: the best option reserved and its change recorded; told once the PSS confirmed."""

    offer_id: int
    option_id: int


@dataclass(frozen=True)
class ChangeConfirmed:
    """A booked passenger's new choice replaced the earlier seat (released and sold in one transaction)."""

    option_id: int


@dataclass(frozen=True)
class ChangeFailed:
    """A change after booking was refused ("unavailable", "too_late", ...): the earlier booking stands."""

    reason: str


@dataclass(frozen=True)
class BookingUnconfirmed:
    """The airline's PSS never confirmed the change within the cap (two-phase booking): the desk checks the PNR."""


@dataclass(frozen=True)
class TimerFired:
    kind: TimerKind


@dataclass(frozen=True)
class DeliveryFailed:
    reason: str


@dataclass(frozen=True)
class AgentClaimed:
    agent: str


@dataclass(frozen=True)
class AgentReleased:
    agent: str
    refunded: bool = False


@dataclass(frozen=True)
class AgentBooked:
    option_id: int


@dataclass(frozen=True)
class AgentClosed:
    """An agent ended the case: the bot says no more and the open offer's seats go back."""

    agent: str


@dataclass(frozen=True)
class RefundChosen:
    """The passenger chose a refund instead of rerouting; `basis` is why it is theirs (the rights engine's, or policy)."""

    channel: str
    basis: str


@dataclass(frozen=True)
class KeepChosen:
    """The passenger keeps their delayed flight."""

    channel: str


@dataclass(frozen=True)
class LaterDateAsked:
    """The passenger wants to travel on a later date of their choosing: ask which."""

    channel: str


@dataclass(frozen=True)
class DateGiven:
    """The passenger named a travel date; it may be searched when within [earliest, latest]."""

    channel: str
    day: dt.date
    earliest: dt.date
    latest: dt.date


@dataclass(frozen=True)
class ChoiceUnavailable:
    """The passenger asked for a choice this conversation does not offer (e.g. a refund without a right to one)."""

    channel: str
    choice: str


@dataclass(frozen=True)
class RepliedAfterChoice:
    """The passenger answered again after their refund or keep closed the conversation."""

    channel: str
    choice: str


#: A message's parameters as (name, value) pairs: what the catalog text needs besides the conversation.
Params = tuple[tuple[str, str | int], ...]


@dataclass(frozen=True)
class AgentReplied:
    """An agent wrote to the passenger in the desk thread; `text` arrives encrypted and is sent as written."""

    agent: str
    text: str
    #: The outbox key of this reply (its Slack message), so a redelivered reply is sent once.
    once: str


@dataclass(frozen=True)
class AgentOfferedRefund:
    """An agent offered a refund; the desk records it once (no money moves here)."""

    agent: str
    once: str


@dataclass(frozen=True)
class AgentSentVoucher:
    """An agent gave a voucher; the desk records it once (no money moves here)."""

    agent: str
    amount: int
    currency: str
    once: str


Event = (
    OffersReady
    | NoOptions
    | DisruptionUpdated
    | OffersWithdrawn
    | BookingChangedElsewhere
    | RepliedAfterLift
    | OptionChosen
    | OptionsRequested
    | TextReceived
    | KeywordReceived
    | BookingConfirmed
    | BookingFailed
    | Protected
    | ProtectionSent
    | ChangeConfirmed
    | ChangeFailed
    | BookingUnconfirmed
    | TimerFired
    | DeliveryFailed
    | AgentClaimed
    | AgentReleased
    | AgentBooked
    | AgentClosed
    | AgentReplied
    | AgentOfferedRefund
    | AgentSentVoucher
    | RefundChosen
    | KeepChosen
    | LaterDateAsked
    | DateGiven
    | ChoiceUnavailable
    | RepliedAfterChoice
)


# ---- commands (imperative) ----


@dataclass(frozen=True)
class Send:
    kind: MessageKind
    params: Params = ()
    #: A key that makes the message unique across retries of the act behind it (else the conversation's version).
    once: str | None = None


@dataclass(frozen=True)
class Book:
    offer_id: int
    option_id: int


@dataclass(frozen=True)
class Change:
    """Move a booked booking onto another option, unless either departs before `not_before` (the cut-off)."""

    offer_id: int
    option_id: int
    not_before: dt.datetime


@dataclass(frozen=True)
class MakeOffer:
    reason: OfferReason
    #: Search this travel date only (a later date the passenger named).
    on: dt.date | None = None


@dataclass(frozen=True)
class RecordChoice:
    """Close on the passenger's own choice: "refund" (recorded, segments cancelled, seats back) or "keep"; the offer's holds go back."""

    choice: str
    basis: str = ""


@dataclass(frozen=True)
class Withdraw:
    """Retire the conversation's open offer and release its seats, with no new one."""


@dataclass(frozen=True)
class Escalate:
    reason: str


@dataclass(frozen=True)
class StartTimer:
    kind: TimerKind
    at: dt.datetime


@dataclass(frozen=True)
class CancelTimer:
    pass


@dataclass(frozen=True)
class SetConsent:
    channel: str
    granted: bool


Command = Send | Book | Change | MakeOffer | Withdraw | Escalate | StartTimer | CancelTimer | SetConsent | RecordChoice


# ---- state seen by decide() ----


@dataclass(frozen=True)
class Policy:
    """Airline-configurable timing; `on_deadline` is "escalate" or "protect" (book the best option).

    `first_contact` "protect" books the best option before the first message (conversations.protect);
    a booked passenger may choose again until `change_cutoff` before departure.
    """

    reminder_after: dt.timedelta = dt.timedelta(minutes=10)
    deadline_after: dt.timedelta = dt.timedelta(minutes=25)
    max_reminders: int = 1
    on_deadline: str = "escalate"
    first_contact: str = "offer"
    change_cutoff: dt.timedelta = dt.timedelta(hours=2)


@dataclass(frozen=True)
class Snapshot:
    status: Status
    now: dt.datetime
    offer_id: int | None = None
    option_ids: tuple[int, ...] = ()
    offer_expires_at: dt.datetime | None = None
    offered_at: dt.datetime | None = None
    reminders_sent: int = 0
    booked_option_id: int | None = None
    #: Booked by protection (protect first), and the passenger has not chosen since: any other option of the offer is a change.
    protected: bool = False


@dataclass(frozen=True)
class Decision:
    status: Status
    commands: tuple[Command, ...]
    transition: str


Guard = Callable[[Snapshot, Event, Policy], bool]
Action = Callable[[Snapshot, Event, Policy], tuple[Command, ...]]


@dataclass(frozen=True)
class Transition:
    source: Status | None  # None: any state not listed in `except_from`
    event: type
    guard: str | None
    target: Status | None  # None: stay in the current state
    actions: tuple[str, ...]
    except_from: tuple[Status, ...] = ()


# ---- guards ----


def _is_keyword(*words: Keyword) -> Guard:
    def guard(s: Snapshot, e: Event, p: Policy) -> bool:
        return isinstance(e, KeywordReceived) and e.keyword in words

    return guard


def _choice_current(s: Snapshot, e: Event, p: Policy) -> bool:
    return (
        isinstance(e, OptionChosen)
        and e.offer_id == s.offer_id
        and e.option_id in s.option_ids
        and s.offer_expires_at is not None
        and s.now < s.offer_expires_at
    )


def _choice_stale(s: Snapshot, e: Event, p: Policy) -> bool:
    return isinstance(e, OptionChosen) and not _choice_current(s, e, p)


def _reminder_due(s: Snapshot, e: Event, p: Policy) -> bool:
    return isinstance(e, TimerFired) and e.kind is TimerKind.REMINDER and s.reminders_sent < p.max_reminders


def _deadline(s: Snapshot, e: Event, p: Policy) -> bool:
    return isinstance(e, TimerFired) and (e.kind is TimerKind.DEADLINE or s.reminders_sent >= p.max_reminders)


def _deadline_escalates(s: Snapshot, e: Event, p: Policy) -> bool:
    return _deadline(s, e, p) and (p.on_deadline != "protect" or not s.option_ids)


def _deadline_protects(s: Snapshot, e: Event, p: Policy) -> bool:
    return _deadline(s, e, p) and p.on_deadline == "protect" and bool(s.option_ids)


def _change_chosen(s: Snapshot, e: Event, p: Policy) -> bool:
    """After booking: an option of fresh options asked for since, or, on a protection, another option of its offer."""
    if not isinstance(e, OptionChosen) or e.option_id == s.booked_option_id:
        return False
    return _choice_current(s, e, p) or (s.protected and e.offer_id == s.offer_id)


def _protected(s: Snapshot, e: Event, p: Policy) -> bool:
    """Booked by protection, and the passenger has not chosen since."""
    return s.protected


def _change_unavailable(s: Snapshot, e: Event, p: Policy) -> bool:
    return isinstance(e, ChangeFailed) and e.reason == "unavailable"


def _change_too_late(s: Snapshot, e: Event, p: Policy) -> bool:
    return isinstance(e, ChangeFailed) and e.reason == "too_late"


def _refunded(s: Snapshot, e: Event, p: Policy) -> bool:
    return isinstance(e, AgentReleased) and e.refunded


def _booking_changed(s: Snapshot, e: Event, p: Policy) -> bool:
    return isinstance(e, BookingFailed) and e.reason == "changed"


def _near_stop(s: Snapshot, e: Event, p: Policy) -> bool:
    return isinstance(e, TextReceived) and e.near_keyword is Keyword.STOP


def _date_in_range(s: Snapshot, e: Event, p: Policy) -> bool:
    return isinstance(e, DateGiven) and e.earliest <= e.day <= e.latest


GUARDS: dict[str, Guard] = {
    "stop": _is_keyword(Keyword.STOP),
    "start": _is_keyword(Keyword.START),
    "help": _is_keyword(Keyword.HELP),
    "agent": _is_keyword(Keyword.AGENT),
    "more": _is_keyword(Keyword.MORE),
    "choice current": _choice_current,
    "choice stale": _choice_stale,
    "reminder due": _reminder_due,
    "deadline, escalate": _deadline_escalates,
    "deadline, protect": _deadline_protects,
    "near STOP": _near_stop,
    "refunded": _refunded,
    "booking changed": _booking_changed,
    "date in range": _date_in_range,
    "change chosen": _change_chosen,
    "protected": _protected,
    "change unavailable": _change_unavailable,
    "change too late": _change_too_late,
}


# ---- actions ----


def _send(kind: MessageKind) -> Action:
    return lambda s, e, p: (Send(kind),)


def _send_offer(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    reason = e.reason if isinstance(e, OffersReady) else OfferReason.INITIAL
    kind = {
        OfferReason.INITIAL: MessageKind.OFFER,
        OfferReason.REFRESHED: MessageKind.OFFER_REFRESHED,
        OfferReason.SEAT_GONE: MessageKind.OFFER_SEAT_GONE,
        OfferReason.UPDATED: MessageKind.OFFER_UPDATED,
        OfferReason.LATER_DATE: MessageKind.OFFER_ON_DATE,
        OfferReason.NOTHING_ON_DATE: MessageKind.NOTHING_ON_DATE,
    }[reason]
    if isinstance(e, OffersReady) and e.on is not None:
        return (Send(kind, (("day", e.on.isoformat()),)),)
    return (Send(kind),)


def _start_reminder(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    if p.max_reminders <= 0:
        return (StartTimer(TimerKind.DEADLINE, s.now + p.deadline_after),)
    return (StartTimer(TimerKind.REMINDER, s.now + p.reminder_after),)


def _after_reminder(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    if s.reminders_sent + 1 < p.max_reminders:
        return (StartTimer(TimerKind.REMINDER, s.now + p.reminder_after),)
    started = s.offered_at or s.now
    at = max(started + p.deadline_after, s.now + dt.timedelta(minutes=1))
    return (StartTimer(TimerKind.DEADLINE, at),)


def _book(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    if isinstance(e, OptionChosen):
        return (Book(e.offer_id, e.option_id),)
    if isinstance(e, AgentBooked) and s.offer_id is not None:
        return (Book(s.offer_id, e.option_id),)
    return ()


def _change(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    if not isinstance(e, OptionChosen):
        return ()
    return (Change(e.offer_id, e.option_id, s.now + p.change_cutoff),)


def _book_best(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    return (Book(s.offer_id or 0, s.option_ids[0]),)


def _send_agent_text(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    """The agent's words, as written (encrypted until sent)."""
    return (Send(MessageKind.AGENT_TEXT, (("text", e.text),), e.once),) if isinstance(e, AgentReplied) else ()


def _send_refund(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    return (Send(MessageKind.AGENT_REFUND, (), e.once),) if isinstance(e, AgentOfferedRefund) else ()


def _send_voucher(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    if not isinstance(e, AgentSentVoucher):
        return ()
    return (Send(MessageKind.AGENT_VOUCHER, (("amount", e.amount), ("currency", e.currency)), e.once),)


def _record_choice(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    if isinstance(e, RefundChosen):
        return (RecordChoice("refund", e.basis),)
    return (RecordChoice("keep"),) if isinstance(e, KeepChosen) else ()


def _send_choice(kind: MessageKind) -> Action:
    """A message about the choice the event names (refund, keep, later)."""

    def action(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
        choice = e.choice if isinstance(e, ChoiceUnavailable | RepliedAfterChoice) else ""
        return (Send(kind, (("choice", choice),)),)

    return action


def _offer_on_date(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    return (MakeOffer(OfferReason.LATER_DATE, e.day),) if isinstance(e, DateGiven) else ()


def _send_date_out_of_range(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
    if not isinstance(e, DateGiven):
        return ()
    return (Send(MessageKind.DATE_OUT_OF_RANGE, (("earliest", e.earliest.isoformat()), ("latest", e.latest.isoformat()))),)


def _escalate(reason: str) -> Action:
    return lambda s, e, p: (Escalate(reason),)


def _consent(granted: bool) -> Action:
    def action(s: Snapshot, e: Event, p: Policy) -> tuple[Command, ...]:
        channel = e.channel if isinstance(e, KeywordReceived) else ""
        return (SetConsent(channel, granted),)

    return action


ACTIONS: dict[str, Action] = {
    "send offer": _send_offer,
    "send reminder": _send(MessageKind.REMINDER),
    "send booked": _send(MessageKind.BOOKED),
    "send already booked": _send(MessageKind.ALREADY_BOOKED),
    "send escalated": _send(MessageKind.ESCALATED_AGENT),
    "send no options": _send(MessageKind.ESCALATED_NO_OPTIONS),
    "send deadline": _send(MessageKind.ESCALATED_DEADLINE),
    "send not understood": _send(MessageKind.NOT_UNDERSTOOD),
    "send stop hint": _send(MessageKind.STOP_HINT),
    "send stop ack": _send(MessageKind.STOP_ACK),
    "send start ack": _send(MessageKind.START_ACK),
    "send help": _send(MessageKind.HELP),
    "send agent text": _send_agent_text,
    "send refund": _send_refund,
    "send voucher": _send_voucher,
    "start reminder": _start_reminder,
    "next timer": _after_reminder,
    "cancel timer": lambda s, e, p: (CancelTimer(),),
    "book": _book,
    "book best": _book_best,
    "change": _change,
    "send protected": _send(MessageKind.PROTECTED),
    "send change closed": _send(MessageKind.CHANGE_CLOSED),
    "send change no options": _send(MessageKind.CHANGE_NO_OPTIONS),
    "refresh offer": lambda s, e, p: (MakeOffer(OfferReason.REFRESHED),),
    "re-offer": lambda s, e, p: (MakeOffer(OfferReason.SEAT_GONE),),
    "update offer": lambda s, e, p: (MakeOffer(OfferReason.UPDATED),),
    "withdraw offer": lambda s, e, p: (Withdraw(),),
    "send lifted": _send(MessageKind.DISRUPTION_LIFTED),
    "send kept": _send(MessageKind.KEPT),
    "send booking changed": _send(MessageKind.BOOKING_CHANGED),
    "escalate no options": _escalate("no_options"),
    "escalate request": _escalate("passenger_request"),
    "escalate deadline": _escalate("deadline"),
    "escalate unreachable": _escalate("unreachable"),
    "escalate pss unconfirmed": _escalate("pss_unconfirmed"),
    "opt out": _consent(False),
    "opt in": _consent(True),
    "record choice": _record_choice,
    "send refund recorded": _send(MessageKind.REFUND_RECORDED),
    "send keep confirmed": _send(MessageKind.KEEP_CONFIRMED),
    "send ask date": _send(MessageKind.ASK_DATE),
    "offer on date": _offer_on_date,
    "send date out of range": _send_date_out_of_range,
    "send choice not offered": _send_choice(MessageKind.CHOICE_NOT_OFFERED),
    "send choice already": _send_choice(MessageKind.CHOICE_ALREADY),
}

S = Status

#: Evaluated top to bottom; the first row whose state, event type and guard match wins.
TRANSITIONS: tuple[Transition, ...] = (
    # Keywords beat everything else: STOP is never read as a choice.
    Transition(None, KeywordReceived, "stop", S.OPTED_OUT, ("opt out", "send stop ack", "cancel timer"), except_from=(S.OPTED_OUT,)),
    Transition(S.OPTED_OUT, KeywordReceived, "start", S.OFFERED, ("opt in", "send start ack", "refresh offer")),
    Transition(S.OPTED_OUT, KeywordReceived, "stop", None, ()),
    # First contact.
    Transition(S.PENDING, OffersReady, None, S.OFFERED, ("send offer", "start reminder")),
    Transition(S.PENDING, NoOptions, None, S.ESCALATED, ("send no options", "escalate no options")),
    # Protect first: already booked, no timer — silence means the protection stands.
    Transition(S.PENDING, Protected, None, S.BOOKED, ("send protected",)),
    # Against a remote PSS the protection waits for its answer in CONFIRMING, unsaid: confirmed, it is told as
    # above; refused, the offer (given back) is made as on the offer-first path (CONFIRMING --OffersReady-->).
    Transition(S.PENDING, ProtectionSent, None, S.CONFIRMING, ()),
    Transition(S.CONFIRMING, Protected, None, S.BOOKED, ("send protected",)),
    # Waiting for a choice.
    Transition(S.OFFERED, OptionChosen, "choice current", S.CONFIRMING, ("cancel timer", "book")),
    Transition(S.OFFERED, OptionChosen, "choice stale", None, ("refresh offer",)),
    Transition(S.OFFERED, OffersReady, None, S.OFFERED, ("send offer", "start reminder")),
    Transition(S.OFFERED, NoOptions, None, S.ESCALATED, ("send no options", "escalate no options", "cancel timer")),
    Transition(S.OFFERED, OptionsRequested, None, None, ("send offer",)),
    Transition(S.OFFERED, KeywordReceived, "more", None, ("send offer",)),
    Transition(S.OFFERED, KeywordReceived, "agent", S.ESCALATED, ("send escalated", "escalate request", "cancel timer")),
    Transition(S.OFFERED, KeywordReceived, "help", S.ESCALATED, ("send help", "escalate request", "cancel timer")),
    Transition(S.OFFERED, TextReceived, "near STOP", None, ("send stop hint",)),
    Transition(S.OFFERED, TextReceived, None, None, ("send not understood",)),
    Transition(S.OFFERED, TimerFired, "reminder due", None, ("send reminder", "next timer")),
    Transition(S.OFFERED, TimerFired, "deadline, protect", S.CONFIRMING, ("cancel timer", "book best")),
    Transition(S.OFFERED, TimerFired, "deadline, escalate", S.ESCALATED, ("send deadline", "escalate deadline", "cancel timer")),
    Transition(S.OFFERED, DeliveryFailed, None, S.ESCALATED, ("escalate unreachable", "cancel timer")),
    # Booking in flight (run inside the same transaction).
    Transition(S.CONFIRMING, BookingConfirmed, None, S.BOOKED, ("send booked",)),
    # The disrupted flight is no longer on the booking (another disruption's rebooking moved it): say so and
    # stop, or every choice would fail and be offered again forever.
    Transition(S.CONFIRMING, BookingFailed, "booking changed", S.CLOSED, ("send booking changed",)),
    Transition(S.CONFIRMING, BookingFailed, None, S.OFFERED, ("re-offer",)),
    Transition(S.CONFIRMING, OptionChosen, None, None, ("send already booked",)),
    # Against a remote PSS the booking waits for its answer; none came within the cap.
    Transition(S.CONFIRMING, BookingUnconfirmed, None, S.ESCALATED, ("send escalated", "escalate pss unconfirmed")),
    # Booked: choosing again (another option of a protection, or of fresh options asked for since) moves the
    # booking in one transaction until the cut-off; a second answer to the offer the passenger chose from is
    # acknowledged, never booked twice.
    Transition(S.BOOKED, OptionChosen, "change chosen", None, ("change",)),
    Transition(S.BOOKED, OptionChosen, None, None, ("send already booked",)),
    Transition(S.BOOKED, ChangeConfirmed, None, None, ("send booked",)),
    Transition(S.BOOKED, ChangeFailed, "change unavailable", None, ("re-offer",)),
    Transition(S.BOOKED, ChangeFailed, "change too late", None, ("send change closed",)),
    Transition(S.BOOKED, ChangeFailed, None, None, ("send already booked",)),
    # Against a remote PSS a change waits for its answer; none came within the cap: the desk checks the PNR.
    Transition(S.BOOKED, BookingUnconfirmed, None, S.ESCALATED, ("send escalated", "escalate pss unconfirmed")),
    Transition(S.BOOKED, OptionsRequested, None, None, ("refresh offer",)),
    Transition(S.BOOKED, KeywordReceived, "more", None, ("refresh offer",)),
    Transition(S.BOOKED, OffersReady, None, None, ("send offer",)),
    Transition(S.BOOKED, NoOptions, None, None, ("send change no options",)),
    Transition(S.BOOKED, KeywordReceived, "agent", S.ESCALATED, ("send escalated", "escalate request")),
    Transition(S.BOOKED, KeywordReceived, "help", None, ("send help",)),
    # Waiting for an agent: the passenger may still choose for themselves.
    Transition(S.ESCALATED, OptionChosen, "choice current", S.CONFIRMING, ("book",)),
    Transition(S.ESCALATED, OptionChosen, "choice stale", None, ("send escalated",)),
    Transition(S.ESCALATED, KeywordReceived, "agent", None, ("send escalated",)),
    Transition(S.ESCALATED, KeywordReceived, "help", None, ("send help",)),
    Transition(S.ESCALATED, AgentClaimed, None, S.AGENT, ("cancel timer",)),
    Transition(S.ESCALATED, OffersReady, None, S.OFFERED, ("send offer", "start reminder")),
    # An agent owns it: the bot is silent.
    Transition(S.AGENT, AgentBooked, None, S.CONFIRMING, ("book",)),
    Transition(S.AGENT, AgentReleased, "refunded", S.CLOSED, ("cancel timer",)),
    Transition(S.AGENT, AgentReleased, None, S.OFFERED, ("refresh offer",)),
    Transition(S.AGENT, OffersReady, None, S.AGENT, ()),
    Transition(S.AGENT, AgentReplied, None, None, ("send agent text",)),
    # Closed by the agent: whatever the claim left open ends here; a booking stays booked.
    Transition(S.AGENT, AgentClosed, None, S.CLOSED, ("withdraw offer", "cancel timer")),
    Transition(S.OFFERED, AgentClosed, None, S.CLOSED, ("withdraw offer", "cancel timer")),
    Transition(S.OPTED_OUT, AgentClosed, None, S.CLOSED, ("withdraw offer", "cancel timer")),
    # While the agent holds the escalation, a refund or voucher is told wherever the conversation
    # went since the claim (booked by the agent, re-offered after a failed rebook, opted out).
    Transition(None, AgentOfferedRefund, None, None, ("send refund",), except_from=(S.PENDING, S.CLOSED)),
    Transition(None, AgentSentVoucher, None, None, ("send voucher",), except_from=(S.PENDING, S.CLOSED)),
    Transition(S.CONFIRMING, OffersReady, None, S.OFFERED, ("send offer", "start reminder")),
    Transition(S.CONFIRMING, NoOptions, None, S.ESCALATED, ("send no options", "escalate no options")),
    Transition(S.OPTED_OUT, OffersReady, None, S.OFFERED, ("send offer", "start reminder")),
    Transition(S.OPTED_OUT, NoOptions, None, S.ESCALATED, ("escalate no options",)),
    # The flight's story moved on: the one live conversation follows it, never a second one.
    Transition(S.OFFERED, DisruptionUpdated, None, None, ("cancel timer", "update offer")),
    Transition(S.ESCALATED, DisruptionUpdated, None, None, ("update offer",)),
    Transition(S.PENDING, OffersWithdrawn, None, S.CLOSED, ()),
    Transition(S.OFFERED, OffersWithdrawn, None, S.CLOSED, ("withdraw offer", "send lifted", "cancel timer")),
    Transition(S.ESCALATED, OffersWithdrawn, None, S.CLOSED, ("withdraw offer", "send lifted", "cancel timer")),
    Transition(S.OPTED_OUT, OffersWithdrawn, None, S.CLOSED, ("withdraw offer", "cancel timer")),
    # The booking changed at the PSS and no longer holds the disrupted flight (rebooked at the airport):
    # the offer goes with its seats; an agent who owns it gets a desk note instead (conversations/booking_changes.py).
    Transition(S.PENDING, BookingChangedElsewhere, None, S.CLOSED, ("withdraw offer",)),
    Transition(S.OFFERED, BookingChangedElsewhere, None, S.CLOSED, ("withdraw offer", "send booking changed", "cancel timer")),
    Transition(S.ESCALATED, BookingChangedElsewhere, None, S.CLOSED, ("withdraw offer", "send booking changed", "cancel timer")),
    Transition(S.OPTED_OUT, BookingChangedElsewhere, None, S.CLOSED, ("withdraw offer", "cancel timer")),
    Transition(S.AGENT, BookingChangedElsewhere, None, S.CLOSED, ("withdraw offer", "cancel timer")),
    # An agent owns it: the options follow the story silently (the desk is told); a lift leaves it to the agent.
    Transition(S.AGENT, DisruptionUpdated, None, None, ("update offer",)),
    # Lifted and closed: the passenger keeps the flight; a reply is told so (the withdrawn options are gone).
    Transition(S.CLOSED, RepliedAfterLift, None, None, ("send kept",)),
    # The passenger's own choices (conversations/choices.py): a refund or keeping a delayed flight closes
    # the conversation (holds released); a later date is searched like any offer; a choice not offered is told so.
    Transition(S.OFFERED, RefundChosen, None, S.CLOSED, ("cancel timer", "record choice", "send refund recorded")),
    Transition(S.ESCALATED, RefundChosen, None, S.CLOSED, ("cancel timer", "record choice", "send refund recorded")),
    Transition(S.OFFERED, KeepChosen, None, S.CLOSED, ("cancel timer", "record choice", "send keep confirmed")),
    Transition(S.ESCALATED, KeepChosen, None, S.CLOSED, ("cancel timer", "record choice", "send keep confirmed")),
    Transition(S.OFFERED, LaterDateAsked, None, None, ("send ask date",)),
    Transition(S.OFFERED, DateGiven, "date in range", None, ("cancel timer", "offer on date")),
    Transition(S.OFFERED, DateGiven, None, None, ("send date out of range",)),
    Transition(S.OFFERED, ChoiceUnavailable, None, None, ("send choice not offered",)),
    Transition(S.ESCALATED, ChoiceUnavailable, None, None, ("send choice not offered",)),
    Transition(S.CONFIRMING, RefundChosen, None, None, ("send already booked",)),
    # A refund instead of the protection (the passenger never chose it): the protected legs are cancelled with it.
    Transition(S.BOOKED, RefundChosen, "protected", S.CLOSED, ("record choice", "send refund recorded")),
    Transition(S.BOOKED, RefundChosen, None, None, ("send already booked",)),
    Transition(S.BOOKED, KeepChosen, None, None, ("send already booked",)),
    Transition(S.CLOSED, RepliedAfterChoice, None, None, ("send choice already",)),
)


def _matches(t: Transition, s: Snapshot, e: Event, p: Policy) -> bool:
    if t.source is None:
        if s.status in t.except_from:
            return False
    elif t.source is not s.status:
        return False
    if not isinstance(e, t.event):
        return False
    return t.guard is None or GUARDS[t.guard](s, e, p)


def decide(state: Snapshot, event: Event, policy: Policy = Policy()) -> Decision:
    """The next state and the commands to run; unmatched events change nothing."""
    for t in TRANSITIONS:
        if _matches(t, state, event, policy):
            commands: tuple[Command, ...] = ()
            for name in t.actions:
                commands += ACTIONS[name](state, event, policy)
            label = f"{(t.source or '*')} --{t.event.__name__}{f'[{t.guard}]' if t.guard else ''}--> {t.target or t.source or '*'}"
            return Decision(t.target or state.status, commands, label)
    return Decision(state.status, (), f"{state.status} ignores {type(event).__name__}")


def mermaid() -> str:
    """The state diagram, generated from TRANSITIONS (committed as docs/conversation.mmd)."""
    lines = ["stateDiagram-v2", "    [*] --> pending"]
    seen: set[str] = set()
    for t in TRANSITIONS:
        sources = [t.source] if t.source is not None else [s for s in Status if s not in t.except_from]
        for src in sources:
            dst = t.target or src
            label = t.event.__name__ + (f" [{t.guard}]" if t.guard else "")
            line = f"    {src} --> {dst}: {label}"
            if line not in seen:
                seen.add(line)
                lines.append(line)
    lines += ["    booked --> [*]", "    closed --> [*]"]
    return "\n".join(lines) + "\n"
