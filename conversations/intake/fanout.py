"""First offers for a batch of bookings, set-based: plan in memory, hold with one UPDATE per leg.

The per-booking path (`ConversationService.offer_batch`) costs about fifteen round trips a
booking; here a batch of a hundred costs a few dozen statements in one short transaction. The
engine still decides every transition: each booking's OffersReady / NoOptions goes through the
same pure `decide()`, and only the commands those transitions can produce are applied in bulk.

A disruption's batches form a chain (`offer_next`): one batch per disruption at a time, best
priority first, each link kicking the next; different disruptions run in parallel. Concurrent
batches of one disruption all want the same few flights, so running them side by side only made
them collide (replan, or fall back booking by booking) and let a later batch take a seat a
higher-priority booking was about to get.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.commands import Batch
from conversations.engine import (
    Event,
    NoOptions,
    OfferReason,
    OffersReady,
    Snapshot,
    Status,
    decide,
)
from conversations.impact_json import impact_from_json
from conversations.intake.ports import Step
from conversations.models import CONVERSATIONS, ESCALATIONS, OUTBOX, Conversation
from conversations.outbound_events import announce
from conversations.protect import protect_batch
from conversations.service import MAX_CONNECTION, ConversationService, pending_demand
from infra.transient import retryable
from rebooking_core.impact import ImpactedBooking
from rebooking_core.models import Disruption
from rebooking_core.network_store import load_network
from rebooking_core.offers import (
    CreatedOffer,
    PlannedOffer,
    RankingCache,
    hold_planned,
    persist_planned,
    plan_offer,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


class SeatsMoved(Exception):
    """Another batch took seats between our snapshot and our hold: plan again on fresh counts."""


#: Advisory-lock namespace of "one batch of this disruption at a time" (PostgreSQL).
FANOUT_LOCK = 0x72626B01


class FanOut:
    def __init__(self, service: ConversationService, *, attempts: int = 4, batch_size: int = 100) -> None:
        self.service = service
        self.attempts = attempts
        self.batch_size = batch_size
        #: batches, replans (seats moved), retries (deadlock/serialization), busy and fallbacks, for benches and metrics.
        self.stats: Counter[str] = Counter()

    async def offer_next(self, disruption_id: int) -> Step:
        """Offer the disruption's next `batch_size` pending bookings by priority.

        One batch per disruption runs at a time (an advisory lock on PostgreSQL, the write lock
        on SQLite), so a higher-priority booking never loses a seat to a later batch and
        concurrent batches never collide on the same flights; disruptions run in parallel. A
        chain link that finds its disruption busy stops: the running link kicks the next one.
        """
        return await self._run(disruption_id, None)

    async def offer_batch(self, disruption_id: int, conversation_ids: Sequence[int]) -> int:
        """Idempotent: only still-pending bookings are offered, so a re-run sends nothing twice."""
        return (await self._run(disruption_id, list(conversation_ids))).offered

    async def _run(self, disruption_id: int, conversation_ids: list[int] | None) -> Step:
        selected: list[int] = list(conversation_ids or [])  # what the last attempt picked, for the fallback
        step = await self.attempt(lambda: self._attempt(disruption_id, conversation_ids, selected))
        if step is not None:
            self.stats["batches" if step.offered else "idle"] += 1
            if step.offered:
                self.service.wake()
            return step
        log.info("batch contended %d times; offering booking by booking", self.attempts)
        offered = await self.service.offer_batch(selected)
        # A chain goes on after a fallback: the next link finds out cheaply whether anyone is left.
        return Step(offered, conversation_ids is None and bool(selected))

    async def attempt(self, run: Callable[[], Awaitable[T]]) -> T | None:
        """Run one batch's transaction, again on fresh counts when seats moved or the database asked; None when it never got through."""
        for _ in range(self.attempts):
            try:
                return await run()
            except SeatsMoved:
                self.stats["replans"] += 1
            except DBAPIError as exc:
                if not retryable(exc):
                    raise
                self.stats["retries"] += 1
        self.stats["fallbacks"] += 1
        return None

    async def _attempt(self, disruption_id: int, conversation_ids: list[int] | None, selected: list[int]) -> Step:
        service = self.service
        async with service.db.transaction() as s:
            if not await self._claim_disruption(s, disruption_id):
                self.stats["busy"] += 1
                return Step(0, False)
            query = select(Conversation).where(Conversation.status == Status.PENDING)
            if conversation_ids is None:
                query = query.where(Conversation.disruption_id == disruption_id).limit(self.batch_size)
            else:
                query = query.where(Conversation.id.in_(conversation_ids))
            query = query.order_by(Conversation.priority.desc(), Conversation.id)
            if not service.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            convs = list((await s.scalars(query)).all())
            selected[:] = [c.id for c in convs]
            if not convs:
                return Step(0, False)
            for conv in convs:  # changed in memory, written back with one bulk UPDATE below
                s.expunge(conv)
            disruption = await s.get(Disruption, disruption_id)
            demand = await pending_demand(s, disruption_id)
            made = await self.offer_in(s, disruption, [(c, impact_from_json(c.impact)) for c in convs], demand)
            protected = await protect_batch(
                s,
                service.config.policy,
                convs,
                made,
                disruption_id=disruption_id,
                now=service.clock(),
                telemetry=service.telemetry,
                remote=service.commands.record_intent is not None,
            )
            batch = Batch()
            for conv, offer in zip(convs, made, strict=True):
                decide_in_batch(service, s, conv, protected.get(conv.id) or made_offer(offer), batch)
            await write_batch(s, batch)
            await s.execute(_WRITE_FIRST_OFFER, [_written(conv) for conv in convs])
            await s.execute(
                update(Disruption)
                .where(Disruption.id == disruption_id)
                .values(batches_done=Disruption.batches_done + 1, offered_at=service.clock())
            )
        report_escalations(service, batch)
        return Step(len(convs), conversation_ids is None and len(convs) >= self.batch_size)

    async def offer_in(
        self,
        s: AsyncSession,
        disruption: Disruption | None,
        wanted: Sequence[tuple[Conversation, ImpactedBooking]],
        demand: dict[str, int],
    ) -> list[CreatedOffer | None]:
        """Plan every booking's options in memory on one network snapshot, best priority first, and hold them all at once.

        `demand` is the passengers still to be offered by airport (each booking's extras leave room for
        them); raises SeatsMoved when another writer took seats since the snapshot (roll back, plan again).
        """
        if not wanted:
            return []
        config = self.service.config
        now = self.service.clock()
        start = max(min(i.not_before for _, i in wanted), now)
        end = max(max(i.not_before for _, i in wanted), now) + config.search_window + MAX_CONNECTION
        network = await load_network(s, start=start, end=end, schedules=self.service.schedules)
        plans: list[PlannedOffer | None] = []
        cache: RankingCache = {}
        for conv, impacted in wanted:
            demand[conv.origin] = demand.get(conv.origin, 0) - conv.passengers
            plans.append(
                plan_offer(
                    impacted,
                    network,
                    now=now,
                    disruption_kind=disruption.kind if disruption else "cancelled",
                    reason_code=disruption.reason if disruption else None,
                    carrier_is_eu=config.carrier_is_eu,
                    max_options=config.max_options,
                    weights=config.weights,
                    extra_reserve=max(demand[conv.origin], 0),
                    cache=cache,
                )
            )
        planned = [p for p in plans if p is not None]
        if not await hold_planned(s, planned):
            raise SeatsMoved
        created = iter(await persist_planned(s, planned, now=now, hold_ttl=config.hold_ttl))
        return [next(created) if plan is not None else None for plan in plans]

    async def _claim_disruption(self, s: AsyncSession, disruption_id: int) -> bool:
        """PostgreSQL: whether no other batch of this disruption is running (held until commit)."""
        if self.service.db.is_sqlite:
            return True
        return bool(await s.scalar(select(func.pg_try_advisory_xact_lock(FANOUT_LOCK, disruption_id))))



