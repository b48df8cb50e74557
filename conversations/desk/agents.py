"""Agents take conversations over: a pull queue per disruption × routing channel, claims, relays, actions.

Slack allows about one message per second per channel, so escalations are not pushed one card each:
every disruption gets one queue card per routing channel, updated in place at most once per
debounce interval, and an agent pulls the next passenger with Take next. The passenger's card is
posted when they are taken; its thread is where the passenger and the agent talk. Everything the
desk shows is reconciled from the database by `pump()`, so a crash between a commit and a Slack
call is repaired by the next pump.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import CursorResult, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consent.privacy import REDACTED
from conversations.clock import Clock
from conversations.dedupe import claim_event
from conversations.desk import amount_hold
from conversations.desk.cards import passenger_card, queue_card
from conversations.desk.models import AgentDecision, AgentRelay, DeskNote, QueueCard
from conversations.desk.notes import note_view
from conversations.desk.ports import (
    AgentDesk,
    CloseCase,
    DeskAction,
    DeskReply,
    ErasedCardView,
    OfferRefund,
    RebookOption,
    ReturnToBot,
    SendVoucher,
    TakeNext,
    TakePassenger,
    ThreadReply,
    WriteToPassenger,
)
from conversations.engine import (
    AgentBooked,
    AgentClaimed,
    AgentClosed,
    AgentOfferedRefund,
    AgentReleased,
    AgentReplied,
    AgentSentVoucher,
    Status,
)
from conversations.lifecycles import EscalationStatus, move, transition
from conversations.models import Conversation, Escalation, InboundMessage
from conversations.service import ConversationService
from infra import crypto
from infra.db import Database, insert_ignore
from rebooking_core.models import OfferOption, Passenger

log = logging.getLogger(__name__)

PROVIDER = "slack"
#: A card being posted by some process; `pump()` leaves it alone.
POSTING = "posting"
#: A relay in Slack whose passenger was erased (set by consent.privacy): `redact_erased` deletes it.
REDACT = "redact"


# ---- routing ----


@dataclass(frozen=True)
class RouteRule:
    channel: str
    airports: frozenset[str] = frozenset()
    tiers: frozenset[int] = frozenset()
    languages: frozenset[str] = frozenset()

    def matches(self, *, airport: str, tier: int, language: str) -> bool:
        return (
            (not self.airports or airport in self.airports)
            and (not self.tiers or tier in self.tiers)
            and (not self.languages or language.split("-")[0] in self.languages)
        )


@dataclass(frozen=True)
class DeskConfig:
    default_route: str
    rules: tuple[RouteRule, ...] = ()
    always_push_tiers: frozenset[int] = frozenset()
    debounce: dt.timedelta = dt.timedelta(seconds=5)
    voucher_amount: int = 100
    voucher_currency: str = "EUR"
    #: A queue card first post still unanswered after this long was cut off by a crash; it is posted again.
    post_timeout: dt.timedelta = dt.timedelta(seconds=60)

    def route(self, *, airport: str, tier: int, language: str) -> str:
        for rule in self.rules:
            if rule.matches(airport=airport, tier=tier, language=language):
                return rule.channel
        return self.default_route


@dataclass
class PumpReport:
    routed: int = 0
    withdrawn: int = 0
    cards_posted: int = 0
    queue_posts: int = 0
    queue_updates: int = 0
    relays: int = 0
    #: Notes of the flight's story posted in passenger threads (each with its card refreshed).
    notes: int = 0
    #: Slack messages about erased passengers redacted (cards updated, relays deleted).
    redacted: int = 0
    failed: list[str] = field(default_factory=list)


# ---- the hook the inbound router calls while an agent owns a conversation ----


async def relay_to_agent(s: AsyncSession, conv: Conversation, message: InboundMessage, *, at: dt.datetime) -> bool:
    """Queue a passenger message for the owning agent's thread; the bot itself stays silent."""
    esc = (
        await s.scalars(
            select(Escalation)
            .where(Escalation.conversation_id == conv.id, Escalation.status == EscalationStatus.CLAIMED)
            .order_by(Escalation.id.desc())
        )
    ).first()
    if esc is None:
        return False
    await s.flush()
    s.add(AgentRelay(escalation_id=esc.id, inbound_id=message.id, status="pending", created_at=at))
    return True


