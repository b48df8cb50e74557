"""Send outbox rows at least once, in lanes per (channel, sender): consent → channel and sender → render → send → record, retry or fall back."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol, cast

from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from consent import ledger
from conversations.app import tokens as action_tokens
from conversations.clock import Clock
from conversations.engine import DeliveryFailed, MessageKind
from conversations.lifecycles import OutboxStatus, move, transition
from conversations.models import (
    OUTBOX,
    OUTBOX_READY,
    Conversation,
    Delivery,
    OutboxMessage,
    Priority,
)
from conversations.outbox.pacing import Pacer
from conversations.outbox.ports import Pacing, Sleep
from conversations.outbox.rendering import MessageRenderer, RenderData
from conversations.outbox.telemetry import Origin, since, trace_of
from conversations.ports import (
    Channel,
    ChannelError,
    DeviceUnregistered,
    Metered,
    OptedOut,
    OutboundMessage,
    RateLimited,
    ReasonClass,
    SendResult,
)
from conversations.provider_values import storable_text
from conversations.service import ConversationService
from infra.db import Database
from infra.sql import padded
from rebooking_core.models import ContactPoint
from rebooking_core.types import ChannelName

log = logging.getLogger(__name__)

_ESSENTIAL = {MessageKind.OFFER.value, MessageKind.OFFER_REFRESHED.value, MessageKind.OFFER_SEAT_GONE.value}
#: A claim takes rows waiting to be sent and rows whose claim lapsed (a crashed worker's).
_CLAIMABLE = (OutboxStatus.PENDING, OutboxStatus.SENDING)
#: `_ready`'s lane for "rows of any lane, routed or not".
ANY_LANE = "*"
#: The sender of a channel that has no pool of its own (the sandbox, a single-account provider).
DEFAULT_SENDER = "default"
#: The shortest wait of `run_once` when nothing could be claimed but a lane expects turns.
_IDLE_S = 0.001
#: How long a push's action token opens (or answers) a message that holds no seats, such as a confirmation.
PUSH_TOKEN_TTL = dt.timedelta(hours=24)


@dataclass(frozen=True)
class DispatchConfig:
    max_attempts: int = 5
    claim_ttl: dt.timedelta = dt.timedelta(seconds=60)
    concurrency: int = 64
    batch: int = 100
    base_backoff_s: float = 2.0
    max_backoff_s: float = 300.0
    #: Completed sends are recorded together: those done while the previous group was being written (a
    #: burst groups by itself); a group may wait up to `record_linger_s` for `record_batch` of them (0: never waits).
    record_linger_s: float = 0.0
    record_batch: int = 64
    #: A lane claims what its bucket can send within this long, so an answer written meanwhile waits at most about that.
    lane_horizon_s: float = 0.25


@dataclass(frozen=True)
class Lane:
    """One provider sender: its own bucket, its own queue of rows, never waiting on another lane."""

    channel: str
    sender: str

    @property
    def name(self) -> str:
        return f"{self.channel}:{self.sender}"


@dataclass
class _LaneState:
    lane: Lane
    #: Whether the lane may have rows to claim (it is asked again on every poll anyway).
    maybe_work: bool = True
    #: Whether rows are known to wait on the lane's bucket (released onto it, or a claim took all it could).
    backlog: bool = False
    #: Rows this process claimed on the lane and has not finished sending; of them, answers.
    in_flight: int = 0
    answers_in_flight: int = 0
    #: Whether answers were left on the lane for want of turns (they may use the bucket's reserve).
    answers_waiting: bool = False
    #: The loop time before which its bucket will not have turns.
    next_try: float = 0.0


@dataclass
class _Choice:
    """A claimed row, the contact it goes to and so its lane."""

    row: OutboxMessage
    conv: Conversation | None
    contact: ContactPoint
    lane: Lane


@dataclass
class _Planned:
    outbox_id: int
    conversation_id: int | None
    channel: str
    message: OutboundMessage
    origin: Origin | None = None
    first: bool = False
    lease_until: dt.datetime | None = None
    stamp: bool = False  # the conversation has no first hand-over or no channel yet
    answer: bool = False  # answers what a passenger just did: may take the bucket's reserve


class NoticeRenderer(Protocol):
    """Renders outbox rows of no conversation (ops broadcasts) for the contacts chosen for them."""

    async def render(
        self, s: AsyncSession, rows: list[tuple[OutboxMessage, ContactPoint]]
    ) -> dict[int, OutboundMessage]: ...


Outcome = tuple[_Planned, SendResult | BaseException]


class _Recorder:
    """Collects completed sends and records them a few at a time, as soon as the previous group is written."""

    def __init__(self, record: Callable[[list[Outcome]], Awaitable[None]], *, linger_s: float, batch: int) -> None:
        self._record = record
        self._linger = linger_s
        self._batch = batch
        self._items: list[Outcome] = []
        self._flushing: asyncio.Task[None] | None = None
        self._full = asyncio.Event()

    def add(self, planned: _Planned, result: SendResult | BaseException) -> None:
        self._items.append((planned, result))
        if len(self._items) >= self._batch:
            self._full.set()
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        while self._items:
            if len(self._items) < self._batch and self._linger > 0:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._linger)
            items, self._items = self._items, []
            try:
                await self._record(items)
            except Exception:  # the rows stay claimed; their lease lapses and they are sent again
                log.exception("recording %d sends failed", len(items))

    async def flush(self) -> None:
        """Record what is collected now, and wait until it is."""
        self._full.set()
        while self._flushing is not None and not self._flushing.done():
            await asyncio.shield(self._flushing)


class LeaseLost(ChannelError):
    """Not sent: our claim on the row lapsed, so whoever holds it now sends it (never both)."""

    reason_class = ReasonClass.TEMPORARY


def backoff(attempt: int, config: DispatchConfig, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter, never sooner than the provider asked."""
    ceiling = min(config.max_backoff_s, config.base_backoff_s * (2 ** max(attempt - 1, 0)))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


