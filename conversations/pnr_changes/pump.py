"""Phase two, outside any transaction: claim due changes with a lease, ask the PSS, commit what it answered.

One pass claims `concurrency` changes at a time (a guarded UPDATE sets the lease, so two workers
never take one row, and a lease covers one round of calls), calls the PSS for each with no
transaction open, then records each answer in a transaction of its own, fenced by the claim token:
a worker whose lease ran out records nothing. A confirmation books the
held seats locally (`two_phase.complete`) and feeds `BookingConfirmed` to the conversation in that
same transaction, so "booked" reaches the outbox exactly once; a refusal reopens the offer and
feeds `BookingFailed`, so the passenger gets a fresh offer; the cap feeds `BookingUnconfirmed`
(the desk, reason `pss_unconfirmed`). A worker killed after the call and before that commit
leaves the row `sending` with a lease that expires: the next claim asks `change_status` first
(`rules.first_call`), and the same idempotency key makes even a second send harmless.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.clock import Clock, utcnow
from conversations.commands import audit_conversation
from conversations.engine import (
    BookingFailed,
    BookingUnconfirmed,
    ChangeConfirmed,
    ChangeFailed,
    Event,
    OffersReady,
    Protected,
    Status,
)
from conversations.models import Conversation
from conversations.pnr_changes.models import PnrChangeRow
from conversations.pnr_changes.rules import (
    LIVE,
    Call,
    IntentPolicy,
    IntentState,
    Next,
    after,
    change_from_json,
    first_call,
)
from conversations.service import ConversationService
from rebooking_core.airline.ports import PnrOutcome, PnrState, PssUnavailable, Reservations
from rebooking_core.booking import BookingStatus
from rebooking_core.booking.change import ChangeStatus, complete_change
from rebooking_core.booking.two_phase import complete, give_back, keep_version

log = logging.getLogger(__name__)

__all__ = ["PnrChangePump", "REFUSED_REASON"]

#: The reason of the `BookingFailed` a PSS refusal feeds the conversation (it re-offers).
REFUSED_REASON = "pss_refused"

_LIVE = [s.value for s in LIVE]


@dataclass(frozen=True)
class _Claimed:
    id: int
    conversation_id: int
    offer_id: int
    option_id: int
    locator: str
    key: str
    change: dict[str, Any]
    state: IntentState
    attempts: int
    created_at: dt.datetime
    token: str


class PnrChangePump:
    """Sends recorded PNR changes to the PSS and feeds each final answer to its conversation."""

    def __init__(
        self,
        service: ConversationService,
        reservations: Reservations,
        *,
        policy: IntentPolicy | None = None,
        clock: Clock = utcnow,
        batch: int = 50,
        concurrency: int = 8,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.service = service
        self.db = service.db
        self.pss = reservations
        self.policy = policy or IntentPolicy()
        self.clock = clock
        self.batch = batch
        self.concurrency = concurrency
        self.on_outcome = on_outcome or (lambda outcome: None)

    async def run_once(self) -> int:
        """One pass: up to `batch` changes, claimed `concurrency` at a time, so a lease covers one round of calls."""
        done = 0
        while done < self.batch:
            limit = min(self.concurrency, self.batch - done)
            claimed = await self._claim(limit)
            if claimed:
                await asyncio.gather(*(self._attempt(c) for c in claimed))
                done += len(claimed)
            if len(claimed) < limit:
                break
        if done:
            self.service.wake()
        return done

    async def drain(self, rounds: int = 50) -> int:
        """Passes until one claims nothing (tests and one-shot use); what is not yet due stays."""
        total = 0
        for _ in range(rounds):
            done = await self.run_once()
            total += done
            if not done:
                break
        return total

    async def _claim(self, limit: int) -> list[_Claimed]:
        now = self.clock()
        token = uuid.uuid4().hex
        free = or_(PnrChangeRow.lease_until.is_(None), PnrChangeRow.lease_until <= now)
        due = (PnrChangeRow.state.in_(_LIVE)) & (PnrChangeRow.next_at <= now) & free
        async with self.db.transaction() as s:
            ids = list(
                (
                    await s.scalars(
                        select(PnrChangeRow.id)
                        .where(due)
                        .order_by(PnrChangeRow.next_at, PnrChangeRow.id)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
            )
            if not ids:
                return []
            rows = await s.execute(
                update(PnrChangeRow)
                .where(PnrChangeRow.id.in_(ids), due)
                .values(
                    lease_until=now + self.policy.lease,
                    claim=token,
                    attempts=PnrChangeRow.attempts + 1,
                    updated_at=now,
                )
                .returning(
                    PnrChangeRow.id,
                    PnrChangeRow.conversation_id,
                    PnrChangeRow.offer_id,
                    PnrChangeRow.option_id,
                    PnrChangeRow.locator,
                    PnrChangeRow.idempotency_key,
                    PnrChangeRow.change,
                    PnrChangeRow.state,
                    PnrChangeRow.attempts,
                    PnrChangeRow.created_at,
                )
                .execution_options(synchronize_session=False)
            )
            return [
                _Claimed(
                    r.id,
                    r.conversation_id,
                    r.offer_id,
                    r.option_id,
                    r.locator,
                    r.idempotency_key,
                    r.change,
                    IntentState(r.state),
                    int(r.attempts),
                    r.created_at,
                    token,
                )
                for r in rows.all()
            ]

    async def _attempt(self, c: _Claimed) -> None:
        outcome = await self._call(c)
        now = self.clock()
        step = after(
            self.policy,
            state=c.state,
            attempts=c.attempts,
            created_at=c.created_at,
            now=now,
            outcome=outcome,
        )
        await self._record(c, step, outcome, now)
        self.on_outcome(
            step.state.value if step.state not in LIVE or outcome is not None else "no_answer"
        )

    async def _call(self, c: _Claimed) -> PnrOutcome | None:
        """The PSS's answer for this change; None when it gave none (`PssUnavailable`)."""
        change = change_from_json(c.change)
        try:
            if first_call(c.state, c.attempts - 1) is Call.ASK:
                asked = await self.pss.change_status(c.locator, c.key)
                if asked.state is not PnrState.UNKNOWN:
                    return asked
                # It never arrived: send it again, with the same key.
            return await self.pss.change(change, idempotency_key=c.key)
        except PssUnavailable:
            log.info("PSS gave no answer for change %s (attempt %d)", c.id, c.attempts)
            return None

    async def _record(
        self, c: _Claimed, step: Next, outcome: PnrOutcome | None, now: dt.datetime
    ) -> None:
        """The answer and what it means for the conversation, in one transaction, if this worker still holds the lease."""
        values: dict[str, Any] = {
            "state": step.state.value,
            "lease_until": None,
            "claim": None,
            "updated_at": now,
            "reason": step.reason,
        }
        if step.at is not None:
            values["next_at"] = step.at
        if outcome is not None and outcome.ticket is not None:
            values["ticket"] = outcome.ticket[:24]
        async with self.db.transaction() as s:
            fenced = await s.execute(
                update(PnrChangeRow)
                .where(PnrChangeRow.id == c.id, PnrChangeRow.claim == c.token)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if cast("CursorResult[Any]", fenced).rowcount != 1:
                log.warning(
                    "change %s: lease lost before its answer was recorded; the next claim asks the PSS again",
                    c.id,
                )
                return
            if step.state in LIVE:
                return
            conv = await self._lock(s, c.conversation_id)
            if conv is None:
                return
            event = await self._event(s, conv, c, step, outcome, now)
            await self.service.run(s, conv, event)

    async def _event(
        self,
        s: AsyncSession,
        conv: Conversation,
        c: _Claimed,
        step: Next,
        outcome: PnrOutcome | None,
        now: dt.datetime,
    ) -> Event:
        """What the final answer tells the conversation, with the seats and the offer moved to match."""
        if conv.booked_option_id not in (None, c.option_id) and conv.status != Status.CONFIRMING:
            return await self._change_event(s, conv, c, step, outcome, now)
        if conv.status == Status.CONFIRMING and conv.chosen_at is None:
            # No one chose: the fan-out protected this booking (a choice, the passenger's or an agent's, sets chosen_at).
            return await self._protection_event(s, conv, c, step, outcome, now)
        if step.state is IntentState.CONFIRMED:
            result = await complete(s, option_id=c.option_id)
            if result.status is BookingStatus.BOOKED:
                await _keep_version(s, conv, outcome)
                origin = await self.service.origins.get(s, conv.disruption_id)
                return await self.service.commands.booking_outcome(s, conv, result, now, origin)
            await _unbookable_here(s, "change", c.id, result.status)
        await give_back(s, offer_id=c.offer_id)
        if step.state is IntentState.REFUSED:
            return BookingFailed(REFUSED_REASON)
        return BookingUnconfirmed()

    async def _change_event(
        self,
        s: AsyncSession,
        conv: Conversation,
        c: _Claimed,
        step: Next,
        outcome: PnrOutcome | None,
        now: dt.datetime,
    ) -> Event:
        """The answer to a change after booking: the booking moved now if the PSS confirmed, else it stands."""
        replaced = conv.booked_option_id
        if step.state is IntentState.CONFIRMED and replaced is not None:
            result = await complete_change(s, booked_option_id=replaced, option_id=c.option_id)
            if result.status is ChangeStatus.CHANGED and result.option_id is not None:
                await _keep_version(s, conv, outcome)
                conv.booked_option_id = result.option_id
                conv.offer_id = result.offer_id
                conv.chosen_at = now
                audit_conversation(
                    s, conv, "booking.changed", now, option_id=result.option_id, replaced_option_id=replaced
                )
                return ChangeConfirmed(result.option_id)
            await _unbookable_here(s, "change after booking", c.id, result.status)
        await give_back(s, offer_id=c.offer_id)
        if step.state is IntentState.REFUSED:
            # The earlier booking stands; the re-offer supersedes the given-back offer and frees its seats.
            return ChangeFailed(ChangeStatus.UNAVAILABLE.value)
        return BookingUnconfirmed()

    async def _protection_event(
        self,
        s: AsyncSession,
        conv: Conversation,
        c: _Claimed,
        step: Next,
        outcome: PnrOutcome | None,
        now: dt.datetime,
    ) -> Event:
        """The answer to a protection: booked with its held seats and told (PROTECTED), or offered as if never tried."""
        if step.state is IntentState.CONFIRMED:
            result = await complete(s, option_id=c.option_id)
            if result.status is BookingStatus.BOOKED:
                await _keep_version(s, conv, outcome)
                conv.booked_option_id, conv.booked_at = c.option_id, conv.booked_at or now
                conv.first_offer_at = conv.first_offer_at or now
                audit_conversation(s, conv, "booking.protected", now, option_id=c.option_id)
                self.service.telemetry.booking(outcome="protected", seconds=None)
                return Protected(c.offer_id, c.option_id)
            await _unbookable_here(s, "protection", c.id, result.status)
        await give_back(s, offer_id=c.offer_id)
        if step.state is IntentState.REFUSED:
            rows = await self.service.offer_state(s, c.offer_id)
            if rows and rows[0].status == "open":
                conv.first_offer_at = conv.first_offer_at or now
                return OffersReady(c.offer_id, tuple(r.id for r in rows), rows[0].expires_at)
            return BookingFailed(REFUSED_REASON)
        return BookingUnconfirmed()

    async def _lock(self, s: AsyncSession, conversation_id: int) -> Conversation | None:
        query = select(Conversation).where(Conversation.id == conversation_id)
        if not self.db.is_sqlite:
            query = query.with_for_update()
        return (await s.scalars(query)).first()


async def _keep_version(s: AsyncSession, conv: Conversation, outcome: PnrOutcome | None) -> None:
    """The PNR version the PSS answered with: the next change is planned on it."""
    if outcome is not None and outcome.version is not None:
        await keep_version(s, booking_id=conv.booking_id, version=outcome.version)


async def _unbookable_here(s: AsyncSession, what: str, change_id: int, status: str) -> None:
    """The PSS confirmed what rebook can no longer do here (the booking changed meanwhile): the desk reconciles."""
    log.warning("%s %s confirmed by the PSS but not bookable locally (%s)", what, change_id, status)
    await s.execute(
        update(PnrChangeRow)
        .where(PnrChangeRow.id == change_id)
        .values(state=IntentState.ESCALATED.value, reason=f"local_{status}")
    )