# ---- the workflow ----


class AgentWorkflow:
    """Claims, relays and agent actions; conversation state only ever changes through the service.

    Without a desk (no Slack) the same actions come from the ops API alone: nothing is posted anywhere.
    """

    def __init__(
        self, db: Database, service: ConversationService, desk: AgentDesk | None, *, config: DeskConfig, clock: Clock
    ) -> None:
        self.db = db
        self.service = service
        self.desk = desk
        self.config = config
        self.clock = clock

    # -- entry point for the desk adapter --

    async def act(self, action: DeskAction, *, dedupe: str | None = None) -> DeskReply | None:
        """Apply one agent action once (a retried Slack delivery with the same `dedupe` id does nothing)."""
        if dedupe is not None:
            async with self.db.transaction() as s:
                if not await claim_event(s, PROVIDER, dedupe[:160], at=self.clock()):
                    return None
        match action:
            case TakeNext():
                reply, esc_id = await self._take_next(action)
            case TakePassenger():
                reply, esc_id = await self._take(action.escalation_id, action.agent)
            case ThreadReply():
                return await self._thread_reply(action)
            case WriteToPassenger():
                once = f"e{action.escalation_id}-w{_digest(action.agent, action.message_id)}"
                return await self._write(action.escalation_id, action.agent, action.text, once)
            case _:
                reply, esc_id = await self._owned_action(action)
        self.service.wake()
        if esc_id is not None:
            await self._sync_passenger_card(esc_id)
        await self.refresh_queue_cards()
        return reply

    # -- claiming --

    async def _take_next(self, a: TakeNext) -> tuple[DeskReply | None, int | None]:
        for _ in range(20):
            async with self.db.transaction() as s:
                query = (
                    select(Escalation.id)
                    .join(Conversation, Conversation.id == Escalation.conversation_id)
                    .where(
                        Escalation.disruption_id == a.disruption_id,
                        Escalation.route == a.route,
                        Escalation.status == EscalationStatus.OPEN,
                        Conversation.status == Status.ESCALATED.value,
                    )
                    .order_by(Escalation.tier.desc(), Escalation.missed_connection.desc(), Escalation.created_at, Escalation.id)
                    .limit(1)
                )
                if not self.db.is_sqlite:
                    query = query.with_for_update(skip_locked=True, of=Escalation)
                esc_id = (await s.scalars(query)).first()
                if esc_id is None:
                    return DeskReply("queue_empty"), None
                if await self._claim_in(s, esc_id, a.agent):
                    return None, esc_id
        return DeskReply("queue_busy"), None

    async def _take(self, escalation_id: int, agent: str) -> tuple[DeskReply | None, int | None]:
        async with self.db.transaction() as s:
            if await self._claim_in(s, escalation_id, agent):
                return None, escalation_id
            esc = await s.get(Escalation, escalation_id)
        if esc is None:
            return DeskReply("unknown"), None
        if esc.agent == agent and esc.status == EscalationStatus.CLAIMED:
            return None, escalation_id
        return DeskReply("owned" if esc.agent else "not_open", owner=esc.agent), escalation_id

    async def _claim_in(self, s: AsyncSession, escalation_id: int, agent: str) -> bool:
        """The guarded UPDATE … WHERE status = 'open' makes exactly one agent the owner."""
        now = self.clock()
        claim = update(Escalation).where(Escalation.id == escalation_id)
        result: CursorResult[tuple[()]] = await s.execute(  # type: ignore[assignment]
            move(claim, Escalation.status, EscalationStatus.CLAIMED, from_=[EscalationStatus.OPEN]).values(
                agent=agent, claimed_at=now
            )
        )
        if result.rowcount != 1:
            return False
        esc = await s.get(Escalation, escalation_id)
        if esc is None:
            return False
        await s.refresh(esc)
        decisions = await self.service.handle(esc.conversation_id, AgentClaimed(agent), session=s)
        if not decisions or decisions[-1].status is not Status.AGENT:
            # The passenger moved on (booked themselves, opted out): nothing left to take.
            transition(esc, EscalationStatus.WITHDRAWN)
            esc.agent, esc.claimed_at, esc.resolved_at = None, None, now
            await self._dirty(s, esc)
            return False
        await self._dirty(s, esc)
        return True

    # -- acting for the passenger --

    async def _owned_action(self, a: DeskAction) -> tuple[DeskReply | None, int | None]:
        if isinstance(a, TakeNext | TakePassenger | ThreadReply | WriteToPassenger):
            return None, None
        now = self.clock()
        async with self.db.transaction() as s:
            esc = await s.get(Escalation, a.escalation_id)
            if esc is None:
                return DeskReply("unknown"), None
            # Lock the conversation first and read it fresh: a concurrent click may just have booked it.
            conv = await self._lock_conversation(s, esc.conversation_id)
            await s.refresh(esc)
            if esc.status != EscalationStatus.CLAIMED or esc.agent != a.agent:
                return DeskReply("owned" if esc.status == EscalationStatus.CLAIMED else "not_claimed", owner=esc.agent), None
            if conv is None:
                return DeskReply("unknown"), None
            match a:
                case RebookOption(option_id=option_id):
                    return await self._rebook(s, esc, conv, option_id, a.agent, now), esc.id
                case OfferRefund():
                    await self._decide(s, esc, conv, "refund", AgentOfferedRefund(a.agent, f"e{esc.id}-refund"), {}, now)
                case SendVoucher():
                    amount, currency = self.config.voucher_amount, self.config.voucher_currency
                    voucher = AgentSentVoucher(a.agent, amount, currency, f"e{esc.id}-voucher")
                    await self._decide(s, esc, conv, "voucher", voucher, {"amount": amount, "currency": currency}, now)
                case ReturnToBot():
                    await self._resolve(s, esc, conv, a.agent, now, close=False)
                case CloseCase():
                    await self._resolve(s, esc, conv, a.agent, now, close=True)
        return None, a.escalation_id

    async def _lock_conversation(self, s: AsyncSession, conversation_id: int) -> Conversation | None:
        query = select(Conversation).where(Conversation.id == conversation_id).execution_options(populate_existing=True)
        if not self.db.is_sqlite:
            query = query.with_for_update()
        return (await s.scalars(query)).first()

    async def _rebook(
        self, s: AsyncSession, esc: Escalation, conv: Conversation, option_id: int, agent: str, now: dt.datetime
    ) -> DeskReply | None:
        if conv.status == Status.BOOKED.value:
            return DeskReply("already_booked")
        option = await s.get(OfferOption, option_id)
        if option is None or option.offer_id != conv.offer_id:
            return DeskReply("stale_option")
        decisions = await self.service.handle(conv.id, AgentBooked(option_id), session=s)
        # CONFIRMING: a remote PSS confirms it later (docs/booking-two-phase.md); a refusal then re-offers.
        booked = bool(decisions) and decisions[-1].status in (Status.BOOKED, Status.CONFIRMING)
        await insert_ignore(
            s,
            AgentDecision,
            {
                "escalation_id": esc.id,
                "conversation_id": conv.id,
                "kind": "rebook" if booked else "rebook_failed",
                "agent": agent,
                "detail": {"option_id": option_id},
                "created_at": now,
            },
        )
        return None if booked else DeskReply("booking_failed", detail=decisions[-1].transition if decisions else "")

    async def _decide(
        self,
        s: AsyncSession,
        esc: Escalation,
        conv: Conversation,
        kind: str,
        event: AgentOfferedRefund | AgentSentVoucher,
        detail: dict[str, object],
        now: dt.datetime,
    ) -> None:
        """Record the decision once and tell the passenger through the engine; no money moves here (out of scope)."""
        recorded = await insert_ignore(
            s,
            AgentDecision,
            {"escalation_id": esc.id, "conversation_id": conv.id, "kind": kind, "agent": event.agent, "detail": detail, "created_at": now},
        )
        if recorded:
            await self.service.handle(conv.id, event, session=s)

    async def _resolve(
        self, s: AsyncSession, esc: Escalation, conv: Conversation, agent: str, now: dt.datetime, *, close: bool
    ) -> None:
        """Return the passenger to the bot, or close the case; either way the escalation is resolved."""
        refunded = (
            await s.scalars(select(AgentDecision.id).where(AgentDecision.escalation_id == esc.id, AgentDecision.kind == "refund"))
        ).first() is not None
        event = AgentClosed(agent) if close else AgentReleased(agent, refunded=refunded)
        await self.service.handle(conv.id, event, session=s)
        transition(esc, EscalationStatus.RESOLVED)
        esc.resolved_at = now
        if refunded:
            esc.resolution = "refunded"
        elif conv.status == Status.BOOKED.value:
            esc.resolution = "booked"
        else:
            esc.resolution = "closed" if close else "returned"
        await self._dirty(s, esc)

    async def _thread_reply(self, a: ThreadReply) -> DeskReply | None:
        """An agent's reply in a passenger thread goes to the passenger; `note:` stays internal; "confirm" sends a held reply."""
        if a.text.strip().lower().startswith("note:") or not a.text.strip():
            return None
        async with self.db.reading() as s:
            esc_id = (
                await s.scalars(select(Escalation.id).where(Escalation.route == a.route, Escalation.card_ts == a.thread_ts))
            ).first()
        if esc_id is None:
            return None
        if a.text.strip().casefold() in amount_hold.confirm_words():
            return await self.confirm_held(esc_id, a.agent)
        return await self._write(esc_id, a.agent, a.text, f"e{esc_id}-t{a.message_id}")

    async def _write(self, escalation_id: int, agent: str, text: str, once: str) -> DeskReply | None:
        """The owner's words go to the passenger through the outbox, once per `once` key."""
        async with self.db.transaction() as s:
            esc = await s.get(Escalation, escalation_id)
            if esc is None:
                return DeskReply("unknown")
            if esc.status != EscalationStatus.CLAIMED or esc.agent != agent:
                return DeskReply("owned" if esc.status == EscalationStatus.CLAIMED else "not_claimed", owner=esc.agent)
            conv = await self._lock_conversation(s, esc.conversation_id)
            if conv is None or conv.status != Status.AGENT.value:
                return DeskReply("not_claimed", owner=esc.agent)
            sealed = crypto.keyring().encrypt(text)
            verdict = await amount_hold.check(
                s, escalation_id=esc.id, conv=conv, agent=agent, text=text, sealed=sealed, once=once, now=self.clock()
            )
            if verdict.held:
                return DeskReply("amount_held", detail=str(verdict.hold_id))
            await self.service.handle(conv.id, AgentReplied(agent, sealed, once), session=s)
        self.service.wake()
        return None

    async def confirm_held(self, escalation_id: int, agent: str, check_id: int | None = None) -> DeskReply | None:
        """Send a reply held for its amount, once, as written: its own agent confirms it (None: the latest held)."""
        async with self.db.transaction() as s:
            esc = await s.get(Escalation, escalation_id)
            if esc is None:
                return DeskReply("unknown")
            if esc.status != EscalationStatus.CLAIMED or esc.agent != agent:
                return DeskReply("owned" if esc.status == EscalationStatus.CLAIMED else "not_claimed", owner=esc.agent)
            conv = await self._lock_conversation(s, esc.conversation_id)
            if conv is None or conv.status != Status.AGENT.value:
                return DeskReply("not_claimed", owner=esc.agent)
            if check_id is None:
                latest = await amount_hold.held_for(s, esc.id, agent)
                check_id = latest.id if latest is not None else 0
            held = await amount_hold.confirm(s, check_id, escalation_id=esc.id, agent=agent, now=self.clock())
            if held is None:
                return DeskReply("nothing_held")
            await self.service.handle(conv.id, AgentReplied(agent, held.text, f"held-{held.id}"), session=s)
        self.service.wake()
        return None

    # -- keeping the desk in step with the database --

    async def pump(self) -> PumpReport:
        """Route new escalations, post due cards and relays, refresh dirty queue cards (debounced)."""
        report = PumpReport()
        await self._sweep(report)
        if self.desk is None:
            return report
        report.redacted = await self.redact_erased(report)
        async with self.db.reading() as s:
            due = (
                await s.scalars(
                    select(Escalation.id).where(
                        Escalation.card_ts.is_(None),
                        Escalation.route.is_not(None),
                        or_(
                            Escalation.status == EscalationStatus.CLAIMED,
                            and_(Escalation.status == EscalationStatus.OPEN, Escalation.tier.in_(sorted(self.config.always_push_tiers))),
                        ),
                    )
                )
            ).all()
        for esc_id in due:
            if await self._sync_passenger_card(esc_id):
                report.cards_posted += 1
        report.relays = await self._post_relays(report)
        report.notes = await self._post_notes(report)
        posts, updates = await self.refresh_queue_cards(report)
        report.queue_posts, report.queue_updates = posts, updates
        return report

    async def _sweep(self, report: PumpReport) -> None:
        now = self.clock()
        self_served = and_(Escalation.status == EscalationStatus.OPEN, Conversation.status != Status.ESCALATED.value)
        # Only rows with something to do: a mass disruption leaves thousands open, and every worker
        # sweeps every second. Routes name Slack channels: without a desk nothing is routed.
        todo = or_(Escalation.route.is_(None), self_served) if self.desk is not None else self_served
        async with self.db.transaction() as s:
            rows = (
                await s.execute(
                    select(Escalation, Conversation.origin, Conversation.locale, Conversation.status)
                    .join(Conversation, Conversation.id == Escalation.conversation_id)
                    .where(Escalation.status.in_([EscalationStatus.OPEN, EscalationStatus.CLAIMED]))
                    .where(todo)
                )
            ).all()
            for esc, origin, locale, conv_status in rows:
                if esc.route is None and self.desk is not None:
                    esc.route = self.config.route(airport=origin, tier=esc.tier, language=locale)
                    report.routed += 1
                    await self._dirty(s, esc)
                if esc.status == EscalationStatus.OPEN and conv_status != Status.ESCALATED.value:
                    transition(esc, EscalationStatus.WITHDRAWN)
                    esc.resolved_at, esc.resolution = now, "self_served"
                    report.withdrawn += 1
                    await self._dirty(s, esc)

    async def _dirty(self, s: AsyncSession, esc: Escalation) -> None:
        if esc.route is None or self.desk is None:
            return
        await insert_ignore(s, QueueCard, {"disruption_id": esc.disruption_id, "route": esc.route, "dirty": True, "updates": 0})
        await s.execute(
            update(QueueCard).where(QueueCard.disruption_id == esc.disruption_id, QueueCard.route == esc.route).values(dirty=True)
        )

    async def refresh_queue_cards(self, report: PumpReport | None = None) -> tuple[int, int]:
        """At most one Slack call per card per debounce interval, however many escalations arrive."""
        desk = self.desk
        if desk is None:
            return 0, 0
        now = self.clock()
        quiet_since = now - self.config.debounce
        interrupted = and_(QueueCard.ts.is_(None), QueueCard.posted_at <= now - self.config.post_timeout)
        posts = updates = 0
        async with self.db.reading() as s:
            cards = (await s.scalars(select(QueueCard.id).where(or_(QueueCard.dirty.is_(True), interrupted)))).all()
        for card_id in cards:
            async with self.db.transaction() as s:
                won: CursorResult[tuple[()]] = await s.execute(  # type: ignore[assignment]
                    update(QueueCard)
                    .where(
                        QueueCard.id == card_id,
                        or_(
                            and_(QueueCard.dirty.is_(True), or_(QueueCard.posted_at.is_(None), QueueCard.posted_at <= quiet_since)),
                            interrupted,
                        ),
                    )
                    .values(dirty=False, posted_at=now, updates=QueueCard.updates + 1)
                )
                if won.rowcount != 1:
                    continue
                card = await s.get(QueueCard, card_id)
                if card is None:
                    continue
                await s.refresh(card)
                view = await queue_card(s, card.disruption_id, card.route)
                ts, route = card.ts, card.route
            try:
                if ts is None:
                    new_ts = await desk.post_queue_card(route, view)
                    posts += 1
                    async with self.db.transaction() as s:
                        await s.execute(update(QueueCard).where(QueueCard.id == card_id).values(ts=new_ts))
                else:
                    await desk.update_queue_card(route, ts, view)
                    updates += 1
            except Exception as exc:  # the card stays dirty and is tried again next round
                log.warning("queue card not refreshed", extra={"card": card_id, "error": type(exc).__name__})
                async with self.db.transaction() as s:
                    await s.execute(update(QueueCard).where(QueueCard.id == card_id).values(dirty=True, posted_at=None))
                if report is not None:
                    report.failed.append(type(exc).__name__)
        return posts, updates

    async def _sync_passenger_card(self, escalation_id: int) -> bool:
        """Post the card if it has none (once, across processes), else update it; True when posted."""
        desk = self.desk
        if desk is None:
            return False
        async with self.db.transaction() as s:
            won: CursorResult[tuple[()]] = await s.execute(  # type: ignore[assignment]
                update(Escalation).where(Escalation.id == escalation_id, Escalation.card_ts.is_(None)).values(card_ts=POSTING)
            )
            esc = await s.get(Escalation, escalation_id)
            if esc is None or esc.route is None:
                return False
            await s.refresh(esc)
            if esc.card_ts == REDACTED or await _erased(s, esc.conversation_id):
                # An erased passenger's card is only ever redacted (`redact_erased`), never posted or refreshed.
                if won.rowcount == 1:
                    esc.card_ts = None
                return False
            view = await passenger_card(s, esc)
            ts, route = esc.card_ts, esc.route
        try:
            if won.rowcount == 1:
                new_ts = await desk.post_passenger_card(route, view)
                async with self.db.transaction() as s:
                    await s.execute(update(Escalation).where(Escalation.id == escalation_id).values(card_ts=new_ts))
                return True
            if ts is not None and ts != POSTING:
                await desk.update_passenger_card(route, ts, view)
        except Exception as exc:  # a failed post is retried by the next pump
            log.warning("passenger card not synced", extra={"escalation": escalation_id, "error": type(exc).__name__})
            if won.rowcount == 1:
                async with self.db.transaction() as s:
                    await s.execute(update(Escalation).where(Escalation.id == escalation_id).values(card_ts=None))
        return False

    async def _post_relays(self, report: PumpReport, limit: int = 200) -> int:
        desk = self.desk
        if desk is None:
            return 0
        async with self.db.reading() as s:
            rows = (
                await s.execute(
                    select(AgentRelay.id, AgentRelay.escalation_id, Escalation.route, Escalation.card_ts, InboundMessage.text)
                    .join(Escalation, Escalation.id == AgentRelay.escalation_id)
                    .join(InboundMessage, InboundMessage.id == AgentRelay.inbound_id)
                    .where(AgentRelay.status == "pending", Escalation.card_ts.is_not(None), Escalation.card_ts.not_in([POSTING, REDACTED]))
                    .order_by(AgentRelay.id)
                    .limit(limit)
                )
            ).all()
        posted = 0
        for relay_id, esc_id, route, thread_ts, text in rows:
            async with self.db.transaction() as s:
                won: CursorResult[tuple[()]] = await s.execute(  # type: ignore[assignment]
                    update(AgentRelay).where(AgentRelay.id == relay_id, AgentRelay.status == "pending").values(status=POSTING)
                )
            if won.rowcount != 1:
                continue
            mine = and_(AgentRelay.id == relay_id, AgentRelay.status == POSTING)
            # Erasure may mark the relay `redact` while it is on its way (see `redact_erased`).
            erased = and_(AgentRelay.id == relay_id, AgentRelay.status == REDACT, AgentRelay.posted_at.is_(None))
            try:
                await desk.post_relay(str(route), str(thread_ts), text or "")
            except Exception as exc:  # retried by the next pump
                report.failed.append(type(exc).__name__)
                async with self.db.transaction() as s:
                    await s.execute(update(AgentRelay).where(mine).values(status="pending"))
                    await s.execute(update(AgentRelay).where(erased).values(status="cancelled"))
                continue
            async with self.db.transaction() as s:
                done: CursorResult[tuple[()]] = await s.execute(  # type: ignore[assignment]
                    update(AgentRelay).where(mine).values(status="posted", posted_at=self.clock())
                )
                if done.rowcount != 1:
                    await s.execute(update(AgentRelay).where(erased).values(posted_at=self.clock()))
                    await _rearm_redaction(s, esc_id, str(thread_ts))
            posted += 1
        return posted

    async def _post_notes(self, report: PumpReport, limit: int = 200) -> int:
        """The flight's story for the agents: each passenger card refreshed (new situation and options), then its note in the thread, once."""
        desk = self.desk
        if desk is None:
            return 0
        erased = exists(
            select(Passenger.id)
            .join(Conversation, Conversation.passenger_id == Passenger.id)
            .where(Conversation.id == Escalation.conversation_id, Passenger.erased_at.is_not(None))
        )
        # A note cut off on its way by a crash (claimed, never confirmed) is posted again: at least once.
        due = or_(
            DeskNote.status == "pending",
            and_(DeskNote.status == POSTING, DeskNote.posted_at <= self.clock() - self.config.post_timeout),
        )
        async with self.db.reading() as s:
            rows = (
                await s.execute(
                    select(DeskNote.id, DeskNote.escalation_id, Escalation.route, Escalation.card_ts, DeskNote.key, DeskNote.params)
                    .join(Escalation, Escalation.id == DeskNote.escalation_id)
                    .where(due, Escalation.card_ts.is_not(None), Escalation.card_ts.not_in([POSTING, REDACTED]), ~erased)
                    .order_by(DeskNote.id)
                    .limit(limit)
                )
            ).all()
        refreshed: set[int] = set()
        posted = 0
        for note_id, esc_id, route, thread_ts, key, params in rows:
            async with self.db.transaction() as s:
                won: CursorResult[tuple[()]] = await s.execute(  # type: ignore[assignment]
                    update(DeskNote).where(DeskNote.id == note_id, due).values(status=POSTING, posted_at=self.clock())
                )
            if won.rowcount != 1:
                continue
            if esc_id not in refreshed:
                await self._sync_passenger_card(esc_id)
                refreshed.add(esc_id)
            try:
                await desk.post_note(str(route), str(thread_ts), note_view(key, params))
            except Exception as exc:  # retried by the next pump
                report.failed.append(type(exc).__name__)
                async with self.db.transaction() as s:
                    await s.execute(
                        update(DeskNote).where(DeskNote.id == note_id, DeskNote.status == POSTING).values(status="pending", posted_at=None)
                    )
                continue
            async with self.db.transaction() as s:
                await s.execute(update(DeskNote).where(DeskNote.id == note_id).values(status="posted", posted_at=self.clock()))
            posted += 1
        return posted

    # -- erasure: what the desk posted about a passenger who was since erased --

    async def redact_erased(self, report: PumpReport | None = None) -> int:
        """Delete our relays from the card's thread, then replace the card; a failure is retried by the next pump.

        Erasure (consent.privacy) cannot call Slack: it commits the passenger as erased and marks their
        posted relays `redact`; a card still naming a Slack message is what is left to redact, and it
        becomes `REDACTED` only after Slack confirmed both steps. A relay being posted right now is
        waited for, so it cannot land in the thread after the clean-up.
        """
        desk = self.desk
        if desk is None:
            return 0
        # A relay on its way is waited for (at most post_timeout after the erasure: a crash may have cut it off).
        relay_in_flight = exists(
            select(AgentRelay.id).where(
                AgentRelay.escalation_id == Escalation.id,
                or_(AgentRelay.status == POSTING, and_(AgentRelay.status == REDACT, AgentRelay.posted_at.is_(None))),
            )
        )
        waiting = and_(relay_in_flight, Passenger.erased_at > self.clock() - self.config.post_timeout)
        async with self.db.reading() as s:
            rows = (
                await s.execute(
                    select(Escalation.id, Escalation.route, Escalation.card_ts)
                    .join(Conversation, Conversation.id == Escalation.conversation_id)
                    .join(Passenger, Passenger.id == Conversation.passenger_id)
                    .where(
                        Passenger.erased_at.is_not(None),
                        Escalation.route.is_not(None),
                        Escalation.card_ts.is_not(None),
                        Escalation.card_ts.not_in([POSTING, REDACTED]),
                        ~waiting,
                    )
                    .order_by(Escalation.id)
                )
            ).all()
        redacted = 0
        for esc_id, route, ts in rows:
            try:
                for post in await desk.thread_posts(str(route), str(ts)):
                    await desk.delete_message(str(route), post)
                    redacted += 1
                await desk.redact_passenger_card(str(route), str(ts), ErasedCardView(esc_id))
                redacted += 1
            except Exception as exc:  # the card keeps its ts, so the next pump tries again
                log.warning("erased passenger's card not redacted", extra={"escalation": esc_id, "error": type(exc).__name__})
                if report is not None:
                    report.failed.append(type(exc).__name__)
                continue
            async with self.db.transaction() as s:
                await s.execute(update(Escalation).where(Escalation.id == esc_id, Escalation.card_ts == ts).values(card_ts=REDACTED))
                await s.execute(
                    update(AgentRelay)
                    .where(AgentRelay.escalation_id == esc_id, AgentRelay.status.in_([REDACT, "posted"]))
                    .values(status=REDACTED)
                )
                esc = await s.get(Escalation, esc_id)
                if esc is not None:
                    await self._dirty(s, esc)
        return redacted