# Recording hand-overs: Core statements on the tables, built once (see rebooking_core.booking).
_conversations = cast(Table, Conversation.__table__)
_INSERT_DELIVERY = insert(cast(Table, Delivery.__table__))
# A claim records the attempt and the lease, not the channel: the channel is written with the
# hand-over (or the failure), so a planned row needs no second UPDATE. Only a row still being sent
# becomes sent (one cancelled by an erasure meanwhile stays cancelled).
_MARK_SENT = move(update(OUTBOX).where(OUTBOX.c.id == bindparam("outbox_id")), OUTBOX.c.status, OutboxStatus.SENT).values(
    sent_at=bindparam("now"), claimed_until=None, channel=bindparam("sent_on")
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
    """Sends the outbox in lanes, one per (channel, sender): each lane claims only what its bucket lets it send.

    A pass first routes new rows (and rows falling back to another channel): it claims them,
    reads consent and contact points, picks each one's lane, keeps what the lane's bucket can send
    within `lane_horizon_s` and releases the rest onto the lane, claimable. Then every lane that
    may have work claims what its bucket can send within that horizon, answers first, oldest
    first. Answers may also take the bucket's reserve, which other rows leave (`ChannelPace.reserve`). Sends run as tasks, each taking its own token; each result is recorded as it
    completes, a few at a time (`_Recorder`), so a slow provider never holds up another lane and
    a crash resends at most what was in flight.
    """

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
        notices: NoticeRenderer | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        self.renderer = renderer
        self.notices = notices
        self.service = service
        self.clock = clock
        self.pacer: Pacing = pacer or Pacer({name: ch.capabilities.rate_per_second for name, ch in channels.items()})
        self.config = config or DispatchConfig()
        #: How `run_once` waits for a lane's bucket (tests give virtual time).
        self.sleep = sleep
        self.senders = {name: senders_of(ch) for name, ch in self.channels.items()}
        self.lanes = {
            lane.name: _LaneState(lane) for name in self.channels for lane in (Lane(name, s) for s in self.senders[name])
        }
        #: Called when recorded results left rows to send at once (a next channel); the worker rings itself.
        self.on_wake: Callable[[], None] | None = None
        #: Whether the last pass claimed all it asked for: more is waiting, the next pass should follow at once.
        self.backlogged = False
        self._inflight: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()
        self._recorder = _Recorder(self._record, linger_s=self.config.record_linger_s, batch=self.config.record_batch)
        #: Per channel name: the adapter last seen under it and whether it is `Metered` (asked once per adapter).
        self._metered: dict[str, tuple[Channel, bool]] = {}

    # ---- passes ----

    async def run_once(self, limit: int = 500, *, answers_only: bool = False) -> int:
        """Passes until nothing more can be claimed now, each waiting for its sends to be recorded; how many rows were claimed.

        For tests, the CLI and benches: the worker's loop calls `pump` and lets sends run on.
        A row that falls back to its next channel is claimed again, but counted once.
        """
        seen: set[int] = set()
        while len(seen) < limit:
            claimed = await self.pump(answers_only=answers_only, limit=limit - len(seen), everywhere=True)
            await self.settle()
            if not claimed:
                wait = self.next_try_in()  # rows wait for a lane's bucket: what the worker's loop would sleep
                if wait is None or wait > self.config.claim_ttl.total_seconds() / 2:
                    break
                # At least a moment: a lane's turn that came due while other lanes were filled must not make this
                # a busy loop of zero-second sleeps (under a test's virtual clock the bucket would never refill).
                await self.sleep(max(wait, _IDLE_S))
                continue
            seen.update(claimed)
        return len(seen)

    async def drain(self, *, max_rounds: int = 10_000) -> int:
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            if n == 0:
                break
            total += n
        return total

    async def pump(self, *, answers_only: bool = False, limit: int | None = None, everywhere: bool = False) -> list[int]:
        """One pass: route what is new, then fill each lane that has turns; sends go on in the background.

        `everywhere`: look in every lane, not only those known to have work (a poll).
        """
        budget = self.config.batch if limit is None else limit
        asked = min(budget, self.room())
        claimed = await self._route(asked, answers_only)
        self.backlogged = asked > 0 and len(claimed) >= asked
        now = asyncio.get_running_loop().time()
        for state in self.lanes.values():
            if everywhere:  # another worker may have left rows, answers too, on any lane
                state.maybe_work = state.answers_waiting = True
            elif not state.maybe_work or state.next_try > now:
                continue
            want = min(self.config.batch, budget - len(claimed), self.room())
            if want <= 0:
                break
            filled = await self._fill(state, want, answers_only)
            self.backlogged |= len(filled) >= want
            claimed += filled
        return claimed

    def room(self) -> int:
        """How many more sends may start now."""
        return max(0, self.config.concurrency - len(self._inflight))

    async def wait_for_room(self) -> None:
        """Until half the sends in flight are done: a pass then claims a batch, not the one row a finished send freed."""
        enough = max(1, min(self.config.batch, self.config.concurrency) // 2)
        while self.room() < enough:
            self._room.clear()
            await self._room.wait()

    def next_try_in(self) -> float | None:
        """Seconds until a lane with work may have turns again (None: no lane is waiting on its bucket)."""
        now = asyncio.get_running_loop().time()
        waits = [max(0.0, st.next_try - now) for st in self.lanes.values() if st.backlog]
        return min(waits) if waits else None

    async def settle(self) -> None:
        """Wait for every send in flight and for its result to be recorded."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
        await self._recorder.flush()

    # ---- routing and lanes ----

    async def _route(self, limit: int, answers_only: bool) -> list[int]:
        """Claim unrouted rows, pick each one's lane; send what the lanes' buckets allow now and queue the rest on them."""
        if limit <= 0:
            return []
        try:
            async with self.db.transaction() as s:
                rows = await self._claimed(s, limit, answers_only, lane=None)
                if not rows:
                    return []
                choices = await self._choose_all(s, rows)
                by_lane: dict[Lane, list[_Choice]] = {}
                for choice in choices:
                    by_lane.setdefault(choice.lane, []).append(choice)
                keep: list[_Choice] = []
                for lane, waiting in by_lane.items():
                    state = self._state(lane)
                    answers = [c for c in waiting if _answers(c.row)]
                    others = [c for c in waiting if not _answers(c.row)]
                    turns_a, wait_a = await self._lane_room(lane, len(answers), state, answer=True)
                    turns_o, wait_o = await self._lane_room(lane, len(others), state, answer=False, also=turns_a)
                    keep += answers[:turns_a] + others[:turns_o]
                    # a row sent now needs no lane: if its worker dies, it is routed again
                    for choice in answers[turns_a:] + others[turns_o:]:
                        choice.row.lane = lane.name
                        _release(choice.row)
                    if turns_a < len(answers) or turns_o < len(others):
                        state.maybe_work = state.backlog = True
                        state.answers_waiting |= turns_a < len(answers)
                        wait = wait_a if turns_a < len(answers) else wait_o
                        state.next_try = asyncio.get_running_loop().time() + wait
                planned = await self._render(s, keep)
        except Exception:  # one bad row must not hold up the others: claim them and go one by one
            log.exception("routing failed; delivering one by one")
            return await self._one_by_one(limit, answers_only, lane=None)
        self._start(planned)
        return [row.id for row in rows]

    async def _fill(self, state: _LaneState, want: int, answers_only: bool) -> list[int]:
        """Claim as many of the lane's rows as its bucket can send soon (answers may use its reserve), and send them."""
        lane = state.lane
        try:
            asks = state.answers_waiting or answers_only
            turns_a, wait_a = await self._lane_room(lane, want, state, answer=True) if asks else (0, 0.0)
            turns_o, wait_o = (0, 1.0) if answers_only else await self._lane_room(lane, want, state, answer=False)
        except Exception as exc:  # pacing unreachable (Redis down): nothing leaves without a token
            log.warning("lane %s: no room (%s); trying again shortly", lane.name, type(exc).__name__)
            state.next_try = asyncio.get_running_loop().time() + 1.0
            return []
        if not turns_a and not turns_o:
            state.next_try = asyncio.get_running_loop().time() + (wait_a if asks else wait_o)
            if not state.backlog:  # once per wait: whether rows wait for those turns at all
                state.backlog = await self._has_due(lane.name, answers_only)
            return []
        try:
            async with self.db.transaction() as s:
                rows = await self._claimed(s, turns_a, True, lane=lane.name) if turns_a else []
                answered = len(rows)
                turns_o = max(0, turns_o - answered)  # the answers' tokens are no longer the other rows'
                if turns_o:  # answers still first: rows of every kind, in priority order
                    rows += await self._claimed(s, turns_o, answers_only, lane=lane.name)
                choices = await self._choose_all(s, rows)
                mine = [c for c in choices if c.lane == lane]
                for moved in (c for c in choices if c.lane != lane):  # consent or contacts changed since routing
                    moved.row.lane = moved.lane.name
                    _release(moved.row)
                    other = self._state(moved.lane)
                    other.maybe_work = other.backlog = True
                    other.answers_waiting |= _answers(moved.row)
                planned = await self._render(s, mine)
        except Exception:
            log.exception("lane %s: claim failed; delivering one by one", lane.name)
            return await self._one_by_one(turns_a + turns_o, answers_only, lane=lane.name)
        state.answers_waiting = bool(turns_a) and answered >= turns_a
        if turns_o:  # it looked at every kind of row: more may wait if it got all it asked for
            state.backlog = len(rows) - answered >= turns_o
        else:  # only answers had turns: the other rows' backlog is as it was, their turn comes after the bucket's wait
            state.next_try = asyncio.get_running_loop().time() + (0.0 if state.answers_waiting else wait_o)
            if not state.backlog:
                state.backlog = await self._has_due(lane.name, answers_only)
        state.backlog |= state.answers_waiting
        state.maybe_work = state.backlog
        self._start(planned)
        return [row.id for row in rows]

    async def _has_due(self, lane: str, answers_only: bool) -> bool:
        async with self.db.reading() as s:
            return (await s.scalar(self._ready(self.clock(), 1, answers_only, lane, lock=False))) is not None

    async def _one_by_one(self, limit: int, answers_only: bool, *, lane: str | None) -> list[int]:
        """After a batch failed to plan: claim the rows alone, then plan and send each by itself, parking what crashes."""
        async with self.db.transaction() as s:
            ids = [row.id for row in await self._claimed(s, limit, answers_only, lane=lane)]
        for outbox_id in ids:
            try:
                planned = await self._plan_many([outbox_id])
            except Exception as exc:  # a bug or bad data must park the message, never kill the worker
                log.exception("delivery crashed", extra={"outbox_id": outbox_id})
                await self._park(outbox_id, type(exc).__name__)
                continue
            self._start(planned)
        return ids

    def _state(self, lane: Lane) -> _LaneState:
        """The lane's state; a channel added after start (a test's) gets its lanes on first use."""
        return self.lanes.setdefault(lane.name, _LaneState(lane))

    async def _lane_room(self, lane: Lane, want: int, state: _LaneState, *, answer: bool, also: int = 0) -> tuple[int, float]:
        """Turns for answers count only answers in flight (they pass the rest at the bucket); other rows count all,
        and `also` the answers about to start."""
        if want <= 0:
            return 0, 0.0
        in_flight = state.answers_in_flight if answer else state.in_flight + also
        return await self.pacer.room(
            lane.channel, lane.sender, want, horizon=self.config.lane_horizon_s, in_flight=in_flight, answer=answer
        )

    def _start(self, planned: list[_Planned]) -> None:
        for p in planned:
            state = self._state(Lane(p.channel, p.message.sender))
            state.in_flight += 1
            state.answers_in_flight += p.answer
            task = asyncio.get_running_loop().create_task(self._send_and_record(p))
            self._inflight.add(task)
            task.add_done_callback(functools.partial(self._finished, state, p.answer))

    def _finished(self, state: _LaneState, answer: bool, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        state.in_flight -= 1
        state.answers_in_flight -= answer
        self._room.set()

    async def _send_and_record(self, planned: _Planned) -> None:
        try:
            result: SendResult | BaseException = await self._send(planned)
        except Exception as exc:  # recorded as a crash: the row is parked, the worker goes on
            result = exc
        self._recorder.add(planned, result)

    async def _send(self, planned: _Planned) -> SendResult | ChannelError:
        channel = self.channels[planned.channel]
        to, sender = planned.message.to, planned.message.sender
        cost = self._cost(planned.channel, channel, planned.message)
        await self.pacer.acquire(planned.channel, to, sender, answer=planned.answer, cost=cost)
        if not await self._still_ours(planned):
            return LeaseLost("claim expired while waiting for the provider's pace")
        telemetry = self.service.telemetry
        try:
            with telemetry.span("send", parent=trace_of(planned.origin), channel=planned.channel, outbox_id=planned.outbox_id):
                result = await channel.send(planned.message)
        except ChannelError as exc:
            telemetry.sent(channel=planned.channel, provider=channel.provider, outcome=exc.reason_class.value)
            if isinstance(exc, RateLimited):
                await self.pacer.slow_down(planned.channel, to, exc.retry_after, exc.code, sender)
            return exc
        await self.pacer.settle(planned.channel, to, result.segments, sender, paid=cost)
        return result

    def _cost(self, name: str, channel: Channel, message: OutboundMessage) -> int:
        """Tokens the send takes: its segments on a metered channel, else one.

        `isinstance` against a runtime-checkable Protocol walks the Protocol's members on every call
        (3.7-7.3 us a send on this box, 1.7% of a worker's CPU in bench/wave.py's profile): asked once per adapter.
        """
        known = self._metered.get(name)
        if known is None or known[0] is not channel:
            known = self._metered[name] = (channel, isinstance(channel, Metered))
        return cast(Metered, channel).cost(message) if known[1] else 1

    async def _record(self, outcomes: list[tuple[_Planned, SendResult | BaseException]]) -> None:
        """Record a few completed sends: hand-overs in one transaction, failures in another, crashes parked."""
        done = [(p, r) for p, r in outcomes if isinstance(r, SendResult)]
        await self._sent_many(done)
        failures = [(p, r) for p, r in outcomes if isinstance(r, ChannelError) and not isinstance(r, LeaseLost)]
        again = await self._failed_many(failures)
        for p, r in outcomes:
            if isinstance(r, BaseException) and not isinstance(r, ChannelError):
                log.error("delivery crashed", exc_info=r, extra={"outbox_id": p.outbox_id})
                await self._park(p.outbox_id, type(r).__name__)
        if again and self.on_wake is not None:
            self.on_wake()

    async def _park(self, outbox_id: int, error: str) -> None:
        """Retry later with backoff; after max_attempts the row is dead-lettered for `rebook dlq`.

        Its claim already counted the attempt.
        """
        now = self.clock()
        async with self.db.transaction() as s:
            row = await s.get(OutboxMessage, outbox_id)
            if row is None or row.status != OutboxStatus.SENDING:
                return
            row.last_error = error[:64]
            row.claimed_until = None
            if row.attempts >= self.config.max_attempts:
                transition(row, OutboxStatus.DEAD)
            else:
                transition(row, OutboxStatus.PENDING)
                row.next_attempt_at = now + dt.timedelta(seconds=backoff(row.attempts, self.config))

    # ---- claims ----

    def _ready(
        self, now: dt.datetime, limit: int, answers_only: bool, lane: str | None, *, lock: bool = True
    ) -> Select[tuple[int]]:
        """Ids of due rows of one lane (None: not yet routed; ANY_LANE: any) not held by a live claim.

        Answers first, then oldest first. A row waits while an earlier message of its conversation
        is still to send, so a conversation's messages arrive in order; other conversations pass it.
        """
        earlier = OUTBOX.alias("earlier")
        query = select(OUTBOX.c.id).where(
            text(f"outbox.{OUTBOX_READY}"),  # what the lanes' partial index holds
            or_(OUTBOX.c.status == OutboxStatus.PENDING.value, OUTBOX.c.claimed_until < now),
            OUTBOX.c.next_attempt_at <= now,
            ~exists(
                select(earlier.c.id).where(
                    earlier.c.conversation_id == OUTBOX.c.conversation_id,
                    earlier.c.id < OUTBOX.c.id,
                    text(f"earlier.{OUTBOX_READY}"),
                )
            ),
        )
        if lane is None:
            query = query.where(OUTBOX.c.lane.is_(None))
        elif lane != ANY_LANE:
            query = query.where(OUTBOX.c.lane == lane)
        if answers_only:
            query = query.where(OUTBOX.c.priority == Priority.ANSWER.value)
        query = (
            query.order_by(OUTBOX.c.priority, OUTBOX.c.id)
            .limit(limit)
            .correlate(None)  # inside the claim's UPDATE of the same table, still a query of its own
        )
        return query if self.db.is_sqlite or not lock else query.with_for_update(skip_locked=True)

    async def _claimed(
        self, s: AsyncSession, limit: int, answers_only: bool = False, *, lane: str | None = ANY_LANE
    ) -> list[OutboxMessage]:
        """Claim due rows in one statement, counting the attempt and taking the lease; in claim order."""
        now = self.clock()
        found = await s.scalars(
            move(update(OutboxMessage), OutboxMessage.status, OutboxStatus.SENDING, from_=_CLAIMABLE)
            .where(OutboxMessage.id.in_(self._ready(now, limit, answers_only, lane).scalar_subquery()))
            .values(claimed_until=now + self.config.claim_ttl, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage)
            .execution_options(synchronize_session=False)
        )
        return sorted(found, key=lambda row: (row.priority, row.id))

    async def _claim(self, limit: int, answers_only: bool = False) -> list[int]:
        """Claim due rows of any lane without planning them."""
        async with self.db.transaction() as s:
            return [row.id for row in await self._claimed(s, limit, answers_only)]

    async def deliver(self, outbox_id: int) -> None:
        """Send one claimed row now and record it, whatever its lane (the DLQ's and tests' path)."""
        self._start(await self._plan_many([outbox_id]))
        await self.settle()

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

    async def _plan_many(self, ids: list[int]) -> list[_Planned]:
        """Choose channels for claimed rows and render them in one transaction, reading consent right before the send.

        Rows are planned on whatever lane their contact gives now, whatever lane they were queued on.
        """
        async with self.db.transaction() as s:
            return await self._render(s, await self._choose_all(s, await self._claimed_rows(s, ids)))

    async def _choose_all(self, s: AsyncSession, rows: list[OutboxMessage]) -> list[_Choice]:
        """Pick a consented contact (and so a lane) for each row; rows with none fail or escalate."""
        convs = await self._conversations(s, rows)
        whose = {row.id: _recipient(row, convs.get(row.conversation_id or 0)) for row in rows}
        passengers = {p for p in whose.values() if p is not None}
        contacts = await self._contacts(s, passengers)
        granted = await ledger.granted_by_passenger(s, padded(passengers), channels=sorted(self.channels))
        choices: list[_Choice] = []
        stuck: list[tuple[Conversation | None, OutboxMessage]] = []
        for row in rows:
            conv = convs.get(row.conversation_id or 0)
            passenger = whose[row.id]
            if passenger is None:
                transition(row, OutboxStatus.FAILED)
                row.last_error = "no_recipient"
                continue
            contact = self._choose(conv, row, contacts.get(passenger, []), granted.get(passenger, set()))
            if contact is None:
                stuck.append((conv, row))
                continue
            senders = self.senders.get(contact.channel) or senders_of(self.channels[contact.channel])
            lane = Lane(contact.channel, sticky_sender(senders, contact))
            choices.append(_Choice(row, conv, contact, lane))
        await self._unreachable(s, stuck)
        return choices

    async def _render(self, s: AsyncSession, choices: list[_Choice]) -> list[_Planned]:
        """Render the chosen rows for their contacts, reading what they show in a few queries for the lot."""
        if not choices:
            return []
        convs = {c.conv.id: c.conv for c in choices if c.conv is not None}
        talk = [c.row for c in choices if c.conv is not None]
        data = await self.renderer.prefetch(s, talk, convs) if talk else RenderData()
        notices = [c for c in choices if c.conv is None]
        rendered = await self.notices.render(s, [(c.row, c.contact) for c in notices]) if notices and self.notices else {}
        planned: list[_Planned] = []
        for choice in choices:
            if choice.conv is None:
                message = rendered.get(choice.row.id)
                if message is None:
                    transition(choice.row, OutboxStatus.FAILED)
                    choice.row.last_error = "not_renderable"
                    continue
                planned.append(_Planned(choice.row.id, None, choice.lane.channel, replace(message, sender=choice.lane.sender), None, False, choice.row.claimed_until))
            else:
                planned.append(await self._planned(s, data, choice))
            planned[-1].answer = _answers(choice.row)
        return planned

    async def _claimed_rows(self, s: AsyncSession, ids: list[int]) -> list[OutboxMessage]:
        """The rows still ours to send, in the order they were claimed."""
        found = await s.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(padded(ids)), OutboxMessage.status == OutboxStatus.SENDING.value)
        )
        by_id = {row.id: row for row in found}
        return [by_id[i] for i in ids if i in by_id]

    async def _conversations(self, s: AsyncSession, rows: list[OutboxMessage]) -> dict[int, Conversation]:
        ids = [r.conversation_id for r in rows if r.conversation_id is not None]
        if not ids:
            return {}
        found = await s.scalars(select(Conversation).where(Conversation.id.in_(padded(ids))))
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

    async def _unreachable(self, s: AsyncSession, stuck: list[tuple[Conversation | None, OutboxMessage]]) -> None:
        """No channel left: dead-lettered (retryable by `rebook dlq retry`) when one only ever failed temporarily."""
        if not stuck:
            return
        temporary = await _temporarily_exhausted(s, [row for _, row in stuck])
        for _, row in stuck:
            transition(row, OutboxStatus.DEAD if row.id in temporary else OutboxStatus.FAILED)
            if row.tried_channels:  # the claim that found no channel left sent nothing: not an attempt
                row.attempts = max(0, row.attempts - 1)
            row.last_error = "channels_exhausted" if row.tried_channels else "no_consented_channel"
        essential = [conv for conv, row in stuck if conv is not None and row.key in _ESSENTIAL]
        await self._relock(s, essential)
        for conv in essential:
            await self.service.run(s, conv, DeliveryFailed("no_channel"))

    async def _planned(self, s: AsyncSession, data: RenderData, choice: _Choice) -> _Planned:
        """Render a conversation's row for the chosen contact and lane."""
        conv, row, contact = choice.conv, choice.row, choice.contact
        assert conv is not None  # noqa: S101  (only conversation rows reach here; see _render)
        window = conv.window_open_until.get(contact.channel)
        message = self.renderer.render(
            data,
            row,
            conv,
            to=_address(contact),
            window_open_until=dt.datetime.fromisoformat(window) if window else None,
        )
        if contact.channel == ChannelName.PUSH.value:  # the app posts a tapped option (or an open) back with it
            expires = message.expires_at or self.clock() + PUSH_TOKEN_TTL
            message = replace(
                message,
                action_token=action_tokens.mint(
                    passenger_id=contact.passenger_id, conversation_id=conv.id, outbox_id=row.id, expires_at=expires
                ),
            )
        origin = await self.service.origins.get(s, conv.disruption_id)
        first = conv.first_sent_at is None
        return _Planned(
            row.id,
            conv.id,
            contact.channel,
            replace(message, sender=choice.lane.sender),
            origin,
            first,
            row.claimed_until,
            first or conv.channel is None,
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
        self, conv: Conversation | None, row: OutboxMessage, contacts: list[ContactPoint], granted: set[str]
    ) -> ContactPoint | None:
        usable = [c for c in contacts if c.channel in self.channels and c.channel not in row.tried_channels and _address(c)]
        last = conv.channel if conv is not None else None
        if row.key == MessageKind.STOP_ACK.value:
            # The opt-out confirmation goes back where STOP came from, after consent is withdrawn.
            return next((c for c in usable if c.channel == last), None)
        usable = [c for c in usable if c.channel in granted]
        if last:
            usable.sort(key=lambda c: c.channel != last)
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
                        "provider": r.provider,  # a channel over two services (push) names the one that took it
                        "provider_message_id": r.provider_message_id,
                        "status": "sent",
                        "segments": r.segments,
                        "created_at": now,
                        "updated_at": now,
                        # the conversation log: what the channel showed, kept with the hand-over it went by
                        "text": storable_text(r.text) if r.text is not None else None,
                    }
                    for p, r in done
                ],
            )
            await s.execute(_MARK_SENT, [{"outbox_id": p.outbox_id, "now": now, "sent_on": p.channel} for p, _ in done])
            stamps = sorted((p.conversation_id, p.channel) for p, _ in done if p.stamp and p.conversation_id is not None)  # in id order: no deadlock
            if stamps:
                await s.execute(_STAMP_FIRST, [{"conversation_id": c, "now": now, "sent_on": ch} for c, ch in stamps])
        for p, r in done:
            self.service.telemetry.sent(channel=p.channel, provider=r.provider, outcome="sent")
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
        if row.status != OutboxStatus.SENDING:  # cancelled meanwhile (the passenger was erased)
            return False
        row.channel = planned.channel
        row.last_error = type(exc).__name__
        if exc.reason_class is ReasonClass.TEMPORARY and row.attempts < self.config.max_attempts:
            retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
            transition(row, OutboxStatus.PENDING)
            row.next_attempt_at = now + dt.timedelta(seconds=backoff(row.attempts, self.config, retry_after))
            row.claimed_until = None
            return False
        passenger = _recipient(row, await s.get(Conversation, row.conversation_id) if row.conversation_id else None)
        if isinstance(exc, OptedOut) and passenger is not None:
            await ledger.record(
                    s,
                    passenger_id=passenger,
                    channel=planned.channel,
                    purpose=ledger.SERVICE,
                    granted=False,
                    source="provider",
                    evidence=exc.code,
                    at=now,
                )
        if isinstance(exc, DeviceUnregistered) and passenger is not None:
            await s.execute(
                delete(ContactPoint).where(ContactPoint.passenger_id == passenger, ContactPoint.channel == planned.channel)
            )
        row.tried_channels = [*row.tried_channels, planned.channel]
        _reroute(row, now)
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
    if row is None or row.status != OutboxStatus.SENT or row.channel != delivery.channel:
        return False
    row.tried_channels = [*row.tried_channels, delivery.channel]
    _reroute(row, at)
    return True


