"""Send outbox rows at least once: consent → channel choice → render → send → retry or fall back."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Select, Table, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from consent import ledger
from conversations.engine import DeliveryFailed, MessageKind
from conversations.models import (
    OUTBOX,
    OUTBOX_ANSWERS,
    OUTBOX_READY,
    Conversation,
    Delivery,
    OutboxMessage,
)
from conversations.pacing import Pacer, Pacing
from conversations.ports import (
    Channel,
    ChannelError,
    DeviceUnregistered,
    OptedOut,
    OutboundMessage,
    RateLimited,
    ReasonClass,
    SendResult,
)
from conversations.rendering import MessageRenderer, RenderData, padded
from conversations.service import Clock, ConversationService
from conversations.telemetry import Origin, since, trace_of
from infra.db import Database
from rebooking_core.models import ContactPoint

log = logging.getLogger(__name__)

_ESSENTIAL = {MessageKind.OFFER.value, MessageKind.OFFER_REFRESHED.value, MessageKind.OFFER_SEAT_GONE.value}


@dataclass(frozen=True)
class DispatchConfig:
    max_attempts: int = 5
    claim_ttl: dt.timedelta = dt.timedelta(seconds=60)
    concurrency: int = 64
    batch: int = 100
    base_backoff_s: float = 2.0
    max_backoff_s: float = 300.0


@dataclass
class _Planned:
    outbox_id: int
    conversation_id: int
    channel: str
    message: OutboundMessage
    origin: Origin | None = None
    first: bool = False
    lease_until: dt.datetime | None = None
    stamp: bool = False  # the conversation has no first hand-over or no channel yet


class LeaseLost(ChannelError):
    """Not sent: our claim on the row lapsed, so whoever holds it now sends it (never both)."""

    reason_class = ReasonClass.TEMPORARY


def backoff(attempt: int, config: DispatchConfig, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never sooner than the provider asked."""
    ceiling = min(config.max_backoff_s, config.base_backoff_s * (2 ** max(attempt - 1, 0)))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


