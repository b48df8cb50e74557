"""Apply one event to one conversation: lock, load, decide, run commands, save with the outbox."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.choices import OFF, ChoiceConfig, on_date
from conversations.clock import Clock, utcnow
from conversations.commands import CommandApplier, Run
from conversations.dedupe import claim_event
from conversations.engine import (
    Decision,
    Event,
    MessageKind,
    NoOptions,
    OfferReason,
    OffersReady,
    Policy,
    Snapshot,
    Status,
    decide,
)
from conversations.impact_json import impact_from_json
from conversations.models import Conversation, OutboxMessage
from conversations.outbound_events import announce
from conversations.outbox.ports import Telemetry
from conversations.outbox.telemetry import NO_TELEMETRY, Origins
from conversations.rechoose import without_booked
from infra.db import Database
from infra.transient import retryable
from rebooking_core import airports
from rebooking_core.booking import OPTION_HEAD
from rebooking_core.impact import ImpactedBooking
from rebooking_core.impact_rules import DEFAULT_REBOOK_DELAY_THRESHOLD
from rebooking_core.models import Disruption, Offer, OfferOption
from rebooking_core.network import NetworkSnapshot, ScheduleCache
from rebooking_core.network_store import load_network
from rebooking_core.offers import create_offer, supersede_offer
from rebooking_core.ranking import RankingWeights
from rebooking_core.rights.carriers import Carriers

#: Second legs may leave this long after the search window's end (options.find_itineraries' default).
MAX_CONNECTION = dt.timedelta(hours=6)


@dataclass(frozen=True)
class EngineConfig:
    policy: Policy = field(default_factory=Policy)
    max_options: int = 3
    hold_ttl: dt.timedelta = dt.timedelta(minutes=40)
    search_window: dt.timedelta = dt.timedelta(hours=48)
    carrier_is_eu: bool = True
    weights: RankingWeights = field(default_factory=RankingWeights)
    commit_every: int = 1
    #: A delay that ends a journey disrupts it from this much late arrival on (connections: whenever one breaks).
    delay_threshold: dt.timedelta = DEFAULT_REBOOK_DELAY_THRESHOLD
    #: The operating carriers' licences and APPR size, for passengers' compensation claims.
    carriers: Carriers = field(default_factory=Carriers)
    #: The passenger's own choices beside the options (refund, keep, later date); off unless the settings turn them on.
    choices: ChoiceConfig = OFF


class ConversationService:
    """The only writer of conversation state; every change commits with the messages it causes."""

    def __init__(
        self,
        db: Database,
        *,
        config: EngineConfig | None = None,
        clock: Clock = utcnow,
        on_outbox: Callable[[], None] | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.db = db
        self.config = config or EngineConfig()
        self.clock = clock
        self.on_outbox = on_outbox
        self.telemetry = telemetry or NO_TELEMETRY
        self.origins = Origins()
        #: This process's flight schedules, checked against the database at every load.
        self.schedules = ScheduleCache()
        self.commands = CommandApplier(telemetry=self.telemetry, origins=self.origins, make_offer=self._make_offer)
        self.commands.make_offer_on = self._offer_on_date

    # ---- entry points ----

    async def handle(
        self,
        conversation_id: int,
        event: Event,
        *,
        dedupe: tuple[str, str] | None = None,
        session: AsyncSession | None = None,
    ) -> list[Decision]:
        """Apply `event`; with `dedupe`, a provider event id seen before changes nothing."""
        if session is not None:
            return await self._handle_in(session, conversation_id, event, dedupe)
        async with self.db.transaction() as s:
            decisions = await self._handle_in(s, conversation_id, event, dedupe)
        self.wake()
        return decisions

    async def _handle_in(
        self, s: AsyncSession, conversation_id: int, event: Event, dedupe: tuple[str, str] | None
    ) -> list[Decision]:
        if dedupe is not None and not await claim_event(s, *dedupe, at=self.clock()):
            return []
        conv = await self._lock(s, conversation_id)
        if conv is None:
            return []
        return await self.run(s, conv, event)

    async def offer_batch(self, conversation_ids: Sequence[int]) -> int:
        """Create offers for pending conversations, best priority first; re-running sends nothing twice.

        Each booking commits on its own, so seat-counter row locks are held for milliseconds and
        parallel batches on other workers never queue behind a whole batch.
        """
        async with self.db.reading() as s:
            convs = list(
                (
                    await s.scalars(
                        select(Conversation)
                        .where(Conversation.id.in_(list(conversation_ids)), Conversation.status == Status.PENDING)
                        .order_by(Conversation.priority.desc(), Conversation.id)
                    )
                ).all()
            )
            if not convs:
                return 0
            impacts = {c.id: impact_from_json(c.impact) for c in convs}
            start = min(i.not_before for i in impacts.values())
            end = max(i.not_before for i in impacts.values()) + self.config.search_window + MAX_CONNECTION
            network = await load_network(s, start=start, end=end, schedules=self.schedules)
            disruption = await s.get(Disruption, convs[0].disruption_id)
            demand = await pending_demand(s, convs[0].disruption_id)
        offered = 0
        chunk = self.config.commit_every
        for first in range(0, len(convs), chunk):
            planned = convs[first : first + chunk]
            reserves = []
            for conv in planned:
                demand[conv.origin] = demand.get(conv.origin, 0) - conv.passengers
                reserves.append(max(demand[conv.origin], 0))
            for attempt in range(1, 4):
                try:
                    offered += await self._offer_chunk(planned, reserves, impacts, network, disruption)
                    break
                except DBAPIError as exc:
                    if attempt == 3 or not retryable(exc):
                        raise
        async with self.db.transaction() as s:
            await s.execute(
                update(Disruption)
                .where(Disruption.id == convs[0].disruption_id)
                .values(batches_done=Disruption.batches_done + 1, offered_at=self.clock())
            )
        self.wake()
        return offered

    async def _offer_chunk(
        self,
        planned: list[Conversation],
        reserves: list[int],
        impacts: dict[int, ImpactedBooking],
        network: NetworkSnapshot,
        disruption: Disruption | None,
    ) -> int:
        """A few bookings per transaction: fewer commits, and seat-counter locks still held only briefly."""
        done = 0
        async with self.db.transaction() as s:
            for item, reserve in zip(planned, reserves, strict=True):
                conv = await self._lock(s, item.id, pending_only=True)
                if conv is None:
                    continue
                event = await self._make_offer(s, conv, OfferReason.INITIAL, network, disruption, impacts[conv.id], reserve)
                await self.run(s, conv, event)
                done += 1
        return done

    # ---- the loop ----

    async def run(
        self, s: AsyncSession, conv: Conversation, event: Event, *, offer: Sequence[Any] | None = None
    ) -> list[Decision]:
        """Decide, run the commands, and feed their outcomes back until nothing follows.

        `offer` is the conversation's offer as `offer_state` just read it in this transaction.
        """
        run = Run()
        if offer is not None and conv.offer_id is not None:
            run.offers[conv.offer_id] = offer
        decisions: list[Decision] = []
        pending: list[Event] = [event]
        while pending:
            current = pending.pop(0)
            now = self.clock()
            decision = decide(await self._snapshot(s, conv, now, run), current, self.config.policy)
            conv.status = decision.status
            decisions.append(decision)
            announce(s, conv, current, decision, now)
            pending += await self.commands.apply(s, conv, decision, now, run)
        conv.version += 1
        conv.updated_at = self.clock()
        return decisions

    @staticmethod
    async def offer_state(s: AsyncSession, offer_id: int) -> Sequence[Any]:
        """The offer's status and deadline with its options (id, rank, what booking needs), best first."""
        return (await s.execute(_OFFER_STATE, {"offer_id": offer_id})).all()

    async def _snapshot(self, s: AsyncSession, conv: Conversation, now: dt.datetime, run: Run) -> Snapshot:
        option_ids: tuple[int, ...] = ()
        expires_at = None
        if conv.offer_id is not None:
            rows = run.offers.get(conv.offer_id)
            if rows is None:
                rows = run.offers[conv.offer_id] = await self.offer_state(s, conv.offer_id)
            if rows and rows[0].status == "open":
                expires_at = rows[0].expires_at
                option_ids = tuple(r.id for r in rows)
        return Snapshot(
            status=Status(conv.status),
            now=now,
            offer_id=conv.offer_id,
            option_ids=option_ids,
            offer_expires_at=expires_at,
            offered_at=conv.first_offer_at,
            reminders_sent=conv.reminders_sent,
            booked_option_id=conv.booked_option_id,
            protected=conv.booked_option_id is not None and conv.chosen_at is None,
        )

    async def _make_offer(
        self,
        s: AsyncSession,
        conv: Conversation,
        reason: OfferReason,
        network: NetworkSnapshot | None = None,
        disruption: Disruption | None = None,
        impacted: ImpactedBooking | None = None,
        extra_reserve: int = 0,
    ) -> Event:
        now = self.clock()
        if conv.offer_id is not None:
            await supersede_offer(s, offer_id=conv.offer_id)
        impacted = impacted or impact_from_json(conv.impact)
        if conv.booked_option_id is not None:  # fresh options after booking fly other flights than the booked ones
            impacted = await without_booked(s, conv.booked_option_id, impacted)
        disruption = disruption or await s.get(Disruption, conv.disruption_id)
        not_before = max(impacted.not_before, now)
        if network is None:
            network = await load_network(
                s,
                start=not_before,
                end=not_before + self.config.search_window + MAX_CONNECTION,
                schedules=self.schedules,
            )
        created = await create_offer(
            s,
            impacted=impacted,
            snapshot=network,
            now=now,
            disruption_kind=disruption.kind if disruption else "cancelled",
            reason_code=disruption.reason if disruption else None,
            carrier_is_eu=self.config.carrier_is_eu,
            max_options=self.config.max_options,
            hold_ttl=self.config.hold_ttl,
            weights=self.config.weights,
            extra_reserve=extra_reserve,
        )
        if created is None:
            conv.offer_id = None
            return NoOptions()
        conv.offer_id = created.offer_id
        conv.first_offer_at = conv.first_offer_at or now
        return OffersReady(
            offer_id=created.offer_id,
            option_ids=tuple(o.option_id for o in created.options),
            expires_at=created.expires_at,
            reason=reason,
        )

    async def _offer_on_date(self, s: AsyncSession, conv: Conversation, day: dt.date) -> Event:
        """An offer of flights leaving on `day` (local at the departure airport), held like any other.

        Nothing that day: the options are offered again (searched afresh, the earlier holds went back
        first) with "nothing on <day>", so the passenger may name another day or choose; after
        `choices.later_tries` such days, or when nothing is found at all, it escalates as no options.
        """
        if conv.offer_id is not None:
            await supersede_offer(s, offer_id=conv.offer_id)
            conv.offer_id = None
        impacted = impact_from_json(conv.impact)
        impacted, _, end = on_date(impacted, day, airports.get(impacted.rebook_from).tz)
        start = max(impacted.not_before, self.clock())
        network = await load_network(s, start=start, end=end, schedules=self.schedules)
        found = await self._make_offer(s, conv, OfferReason.LATER_DATE, network, None, impacted)
        if not isinstance(found, NoOptions):
            return found
        empty_days = await s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.conversation_id == conv.id, OutboxMessage.key == MessageKind.NOTHING_ON_DATE.value)
        )
        if (empty_days or 0) + 1 >= self.config.choices.later_tries:
            return found
        again = await self._make_offer(s, conv, OfferReason.NOTHING_ON_DATE)
        return dataclasses.replace(again, on=day) if isinstance(again, OffersReady) else again

    async def _lock(self, s: AsyncSession, conversation_id: int, *, pending_only: bool = False) -> Conversation | None:
        query = select(Conversation).where(Conversation.id == conversation_id)
        if pending_only:
            query = query.where(Conversation.status == Status.PENDING)
        if not self.db.is_sqlite:
            query = query.with_for_update(skip_locked=pending_only)
        return (await s.scalars(query)).first()

    def wake(self) -> None:
        if self.on_outbox is not None:
            self.on_outbox()


#: The offer's deadline and options, best first, with what booking one needs (built once: every reply reads it).
_OFFER_STATE = (
    select(*OPTION_HEAD, OfferOption.__table__.c.rank)
    .select_from(Offer.__table__.join(OfferOption.__table__, OfferOption.__table__.c.offer_id == Offer.__table__.c.id))
    .where(Offer.__table__.c.id == bindparam("offer_id"))
    .order_by(OfferOption.__table__.c.rank)
)


async def pending_demand(s: AsyncSession, disruption_id: int) -> dict[str, int]:
    """Passengers still waiting for a first offer, by the airport they leave from."""
    rows = await s.execute(
        select(Conversation.origin, func.sum(Conversation.passengers))
        .where(Conversation.disruption_id == disruption_id, Conversation.status == Status.PENDING)
        .group_by(Conversation.origin)
    )
    return {origin: int(n or 0) for origin, n in rows.all()}
