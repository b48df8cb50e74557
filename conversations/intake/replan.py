"""A flight update followed in its disruption's conversations, batch by batch, resumable after a crash.

The update's own transaction (`story.apply_in`) moves the flight and records the update as
`applying`. Then the disruption is assessed once and the conversations it changes are re-planned
in priority batches (`replan`): each batch locks its conversations, supersedes their old offers
(seats released) and holds the new ones on one network snapshot in the same transaction, through
the fan-out's machinery (`FanOut.offer_in`, `CommandApplier.apply_bulk`, one INSERT per table).
A last transaction adds newly hit bookings, records claims and marks the update `applied`.

A crash between batches leaves each booking on its old offer or its new one; re-applying the
update (or any later one of the flight) assesses again and finishes: a booking whose impact is
already the fresh one is not touched twice. A newer update of the disruption stops an older one's
batches (its own assessment covers them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.commands import Batch
from conversations.desk.models import QueueCard
from conversations.desk.notes import StoryNote, tell_agents
from conversations.engine import DisruptionUpdated, Event, OffersWithdrawn, Status
from conversations.intake.fanout import (
    FanOut,
    decide_in_batch,
    made_offer,
    report_escalations,
    write_batch,
)
from conversations.models import CONVERSATIONS, Conversation
from conversations.service import ConversationService, pending_demand
from rebooking_core import claims
from rebooking_core.allocation import order_for_allocation
from rebooking_core.impact import ImpactedBooking
from rebooking_core.models import Disruption, DisruptionUpdate, OfferOption
from rebooking_core.offers import supersede_offers

if TYPE_CHECKING:
    from conversations.intake.story import Spill

#: An update whose flight changed and whose conversations are being re-planned (a crash may leave it so).
APPLYING = "applying"
APPLIED = "applied"

_LIFTABLE = (Status.PENDING.value, Status.OFFERED.value, Status.ESCALATED.value, Status.OPTED_OUT.value)
#: Conversations whose options follow the story with one message (an agent's follow silently).
_FOLLOWS = (Status.OFFERED.value, Status.ESCALATED.value)
_HELD = (Status.AGENT.value, Status.CONFIRMING.value)
#: Conversations an agent holds or waits for: the desk hears of the story's changes to them.
WITH_DESK = (Status.ESCALATED.value, Status.AGENT.value)
#: What in a booking's impact, when it changes, makes its current offer no longer fit (its cause among them).
MATERIAL = (
    "cause",
    "rebook_from",
    "not_before",
    "replaced_segment_ids",
    "missed_connection",
    "destination",
    "expected_departure",
)


def material(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return any(old.get(k) != new.get(k) for k in MATERIAL)


class Change(Enum):
    """What the update does to one conversation."""

    #: No longer disrupted and still waiting: its offer is withdrawn and the passenger told to keep the flight.
    LIFT = "lift"
    #: No longer disrupted while an agent or a booking in flight holds it: marked, the agent decides.
    MARK_LIFTED = "mark lifted"
    #: Still disrupted, differently: a new offer replaces the old (told once; an agent's silently).
    REPLAN = "replan"
    #: Still disrupted, differently, while its booking is in flight: the new impact waits for the outcome.
    KEEP_IMPACT = "keep impact"
    #: Waiting for its first offer: the fan-out will make it on the new impact.
    REFRESH = "refresh"
    #: Lifted before and hit again: the same conversation starts over.
    RESTART = "restart"


def change_for(status: str, impact: dict[str, Any], fresh: dict[str, Any] | None) -> Change | None:
    """The one rule of what an update does to a conversation in `status` whose impact becomes `fresh` (None: not hit)."""
    if fresh is None:
        if status in _LIFTABLE:
            return Change.LIFT
        if status in _HELD and not impact.get("lifted"):
            return Change.MARK_LIFTED
        return None
    changed = material(impact, fresh)
    if status == Status.AGENT.value and changed:
        return Change.REPLAN
    if status == Status.CONFIRMING.value and changed:
        return Change.KEEP_IMPACT
    if status == Status.CLOSED.value and impact.get("lifted"):
        return Change.RESTART
    if status == Status.PENDING.value and impact != fresh:
        return Change.REFRESH
    if status in _FOLLOWS and changed:
        return Change.REPLAN
    return None


@dataclass
class Tally:
    """What the re-plan did: re-offered with one message (an agent's passenger is not told), lifted, newly pending;
    whether a newer update overtook it (and finishes the job)."""

    updated: int = 0
    withdrawn: int = 0
    added: int = 0
    overtaken: bool = False
    desk_news: bool = False
    steps: Counter[Change] = field(default_factory=Counter)


@dataclass(frozen=True)
class Assessment:
    """Who the disruption hits now, their impacts as conversations keep them, and the newest update it answers to."""

    disruption_id: int
    mark: int
    impacted: list[ImpactedBooking]
    spilled: Spill
    fresh: dict[int, dict[str, Any]]
    #: Conversation ids with something to do, best priority first.
    work: list[int]
    #: Passengers waiting for a first offer or a re-plan, by airport: the extras each new offer leaves room for.
    demand: dict[str, int]

    @cached_property
    def by_booking(self) -> dict[int, ImpactedBooking]:
        return {i.booking_id: i for i in self.impacted}


async def replan(service: ConversationService, disruption_id: int, *, fanout: FanOut | None = None) -> Tally:
    """Follow the disruption's current state in all its conversations and finish its `applying` updates."""
    from conversations.intake.story import impact_json, impacted_now

    fanout = fanout or FanOut(service)
    now = service.clock()
    async with service.db.transaction() as s:
        disruption = await s.get(Disruption, disruption_id)
        if disruption is None:
            return Tally()
        found, spilled = await impacted_now(s, disruption, now=now, delay_threshold=service.config.delay_threshold)
        fresh = {i.booking_id: impact_json(i, spilled, disruption) for i in found}
        mark = await _newest(s, disruption_id)
        rows = (
            await s.execute(
                select(Conversation.id, Conversation.booking_id, Conversation.status, Conversation.impact, Conversation.origin, Conversation.passengers)
                .where(Conversation.disruption_id == disruption_id)
                .order_by(Conversation.priority.desc(), Conversation.id)
            )
        ).all()
        demand = await pending_demand(s, disruption_id)
    work: list[int] = []
    for conv_id, booking_id, status, impact, origin, passengers in rows:
        step = change_for(status, impact, fresh.get(booking_id))
        if step is not None:
            work.append(conv_id)
            if step is Change.REPLAN:
                demand[origin] = demand.get(origin, 0) + passengers
    plan = Assessment(disruption_id, mark, found, spilled, fresh, work, demand)
    tally = Tally()
    for first in range(0, len(work), fanout.batch_size):
        ids = work[first : first + fanout.batch_size]
        done = await fanout.attempt(partial(_batch, service, fanout, plan, ids, tally))
        if done is None:
            done = await _batch(service, fanout, plan, ids, tally, one_by_one=True)
        if not done:
            tally.overtaken = True
            return tally
    await _finish(service, plan, tally)
    return tally


async def _newest(s: AsyncSession, disruption_id: int) -> int:
    """The newest update of the disruption that moved its flight (applying or applied)."""
    newest = await s.scalar(
        select(func.max(DisruptionUpdate.id)).where(
            DisruptionUpdate.disruption_id == disruption_id, DisruptionUpdate.outcome.in_([APPLYING, APPLIED])
        )
    )
    return int(newest or 0)


async def _batch(
    service: ConversationService, fanout: FanOut, plan: Assessment, ids: list[int], tally: Tally, *, one_by_one: bool = False
) -> bool:
    """One batch in one transaction; False when a newer update took the disruption over (it re-plans everything).

    `one_by_one` is the fallback of a batch that never got its seats: each re-plan makes its own offer.
    """
    steps: Counter[Change] = Counter()
    told = 0
    desk_news = False
    batch = Batch()
    demand = dict(plan.demand)  # this attempt's copy: a replan starts again from the batch's start
    async with service.db.transaction() as s:
        if await _newest(s, plan.disruption_id) != plan.mark:
            return False
        query = select(Conversation).where(Conversation.id.in_(ids)).order_by(Conversation.priority.desc(), Conversation.id)
        if not service.db.is_sqlite:
            query = query.with_for_update()
        convs = list((await s.scalars(query)).all())
        events: list[tuple[Conversation, Event]] = []
        marked: list[Conversation] = []
        for conv in convs:
            fresh = plan.fresh.get(conv.booking_id)
            step = change_for(conv.status, conv.impact, fresh)
            if step is None:
                continue
            steps[step] += 1
            told += step is Change.REPLAN and conv.status in _FOLLOWS
            if conv.status in WITH_DESK and step in (Change.LIFT, Change.REPLAN):
                desk_news = True
            if step in (Change.LIFT, Change.MARK_LIFTED):
                conv.impact = {**conv.impact, "lifted": True}
                if step is Change.MARK_LIFTED:
                    marked.append(conv)
                if step is Change.LIFT:
                    events.append((conv, OffersWithdrawn()))
                continue
            assert fresh is not None
            if step is Change.RESTART:
                conv.impact, conv.status, conv.offer_id = fresh, Status.PENDING.value, None
                conv.timer_at = conv.timer_kind = None
                continue
            conv.impact = fresh
            if step is Change.REPLAN:
                events.append((conv, DisruptionUpdated()))
        if one_by_one:
            for conv, event in events:
                await service.run(s, conv, event)
        else:
            batch.retired = await supersede_offers(s, [c.offer_id for c, _ in events if c.offer_id is not None])
            replans = [c for c, e in events if isinstance(e, DisruptionUpdated)]
            wanted = [(c, plan.by_booking[c.booking_id]) for c in replans]
            made = await fanout.offer_in(s, await s.get(Disruption, plan.disruption_id), wanted, demand)
            batch.offers = {c.id: made_offer(o) for c, o in zip(replans, made, strict=True)}
            for conv, event in events:
                decide_in_batch(service, s, conv, event, batch)
            await write_batch(s, batch)
        replanned = [c for c, e in events if isinstance(e, DisruptionUpdated)]
        await tell_agents(s, await _agent_notes(s, marked + replanned), once=f"update-{plan.mark}", at=service.clock())
    if not one_by_one:
        plan.demand.clear()
        plan.demand.update(demand)
    report_escalations(service, batch)
    tally.steps += steps
    tally.updated += told
    tally.desk_news |= desk_news
    return True


async def _agent_notes(s: AsyncSession, convs: list[Conversation]) -> list[StoryNote]:
    """What the agents who own these conversations are told: re-planned (cause, options held) or lifted."""
    mine = [c for c in convs if c.status == Status.AGENT.value]
    offers = [c.offer_id for c in mine if c.offer_id is not None]
    held: dict[int, int] = {}
    if offers:
        counted = await s.execute(
            select(OfferOption.offer_id, func.count()).where(OfferOption.offer_id.in_(offers)).group_by(OfferOption.offer_id)
        )
        held = {int(offer_id): int(n) for offer_id, n in counted.all()}
    return [
        StoryNote(c.id, lifted=True)
        if c.impact.get("lifted")
        else StoryNote(
            c.id,
            cause=str(c.impact.get("cause", "cancelled")),
            options=held.get(c.offer_id or 0, 0),
            expected_departure=c.impact.get("expected_departure"),
        )
        for c in mine
    ]


async def _finish(service: ConversationService, plan: Assessment, tally: Tally) -> None:
    """Newly hit bookings get a pending conversation, claims follow the new impacts, the updates are `applied`."""
    from conversations.intake.story import new_rows, settle

    now = service.clock()
    async with service.db.transaction() as s:
        disruption = await s.get(Disruption, plan.disruption_id)
        if disruption is None:
            return
        known = set((await s.scalars(select(Conversation.booking_id).where(Conversation.disruption_id == disruption.id))).all())
        fresh_ones = [i for i in order_for_allocation(plan.impacted) if i.booking_id not in known]
        rows = new_rows(disruption, fresh_ones, now, plan.spilled)
        if rows:
            await s.execute(insert(CONVERSATIONS), rows)
        tally.withdrawn = tally.steps[Change.LIFT]
        tally.added = tally.steps[Change.RESTART] + len(rows)
        await claims.record(s, disruption, plan.impacted, now=now, carriers=service.config.carriers)
        disruption.impacted_passengers = sum(i.passengers for i in plan.impacted)
        if tally.added:
            disruption.status = "offering"
        if tally.desk_news:
            await s.execute(
                update(QueueCard).where(QueueCard.disruption_id == disruption.id).values(dirty=True).execution_options(synchronize_session=False)
            )
        await s.execute(
            update(DisruptionUpdate)
            .where(DisruptionUpdate.disruption_id == disruption.id, DisruptionUpdate.outcome == APPLYING, DisruptionUpdate.id <= plan.mark)
            .values(outcome=APPLIED)
            .execution_options(synchronize_session=False)
        )
        await settle(s, disruption)