# Recording hand-overs runs once a round: Core statements on the tables, built once (see rebooking_core.booking).
_conversations = cast(Table, Conversation.__table__)
_INSERT_DELIVERY = insert(cast(Table, Delivery.__table__))
# A claim records the attempt and the lease, not the channel: the channel is written with the
# hand-over (or the failure), so a planned row needs no second UPDATE.
_MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("outbox_id"))
    .values(status="sent", sent_at=bindparam("now"), claimed_until=None, channel=bindparam("sent_on"))
)
_STAMP_FIRST = (
    update(_conversations)
    .where(_conversations.c.id == bindparam("conversation_id"))
    .values(
        first_sent_at=func.coalesce(_conversations.c.first_sent_at, bindparam("now", type_=_conversations.c.first_sent_at.type)),
        channel=func.coalesce(_conversations.c.channel, bindparam("sent_on")),
    )
)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        *,
        channels: Mapping[str, Channel],
        renderer: MessageRenderer,
        service: ConversationService,
        clock: Clock,
        pacer: Pacing | None = None,
        config: DispatchConfig | None = None,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        self.renderer = renderer
        self.service = service
        self.clock = clock
        self.pacer: Pacing = pacer or Pacer({name: ch.capabilities.rate_per_second for name, ch in channels.items()})
        self.config = config or DispatchConfig()
        self._semaphore = asyncio.Semaphore(self.config.concurrency)

    async def run_once(self, limit: int = 500, *, answers_only: bool = False) -> int:
        """Claim due rows a batch at a time and deliver them; returns how many were claimed.

        `answers_only` leaves a fan-out's first contacts where they are (see `OUTBOX_ANSWERS`).
        """
        total = 0
        while total < limit:
            take = min(self.config.batch, limit - total)
            claimed = await self._deliver_next(take, answers_only)
            total += claimed
            if claimed < take:
                break
        return total

    async def _deliver_next(self, limit: int, answers_only: bool = False) -> int:
        """Claim and plan up to `limit` due rows in one transaction, then send them; returns how many were claimed.

        A claim of its own was one more transaction a round, whatever the round carries, and
        confirmations trickle in a few at a time.
        """
        try:
            claimed, planned = await self._claim_and_plan(limit, answers_only)
        except Exception:  # one bad row must not hold up the batch: claim them and go message by message
            log.exception("batch planning failed; delivering one by one")
            ids = await self._claim(limit, answers_only)
            await asyncio.gather(*(self._guarded(i) for i in ids))
            return len(ids)
        await self._deliver_planned(planned)
        return claimed

    async def _deliver_batch(self, ids: list[int]) -> None:
        """Plan rows again for their next channel in one transaction, then send them (see `_deliver_planned`)."""
        try:
            planned = await self._plan_many(ids, claimed=False)
        except Exception:  # one bad row must not hold up the batch: go message by message
            log.exception("batch planning failed; delivering one by one")
            await asyncio.gather(*(self._guarded(i) for i in ids))
            return
        await self._deliver_planned(planned)

    async def _deliver_planned(self, planned: list[_Planned]) -> None:
        """Send concurrently, record successes and failures in one transaction each; rows to try on their next channel go round again."""
        outcomes = await asyncio.gather(*(self._send(p) for p in planned), return_exceptions=True)
        done = [(p, result) for p, result in zip(planned, outcomes, strict=True) if isinstance(result, SendResult)]
        await self._sent_many(done)
        failures = [
            (p, result)
            for p, result in zip(planned, outcomes, strict=True)
            if isinstance(result, ChannelError) and not isinstance(result, LeaseLost)
        ]
        for p, result in zip(planned, outcomes, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, ChannelError):
                log.error("delivery crashed", exc_info=result, extra={"outbox_id": p.outbox_id})
                await self._park(p.outbox_id, type(result).__name__)
        retry = await self._failed_many(failures)
        if retry:
            await self._deliver_batch([p.outbox_id for p, _ in failures if p.outbox_id in retry])

    async def _send(self, planned: _Planned) -> SendResult | ChannelError:
        channel = self.channels[planned.channel]
        async with self._semaphore:
            await self.pacer.acquire(planned.channel, planned.message.to)
            if not await self._still_ours(planned):
                return LeaseLost("claim expired while waiting for the provider's pace")
            telemetry = self.service.telemetry
            try:
                with telemetry.span(
                    "send", parent=trace_of(planned.origin), channel=planned.channel, outbox_id=planned.outbox_id
                ):
                    result = await channel.send(planned.message)
            except ChannelError as exc:
                telemetry.sent(channel=planned.channel, provider=channel.provider, outcome=exc.reason_class.value)
                if isinstance(exc, RateLimited):
                    await self.pacer.slow_down(planned.channel, planned.message.to, exc.retry_after, exc.code)
                return exc
            await self.pacer.settle(planned.channel, planned.message.to, result.segments)
            return result

    async def drain(self, *, max_rounds: int = 10_000) -> int:
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            if n == 0:
                break
            total += n
        return total

    async def _guarded(self, outbox_id: int) -> None:
        async with self._semaphore:
            try:
                await self.deliver(outbox_id)
            except ChannelError:
                raise
            except Exception as exc:  # a bug or bad data must park the message, never kill the worker
                log.exception("delivery crashed", extra={"outbox_id": outbox_id})
                await self._park(outbox_id, type(exc).__name__)

    async def _park(self, outbox_id: int, error: str) -> None:
        """Retry later with backoff; after max_attempts the row is dead-lettered for `rebook dlq`.

        Its claim (or its plan for a next channel) already counted the attempt.
        """
        now = self.clock()
        async with self.db.transaction() as s:
            row = await s.get(OutboxMessage, outbox_id)
            if row is None:
                return
            row.last_error = error[:64]
            row.claimed_until = None
            if row.attempts >= self.config.max_attempts:
                row.status = "dead"
            else:
                row.status = "pending"
                row.next_attempt_at = now + dt.timedelta(seconds=backoff(row.attempts, self.config))

    def _ready(self, now: dt.datetime, limit: int, answers_only: bool = False) -> Select[tuple[int]]:
        """Ids of due rows not held by a live claim, oldest first, skipping rows another worker is claiming."""
        query = (
            select(OUTBOX.c.id)
            .where(
                # what ix_outbox_answers or ix_outbox_ready holds
                text(f"outbox.{OUTBOX_ANSWERS}" if answers_only else f"outbox.{OUTBOX_READY}"),
                or_(OUTBOX.c.status == "pending", OUTBOX.c.claimed_until < now),
                OUTBOX.c.next_attempt_at <= now,
            )
            .order_by(OUTBOX.c.id)
            .limit(limit)
            .correlate(None)  # inside the claim's UPDATE of the same table, still a query of its own
        )
        return query if self.db.is_sqlite else query.with_for_update(skip_locked=True)

    async def _claimed(self, s: AsyncSession, limit: int, answers_only: bool) -> list[OutboxMessage]:
        """Claim due rows in one statement, counting the attempt and taking the lease; oldest first.

        Selecting the rows and then updating them was two statements and a flush more a round.
        """
        now = self.clock()
        found = await s.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(self._ready(now, limit, answers_only).scalar_subquery()))
            .values(status="sending", claimed_until=now + self.config.claim_ttl, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
        return sorted(found, key=lambda row: row.id)

    async def _claim(self, limit: int, answers_only: bool = False) -> list[int]:
        """Claim due rows without planning them (the one-by-one path after a batch failed to plan)."""
        async with self.db.transaction() as s:
            return [row.id for row in await self._claimed(s, limit, answers_only)]

    async def deliver(self, outbox_id: int) -> None:
        """Send one row claimed by `_claim`, trying its next channel after each failure that allows one."""
        claimed = True
        while True:
            planned = await self._plan_many([outbox_id], claimed=claimed)
            claimed = False
            if not planned:
                return
            [one] = planned
            result = await self._send(one)
            if isinstance(result, LeaseLost):
                return
            if isinstance(result, ChannelError):
                if one.outbox_id not in await self._failed_many([(one, result)]):
                    return
                continue
            await self._sent_many([(one, result)])
            return

    async def _still_ours(self, planned: _Planned) -> bool:
        """After a long wait for a token, renew the claim; if it lapsed another worker may own the row."""
        now = self.clock()
        lease = planned.lease_until
        if lease is None or now < lease - self.config.claim_ttl / 2:
            return True
        async with self.db.transaction() as s:
            result = await s.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == planned.outbox_id,
                    OutboxMessage.status == "sending",
                    OutboxMessage.claimed_until == lease,
                )
                .values(claimed_until=now + self.config.claim_ttl)
                .execution_options(synchronize_session=False)
            )
        if result.rowcount:  # type: ignore[attr-defined]
            planned.lease_until = now + self.config.claim_ttl
            return True
        return False

    async def _plan_many(self, ids: list[int], *, claimed: bool = True) -> list[_Planned]:
        """Pick channels and render rows in one transaction, reading consent right before the send.

        `claimed`: the rows come straight from a claim, which counted the attempt; otherwise they
        are planned again for their next channel, a new attempt under a renewed lease.
        """
        async with self.db.transaction() as s:
            return await self._plan(s, await self._claimed_rows(s, ids), claimed=claimed)

    async def _claim_and_plan(self, limit: int, answers_only: bool = False) -> tuple[int, list[_Planned]]:
        """Claim up to `limit` due rows and plan them in the same transaction: how many were claimed, and the plans."""
        async with self.db.transaction() as s:
            rows = await self._claimed(s, limit, answers_only)
            if not rows:
                return 0, []
            return len(rows), await self._plan(s, rows, claimed=True)

    async def _plan(self, s: AsyncSession, rows: list[OutboxMessage], *, claimed: bool) -> list[_Planned]:
        """Pick a consented channel for each row and render it; rows with none fail or escalate."""
        convs = await self._conversations(s, rows)
        passengers = {c.passenger_id for c in convs.values() if c.passenger_id is not None}
        contacts = await self._contacts(s, passengers)
        granted = await ledger.granted_by_passenger(s, padded(passengers), channels=sorted(self.channels))
        data = await self.renderer.prefetch(s, rows, convs)
        lease = None if claimed else self.clock() + self.config.claim_ttl
        planned = []
        stuck: list[tuple[Conversation, OutboxMessage]] = []
        for row in rows:
            conv = convs.get(row.conversation_id)
            if conv is None or conv.passenger_id is None:
                row.status = "failed"
                row.last_error = "no_recipient"
                continue
            reachable = contacts.get(conv.passenger_id, [])
            contact = self._choose(conv, row, reachable, granted.get(conv.passenger_id, set()))
            if contact is None:
                stuck.append((conv, row))
                continue
            planned.append(await self._planned(s, data, conv, row, contact, lease))
        await self._unreachable(s, stuck)
        return planned

    async def _claimed_rows(self, s: AsyncSession, ids: list[int]) -> list[OutboxMessage]:
        """The rows still ours to send, in the order they were claimed."""
        found = await s.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(padded(ids)), OutboxMessage.status == "sending")
        )
        by_id = {row.id: row for row in found}
        return [by_id[i] for i in ids if i in by_id]

    async def _conversations(self, s: AsyncSession, rows: list[OutboxMessage]) -> dict[int, Conversation]:
        if not rows:
            return {}
        found = await s.scalars(
            select(Conversation).where(Conversation.id.in_(padded(r.conversation_id for r in rows)))
        )
        return {c.id: c for c in found}

    async def _contacts(self, s: AsyncSession, passengers: set[int]) -> dict[int, list[ContactPoint]]:
        """Each passenger's contact points on our channels, most preferred first."""
        if not passengers:
            return {}
        # Channels are filtered here, not in SQL: with that filter PostgreSQL may AND in the
        # (channel, address_hash) index and read every contact point of the channel (145k of them,
        # 11.6 ms, measured with stale statistics after a bulk import) to find a passenger's two.
        found = await s.scalars(
            select(ContactPoint)
            .where(ContactPoint.passenger_id.in_(padded(passengers)))
            .order_by(ContactPoint.passenger_id, ContactPoint.preference, ContactPoint.id)
        )
        by_passenger: dict[int, list[ContactPoint]] = {}
        for contact in found:
            if contact.channel in self.channels:
                by_passenger.setdefault(contact.passenger_id, []).append(contact)
        return by_passenger

    async def _unreachable(self, s: AsyncSession, stuck: list[tuple[Conversation, OutboxMessage]]) -> None:
        """No channel left: dead-lettered (retryable by `rebook dlq retry`) when one only ever failed temporarily."""
        if not stuck:
            return
        temporary = await _temporarily_exhausted(s, [row for _, row in stuck])
        for _, row in stuck:
            row.status = "dead" if row.id in temporary else "failed"
            row.last_error = "channels_exhausted" if row.tried_channels else "no_consented_channel"
        essential = [conv for conv, row in stuck if row.key in _ESSENTIAL]
        await self._relock(s, essential)
        for conv in essential:
            await self.service.run(s, conv, DeliveryFailed("no_channel"))

    async def _planned(
        self,
        s: AsyncSession,
        data: RenderData,
        conv: Conversation,
        row: OutboxMessage,
        contact: ContactPoint,
        lease: dt.datetime | None,
    ) -> _Planned:
        """Render for the chosen contact; a row planned again (`lease` given) counts a new attempt under that lease."""
        window = conv.window_open_until.get(contact.channel)
        message = self.renderer.render(
            data,
            row,
            conv,
            to=contact.address or "",
            window_open_until=dt.datetime.fromisoformat(window) if window else None,
        )
        if lease is not None:
            row.channel = contact.channel
            row.attempts += 1
            row.claimed_until = lease
        origin = await self.service.origins.get(s, conv.disruption_id)
        first = conv.first_sent_at is None
        return _Planned(
            row.id, conv.id, contact.channel, message, origin, first, row.claimed_until, first or conv.channel is None
        )

    async def _relock(self, s: AsyncSession, convs: list[Conversation]) -> None:
        """Lock the conversations and read them afresh before the engine changes them (SQLite has one writer)."""
        if not convs or self.db.is_sqlite:
            return
        locked = await s.scalars(
            select(Conversation)
            .where(Conversation.id.in_(padded(c.id for c in convs)))
            .order_by(Conversation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        locked.all()  # loading the rows is what refreshes the objects in the session

    def _choose(
        self, conv: Conversation, row: OutboxMessage, contacts: list[ContactPoint], granted: set[str]
    ) -> ContactPoint | None:
        usable = [c for c in contacts if c.channel in self.channels and c.channel not in row.tried_channels and c.address]
        if row.key == MessageKind.STOP_ACK.value:
            # The opt-out confirmation goes back where STOP came from, after consent is withdrawn.
            return next((c for c in usable if c.channel == conv.channel), None)
        usable = [c for c in usable if c.channel in granted]
        if conv.channel:
            usable.sort(key=lambda c: c.channel != conv.channel)
        return usable[0] if usable else None

    async def _sent_many(self, done: list[tuple[_Planned, SendResult]]) -> None:
        """Record hand-overs: deliveries, outbox rows and first-contact stamps in one transaction."""
        if not done:
            return
        now = self.clock()
        async with self.db.transaction() as s:
            await s.execute(
                _INSERT_DELIVERY,
                [
                    {
                        "outbox_id": p.outbox_id,
                        "conversation_id": p.conversation_id,
                        "channel": p.channel,
                        "provider": self.channels[p.channel].provider,
                        "provider_message_id": r.provider_message_id,
                        "status": "sent",
                        "segments": r.segments,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for p, r in done
                ],
            )
            await s.execute(_MARK_SENT, [{"outbox_id": p.outbox_id, "now": now, "sent_on": p.channel} for p, _ in done])
            stamps = sorted((p.conversation_id, p.channel) for p, _ in done if p.stamp)  # in id order: no deadlock
            if stamps:
                await s.execute(_STAMP_FIRST, [{"conversation_id": c, "now": now, "sent_on": ch} for c, ch in stamps])
        for p, _ in done:
            self.service.telemetry.sent(channel=p.channel, provider=self.channels[p.channel].provider, outcome="sent")
            seconds = since(p.origin, now)
            if p.first and seconds is not None:
                self.service.telemetry.first_handover(channel=p.channel, seconds=seconds)

    async def _failed_many(self, failures: list[tuple[_Planned, ChannelError]]) -> set[int]:
        """Record failures in one transaction; returns the rows whose next channel should be tried right away."""
        if not failures:
            return set()
        now = self.clock()
        for planned, exc in failures:
            level = logging.INFO if exc.reason_class is ReasonClass.POLICY else logging.WARNING
            log.log(
                level,
                "send failed",
                extra={
                    "outbox_id": planned.outbox_id,
                    "channel": planned.channel,
                    "error": type(exc).__name__,
                    "code": exc.code,
                },
            )
        retry: set[int] = set()
        async with self.db.transaction() as s:
            found = await s.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(padded(p.outbox_id for p, _ in failures)))
            )
            rows = {row.id: row for row in found}
            for planned, exc in failures:
                row = rows.get(planned.outbox_id)
                if row is not None and await self._failed(s, row, planned, exc, now):
                    retry.add(row.id)
        return retry

    async def _failed(
        self, s: AsyncSession, row: OutboxMessage, planned: _Planned, exc: ChannelError, now: dt.datetime
    ) -> bool:
        """Record one failure; True when the next channel should be tried right away."""
        s.add(
            Delivery(
                outbox_id=row.id,
                conversation_id=planned.conversation_id,
                channel=planned.channel,
                provider=self.channels[planned.channel].provider,
                status="failed",
                error_code=exc.code,
                reason_class=exc.reason_class.value,
                created_at=now,
                updated_at=now,
            )
        )
        row.channel = planned.channel
        row.last_error = type(exc).__name__
        if exc.reason_class is ReasonClass.TEMPORARY and row.attempts < self.config.max_attempts:
            retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
            row.status = "pending"
            row.next_attempt_at = now + dt.timedelta(seconds=backoff(row.attempts, self.config, retry_after))
            row.claimed_until = None
            return False
        if isinstance(exc, OptedOut):
            conv = await s.get(Conversation, row.conversation_id)
            if conv is not None and conv.passenger_id is not None:
                await ledger.record(
                    s,
                    passenger_id=conv.passenger_id,
                    channel=planned.channel,
                    purpose=ledger.SERVICE,
                    granted=False,
                    source="provider",
                    evidence=exc.code,
                    at=now,
                )
        if isinstance(exc, DeviceUnregistered):
            conv = await s.get(Conversation, row.conversation_id)
            if conv is not None and conv.passenger_id is not None:
                await s.execute(
                    delete(ContactPoint).where(
                        ContactPoint.passenger_id == conv.passenger_id, ContactPoint.channel == planned.channel
                    )
                )
        row.tried_channels = [*row.tried_channels, planned.channel]
        row.status = "sending"
        return True


async def _temporarily_exhausted(s: AsyncSession, rows: list[OutboxMessage]) -> set[int]:
    """Rows where some channel's last failure was temporary (a retry may succeed)."""
    tried = [row for row in rows if row.tried_channels]
    if not tried:
        return set()
    found = await s.execute(
        select(Delivery.outbox_id, Delivery.channel, Delivery.reason_class)
        .where(Delivery.outbox_id.in_(padded(row.id for row in tried)))
        .order_by(Delivery.id)
    )
    last = {(outbox_id, channel): reason for outbox_id, channel, reason in found}
    temporary = ReasonClass.TEMPORARY.value
    return {row.id for row in tried if any(last.get((row.id, c)) == temporary for c in row.tried_channels)}


async def fall_back(s: AsyncSession, *, provider: str, provider_message_id: str, at: dt.datetime) -> bool:
    """A receipt said a sent message failed: queue it again for the next channel."""
    delivery = (
        await s.scalars(
            select(Delivery)
            .where(Delivery.provider == provider, Delivery.provider_message_id == provider_message_id)
            .order_by(Delivery.id.desc())
        )
    ).first()
    if delivery is None:
        return False
    row = await s.get(OutboxMessage, delivery.outbox_id)
    if row is None or row.status != "sent" or row.channel != delivery.channel:
        return False
    row.tried_channels = [*row.tried_channels, delivery.channel]
    row.status = "pending"
    row.next_attempt_at = at
    return True
