"""The one place a Decision's commands become row changes: a reply's as it runs, a fan-out batch's gathered for bulk INSERTs.

`apply` runs every command for one conversation inside the caller's transaction and returns the
events some of them cause (a booking's outcome, a new offer). `apply_bulk` is the same for the
commands a first offer can cause, without a statement of its own: rows go to a `Batch` that the
fan-out writes with one INSERT per table (a 5,000-passenger disruption in batches of 100).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from consent import audit, ledger
from conversations.choice_effects import record_choice
from conversations.engine import (
    Book,
    BookingConfirmed,
    BookingFailed,
    CancelTimer,
    Change,
    ChangeConfirmed,
    Command,
    Decision,
    Escalate,
    Event,
    MakeOffer,
    MessageKind,
    OfferReason,
    OffersReady,
    RecordChoice,
    Send,
    SetConsent,
    StartTimer,
    Withdraw,
)
from conversations.lifecycles import EscalationStatus
from conversations.models import OUTBOX, Conversation, Escalation
from conversations.outbox.ports import Telemetry
from conversations.outbox.rows import outbox_row
from conversations.outbox.telemetry import Origin, Origins, since, trace_of
from conversations.pnr_changes.record_change import record_change
from conversations.rechoose import run_change
from infra.commit_rows import insert_at_commit
from infra.db import insert_ignore
from rebooking_core.booking import BookingResult, book_option
from rebooking_core.offers import lower_capacity, supersede_offer

#: Makes a fresh offer for the conversation and says what came of it (OffersReady or NoOptions).
OfferMaker = Callable[[AsyncSession, Conversation, OfferReason], Awaitable[Event]]
#: The same on one travel date the passenger named (a later date, conversations/choices.py).
DatedOfferMaker = Callable[[AsyncSession, Conversation, dt.date], Awaitable[Event]]
#: Against a remote PSS: reserves the chosen option and records the change to send (None), or says why not.
IntentRecorder = Callable[[AsyncSession, Conversation, int, dt.datetime, Any], Awaitable[BookingResult | None]]


@dataclass
class Run:
    """One event's run on one conversation: distinct idempotency keys for several sends, and the
    offer as last read, so one reply reads it once (a booking it makes tells us the offer is closed)."""

    seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    offers: dict[int, Sequence[Any]] = field(default_factory=dict)


@dataclass
class Batch:
    """What a fan-out batch writes once every booking is decided: one INSERT per table."""

    outbox: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    #: Escalations by tier and reason, reported once the batch has committed.
    escalated: Counter[tuple[int, str]] = field(default_factory=Counter)
    #: What a MakeOffer of each conversation comes to (OffersReady or NoOptions), planned and held for the whole batch.
    offers: dict[int, Event] = field(default_factory=dict)
    #: Offers the batch already superseded (their seats released) before planning: a Withdraw of one is done.
    retired: set[int] = field(default_factory=set)


class CommandApplier:
    """Runs the engine's commands; the only code that turns them into rows, for single replies and bulk alike."""

    def __init__(
        self, *, telemetry: Telemetry, origins: Origins, make_offer: OfferMaker, record_intent: IntentRecorder | None = None
    ) -> None:
        self.telemetry = telemetry
        self.origins = origins
        self.make_offer = make_offer
        #: Set by the service: offers on a date the passenger named (None: such a MakeOffer searches as any other).
        self.make_offer_on: DatedOfferMaker | None = None
        #: Set when a remote PSS confirms bookings (two-phase, conversations/pnr_changes); None: book at once.
        self.record_intent = record_intent

    async def apply(self, s: AsyncSession, conv: Conversation, decision: Decision, now: dt.datetime, run: Run) -> list[Event]:
        """Run every command now, in order; the events they cause, to be decided next."""
        follow: list[Event] = []
        for command in decision.commands:
            if self._change(s, conv, command, now, run.seq, None):
                continue
            event = await self._act(s, conv, command, now, run)
            if event is not None:
                follow.append(event)
        return follow

    def apply_bulk(self, s: AsyncSession, conv: Conversation, decision: Decision, now: dt.datetime, batch: Batch) -> list[Event]:
        """The commands a batch can cause, their rows added to `batch`; the events they cause (a new offer the batch made).

        A MakeOffer takes the offer the batch planned for the conversation and a Withdraw one the batch
        retired; anything else means the table changed under us.
        """
        seq = itertools.count(1)
        follow: list[Event] = []
        for command in decision.commands:
            if self._change(s, conv, command, now, seq, batch):
                continue
            match command:
                case MakeOffer(reason=reason) if conv.id in batch.offers:
                    made = batch.offers.pop(conv.id)
                    if isinstance(made, OffersReady):
                        made = replace(made, reason=reason)
                        conv.offer_id, conv.first_offer_at = made.offer_id, conv.first_offer_at or now
                    else:
                        conv.offer_id = None
                    follow.append(made)
                case Withdraw() if conv.offer_id is None or conv.offer_id in batch.retired:
                    pass
                case _:
                    raise RuntimeError(f"a batch cannot cause {command!r} here; use ConversationService.run")
        return follow

    def _change(
        self,
        s: AsyncSession,
        conv: Conversation,
        command: Command,
        now: dt.datetime,
        seq: itertools.count[int],
        batch: Batch | None,
    ) -> bool:
        """Commands that only change the conversation and add rows (queued for the commit, or to `batch`)."""
        match command:
            case Send(kind=kind, params=params, once=None):
                if kind is MessageKind.REMINDER:
                    conv.reminders_sent += 1
                row = outbox_row(conv, kind, next(seq), now, params=dict(params))
                if batch is None:
                    insert_at_commit(s, OUTBOX, row)
                else:
                    batch.outbox.append(row)
            case StartTimer(kind=kind, at=at):
                conv.timer_at = at
                conv.timer_kind = kind.value
            case CancelTimer():
                conv.timer_at = None
                conv.timer_kind = None
            case Escalate(reason=reason):
                conv.escalation_reason = reason
                if batch is None:
                    self.telemetry.escalated(tier=conv.tier, reason=reason)
                else:
                    batch.escalated[(conv.tier, reason)] += 1
                audit_conversation(s, conv, "escalation.opened", now, reason=reason)
                row = _escalation_row(conv, reason, now)
                if batch is None:
                    s.add(Escalation(**row))
                else:
                    batch.escalations.append(row)
            case _:
                return False
        return True

    async def _act(self, s: AsyncSession, conv: Conversation, command: Command, now: dt.datetime, run: Run) -> Event | None:
        """Commands that need the database now: a booking, a new offer, consent, an agent's message."""
        match command:
            case Send(kind=kind, params=params, once=str(once)):
                # An agent's act: its own key, so a redelivered click or reply inserts nothing.
                await insert_ignore(s, OUTBOX, outbox_row(conv, kind, 0, now, params=dict(params), once=once))
            case Book(option_id=option_id):
                return await self._book(s, conv, option_id, now, run)
            case Change():
                run.offers.clear()
                if self.record_intent is not None:  # a remote PSS: moved when it confirmed (the pump audits it)
                    return await record_change(s, conv, command, now)
                replaced = conv.booked_option_id
                changed = await run_change(s, conv, command, now)
                if isinstance(changed, ChangeConfirmed):
                    audit_conversation(s, conv, "booking.changed", now, option_id=changed.option_id, replaced_option_id=replaced)
                return changed
            case MakeOffer(on=dt.date() as day) if self.make_offer_on is not None:
                run.offers.clear()
                return await self.make_offer_on(s, conv, day)
            case RecordChoice(choice=choice, basis=basis):
                run.offers.clear()
                if entry := await record_choice(s, conv, choice, basis, now):
                    audit_conversation(s, conv, entry[0], now, **entry[1])
            case MakeOffer(reason=reason):
                run.offers.clear()
                return await self.make_offer(s, conv, reason)
            case Withdraw():
                run.offers.clear()
                if conv.offer_id is not None:
                    await supersede_offer(s, offer_id=conv.offer_id)
            case SetConsent(channel=channel, granted=granted):
                if conv.passenger_id is not None and channel:
                    await ledger.record(
                        s,
                        passenger_id=conv.passenger_id,
                        channel=channel,
                        purpose=ledger.SERVICE,
                        granted=granted,
                        source="keyword",
                        at=now,
                    )
        return None

    async def _book(self, s: AsyncSession, conv: Conversation, option_id: int, now: dt.datetime, run: Run) -> Event | None:
        origin = await self.origins.get(s, conv.disruption_id)
        with self.telemetry.span("booking", parent=trace_of(origin), conversation_id=conv.id, option_id=option_id):
            head = next((r for r in run.offers.get(conv.offer_id or 0, ()) if r.id == option_id), None)
            if self.record_intent is not None:
                recorded = await self.record_intent(s, conv, option_id, now, head)
                run.offers.clear()
                if recorded is None:  # the PSS is asked outside this transaction; the conversation waits in CONFIRMING
                    conv.chosen_at = conv.chosen_at or now
                    return None
                result = recorded
            else:
                result = await book_option(s, option_id=option_id, now=now, head=head)
        run.offers.clear()
        if result.status in ("booked", "already_booked") and conv.offer_id is not None:
            run.offers[conv.offer_id] = ()  # accepted: no longer open, nothing to re-read
        return await self.booking_outcome(s, conv, result, now, origin)

    async def booking_outcome(self, s: AsyncSession, conv: Conversation, result: BookingResult, now: dt.datetime, origin: Origin | None) -> Event:
        """Record what a booking came to on the conversation (audit, counters, telemetry) and the event it feeds the engine."""
        first = result.status == "booked" and conv.booked_at is None
        self.telemetry.booking(outcome=result.status, seconds=since(origin, now) if first else None)
        conv.chosen_at = conv.chosen_at or now
        if result.status in ("booked", "already_booked") and result.option_id is not None:
            if result.status == "booked":
                audit_conversation(s, conv, "booking.confirmed", now, option_id=result.option_id)
                if target := conv.impact.get("capacity_target"):
                    # An equipment change's overflow moved off: the smaller aircraft's capacity follows.
                    await lower_capacity(s, flight_id=int(target[0]), cabin=str(target[1]), target=int(target[2]))
            conv.booked_option_id = result.option_id
            conv.booked_at = conv.booked_at or now
            conv.timer_at = None
            return BookingConfirmed(result.option_id)
        return BookingFailed(result.status)


def _escalation_row(conv: Conversation, reason: str, at: dt.datetime) -> dict[str, Any]:
    """An open hand-over to the desk; missed connections go first in its queue."""
    return {
        "conversation_id": conv.id,
        "disruption_id": conv.disruption_id,
        "reason": reason,
        "tier": conv.tier,
        "status": EscalationStatus.OPEN.value,
        "missed_connection": bool(conv.impact.get("missed_connection")),
        "created_at": at,
    }


def audit_conversation(s: AsyncSession, conv: Conversation, action: str, now: dt.datetime, **details: Any) -> None:
    """Bookings and escalations go to the hash-chained audit log, with ids only."""
    audit.append(
        s,
        actor="engine",
        action=action,
        subject=f"conversation:{conv.id}",
        passenger_id=conv.passenger_id,
        details={"conversation_id": conv.id, "booking_id": conv.booking_id, **details},
        at=now,
    )