def decide_in_batch(service: ConversationService, s: AsyncSession, conv: Conversation, event: Event, batch: Batch) -> None:
    """One conversation of a batch through the pure `decide()`, and the events its commands cause (the offer the batch made)."""
    at = service.clock()
    pending = [event]
    while pending:
        current = pending.pop(0)
        if isinstance(current, OffersReady) and conv.offer_id != current.offer_id:
            conv.offer_id = current.offer_id
            conv.first_offer_at = conv.first_offer_at or at
        decision = decide(Snapshot(status=Status(conv.status), now=at), current, service.config.policy)
        conv.status = decision.status
        announce(s, conv, current, decision, at)
        pending += service.commands.apply_bulk(s, conv, decision, at, batch)
    conv.version += 1
    conv.updated_at = at


async def write_batch(s: AsyncSession, batch: Batch) -> None:
    """The batch's messages and hand-overs, one Core INSERT per table (every row names the same columns)."""
    if batch.outbox:
        await s.execute(insert(OUTBOX), batch.outbox)
    if batch.escalations:
        await s.execute(insert(ESCALATIONS), batch.escalations)


def report_escalations(service: ConversationService, batch: Batch) -> None:
    """Escalations by tier and reason, told to telemetry once the batch has committed."""
    for (tier, reason), count in batch.escalated.items():
        service.telemetry.escalated(tier=tier, reason=reason, count=count)


#: A Core executemany by primary key: the ORM's bulk UPDATE spends ~20 µs of Python a row on bookkeeping.
_WRITE_FIRST_OFFER = update(CONVERSATIONS).where(CONVERSATIONS.c.id == bindparam("conversation_id"))


def _written(conv: Conversation) -> dict[str, object]:
    """What a first offer changes on a conversation, as one row of `_WRITE_FIRST_OFFER`."""
    return {
        "conversation_id": conv.id,
        "status": conv.status,
        "version": conv.version,
        "offer_id": conv.offer_id,
        "first_offer_at": conv.first_offer_at,
        "timer_at": conv.timer_at,
        "timer_kind": conv.timer_kind,
        "escalation_reason": conv.escalation_reason,
        "booked_option_id": conv.booked_option_id,
        "booked_at": conv.booked_at,
        "updated_at": conv.updated_at,
    }


def made_offer(offer: CreatedOffer | None) -> Event:
    """What a made offer is to the engine (a MakeOffer's command gives its own reason)."""
    if offer is None:
        return NoOptions()
    return OffersReady(
        offer_id=offer.offer_id,
        option_ids=tuple(o.option_id for o in offer.options),
        expires_at=offer.expires_at,
        reason=OfferReason.INITIAL,
    )