def _digest(agent: str, message_id: str) -> str:
    """A short, fixed-width key for an API write (its Idempotency-Key may be long)."""
    return hashlib.sha256(f"{agent}\n{message_id}".encode()).hexdigest()[:24]


async def _rearm_redaction(s: AsyncSession, escalation_id: int, card_ts: str) -> None:
    """The passenger was erased while their message was on its way to the thread: redact the thread again."""
    await s.execute(
        update(Escalation).where(Escalation.id == escalation_id, Escalation.card_ts == REDACTED).values(card_ts=card_ts)
    )


async def _erased(s: AsyncSession, conversation_id: int) -> bool:
    """Whether the conversation's passenger was erased (their card may only be redacted)."""
    erased_at = await s.scalar(
        select(Passenger.erased_at)
        .join(Conversation, Conversation.passenger_id == Passenger.id)
        .where(Conversation.id == conversation_id)
    )
    return erased_at is not None


# ---- metrics ----


@dataclass(frozen=True)
class AgentStats:
    claim_seconds: tuple[float, ...]
    resolution_seconds: tuple[float, ...]
    by_reason_tier_status: tuple[tuple[str, int, str, int], ...]


async def agent_stats(db: Database) -> AgentStats:
    """Time to claim, time to resolution, and escalations by reason, tier and status."""
    async with db.reading() as s:
        times = (await s.execute(select(Escalation.created_at, Escalation.claimed_at, Escalation.resolved_at, Escalation.status))).all()
        grouped = (
            await s.execute(
                select(Escalation.reason, Escalation.tier, Escalation.status, func.count()).group_by(
                    Escalation.reason, Escalation.tier, Escalation.status
                )
            )
        ).all()
    claims = tuple((c - created).total_seconds() for created, c, _, _ in times if c is not None)
    resolved = tuple((r - created).total_seconds() for created, _, r, st in times if r is not None and st == "resolved")
    return AgentStats(
        claim_seconds=claims,
        resolution_seconds=resolved,
        by_reason_tier_status=tuple((str(r), int(t), str(st), int(n)) for r, t, st, n in grouped),
    )


def summary(values: Sequence[float]) -> tuple[int, float, float]:
    """(count, mean, max) of a list of durations."""
    if not values:
        return 0, 0.0, 0.0
    return len(values), sum(values) / len(values), max(values)