def _reroute(row: OutboxMessage, at: dt.datetime) -> None:
    """Back to be routed again at once, to its next channel (the lane it was on is not its lane any more)."""
    transition(row, OutboxStatus.PENDING)
    row.lane = None
    row.claimed_until = None
    row.next_attempt_at = at


def _answers(row: OutboxMessage) -> bool:
    return row.priority == Priority.ANSWER.value


def _release(row: OutboxMessage) -> None:
    """Unclaim a row its lane cannot send now: it waits on the lane, claimable, and the attempt is not counted."""
    transition(row, OutboxStatus.PENDING)
    row.claimed_until = None
    row.attempts = max(0, row.attempts - 1)


def _recipient(row: OutboxMessage, conv: Conversation | None) -> int | None:
    """The passenger a row goes to: its conversation's, or the one a broadcast notice names."""
    return conv.passenger_id if conv is not None else row.passenger_id


def senders_of(channel: Channel) -> tuple[str, ...]:
    """The channel's pool of senders (numbers, phone number ids); one unnamed sender when it has no pool."""
    pool = tuple(str(s) for s in getattr(channel, "senders", ()) or ())
    return pool or (DEFAULT_SENDER,)


def _address(contact: ContactPoint) -> str:
    """The phone number (or e-mail, token) when known, else WhatsApp's BSUID: a user who hides their number has only that."""
    return contact.address or contact.bsuid or ""


def sticky_sender(senders: tuple[str, ...], contact: ContactPoint) -> str:
    """The sender the passenger last wrote to, else one picked by a stable hash of their address."""
    if contact.sender in senders:
        return str(contact.sender)
    if len(senders) == 1:
        return senders[0]
    digest = hashlib.sha256(_address(contact).encode()).digest()
    return senders[int.from_bytes(digest[:8], "big") % len(senders)]
