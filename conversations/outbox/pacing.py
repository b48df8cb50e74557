"""Token buckets per provider and sender (and per recipient where a provider limits that), so
fan-out never outruns a provider's documented rate; the bucket state lives in a `BucketStore`
(in-process here, shared across workers in Redis in `infra.ratelimit`)."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from conversations.outbox.ports import BucketStore, ChannelPace, Limit, Sleep


@dataclass(frozen=True)
class _Turn:
    """A bucket a send must take a token from: leaving `floor` tokens, then owing `debt` more."""

    bucket: str
    limit: Limit
    floor: float = 0.0
    debt: float = 0.0


@dataclass
class _State:
    tokens: float
    updated: float
    blocked_until: float = 0.0


@dataclass
class LocalBuckets:
    """Bucket state in this process only: right for the embedded single-worker default."""

    clock: Callable[[], float] = time.monotonic
    _states: dict[str, _State] = field(default_factory=dict)

    def _refilled(self, bucket: str, limit: Limit) -> tuple[_State, float]:
        now = self.clock()
        state = self._states.setdefault(bucket, _State(limit.burst, now))
        if now > state.updated:
            state.tokens = min(limit.burst, state.tokens + (now - state.updated) * limit.rate)
            state.updated = now
        return state, now

    async def take(self, bucket: str, limit: Limit, cost: float = 1.0, floor: float = 0.0, debt: float = 0.0) -> float:
        state, now = self._refilled(bucket, limit)
        if state.blocked_until > now:
            return state.blocked_until - now
        if state.tokens - cost >= floor:
            state.tokens -= cost + debt
            return 0.0
        return (cost + floor - state.tokens) / limit.rate

    async def charge(self, bucket: str, limit: Limit, cost: float) -> None:
        state, _ = self._refilled(bucket, limit)
        state.tokens -= cost

    async def block(self, bucket: str, limit: Limit, seconds: float) -> None:
        state, now = self._refilled(bucket, limit)
        until = now + seconds
        if until > state.blocked_until:
            state.blocked_until = until
            state.tokens = min(state.tokens, 0.0)
            state.updated = max(state.updated, until)

    async def peek(self, bucket: str, limit: Limit) -> tuple[float, float]:
        state, now = self._refilled(bucket, limit)
        return state.tokens, max(0.0, state.blocked_until - now)


#: A send reaches the provider a little after its turn: a few ms, tens on a busy host, a few hundred for the
#: first send of a process (its connection). The provider's bucket, which sees the sends that much later, then
#: runs that far behind ours. Turns are taken with this many seconds of tokens to spare, so it is never short.
JITTER_S = 0.25


def _floor(pace: ChannelPace, limit: Limit, answer: bool, jitter_s: float) -> float:
    """What a send must leave in the sender's bucket: the answers' reserve (unless it is one) and the jitter's margin."""
    return min((0.0 if answer else pace.reserve) + limit.rate * jitter_s, limit.burst - 1)


def recipient_tag(recipient: str) -> str:
    """Bucket names may end up in Redis and its logs: a recipient appears only as a short hash."""
    return hashlib.sha256(recipient.encode()).hexdigest()[:16]


class Pacer:
    """Maps a send to its buckets and waits until every one of them grants a token."""

    def __init__(
        self,
        paces: Mapping[str, ChannelPace | float],
        store: BucketStore | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        max_nap_s: float = 1.0,
        jitter_s: float = JITTER_S,
    ) -> None:
        """A bare number is one bucket per channel at that rate (burst = rate, at least 1); ≤ 0 is not paced."""
        self.paces = {
            name: pace if isinstance(pace, ChannelPace) else ChannelPace(per_sender=Limit(pace, max(pace, 1.0)))
            for name, pace in paces.items()
            if isinstance(pace, ChannelPace) or pace > 0
        }
        self.store: BucketStore = store if store is not None else LocalBuckets()
        self._sleep = sleep
        self._max_nap = max_nap_s
        self.jitter_s = jitter_s

    def pace(self, channel: str, sender: str = "") -> ChannelPace | None:
        """A lane's pace: its sender's own where the sender is a service with limits of its own (`push:apns`), else its channel's."""
        return (self.paces.get(f"{channel}:{sender}") if sender else None) or self.paces.get(channel)

    def _sender_bucket(self, channel: str, pace: ChannelPace, sender: str = "") -> str:
        return f"{channel}:{sender or pace.sender_id}"

    def _recipient_bucket(self, channel: str, pace: ChannelPace, recipient: str, sender: str = "") -> str:
        return f"{channel}:{sender or pace.sender_id}:to:{recipient_tag(recipient)}"

    def buckets(
        self, channel: str, recipient: str, sender: str = "", *, answer: bool = False, cost: int = 1
    ) -> list[_Turn]:
        """Narrowest first: a recipient's turn is settled before a sender-wide token is spent. A send leaves the
        sender's reserve unless it answers a passenger, and pays a long SMS's other segments when its turn comes."""
        pace = self.pace(channel, sender)
        if pace is None:
            return []
        out: list[_Turn] = []
        if pace.per_recipient is not None and recipient:
            out.append(_Turn(self._recipient_bucket(channel, pace, recipient, sender), pace.per_recipient))
        if pace.per_sender is not None:
            limit = pace.per_sender
            debt = max(cost - 1, 0) if pace.count_segments else 0
            out.append(_Turn(self._sender_bucket(channel, pace, sender), limit, _floor(pace, limit, answer, self.jitter_s), debt))
        return out

    async def _wait_for(self, turns: list[_Turn]) -> None:
        for turn in turns:
            while (wait := await self.store.take(turn.bucket, turn.limit, 1.0, turn.floor, turn.debt)) > 0:
                # Jitter spreads the workers that wait on one bucket, so they don't wake as a herd.
                await self._sleep(min(wait, self._max_nap) * random.uniform(1.0, 1.1))

    async def acquire(
        self, channel: str, recipient: str = "", sender: str = "", *, answer: bool = False, cost: int = 1
    ) -> None:
        """One token when the bucket has it; an SMS's other segments are owed at once, as its provider bills them."""
        await self._wait_for(self.buckets(channel, recipient, sender, answer=answer, cost=cost))

    async def room(
        self, channel: str, sender: str, want: int, *, horizon: float, in_flight: int, answer: bool = False
    ) -> tuple[int, float]:
        """How many more rows a lane may claim: what its bucket can send within `horizon` seconds, less those
        already claimed and waiting (`in_flight`); with none, the seconds until one more fits. Takes nothing:
        each send takes its own token. Answers may use the reserve; other rows leave it.
        """
        pace = self.pace(channel, sender)
        if pace is None or pace.per_sender is None or want <= 0:
            return max(want, 0), 0.0
        limit = pace.per_sender
        tokens, blocked = await self.store.peek(self._sender_bucket(channel, pace, sender), limit)
        if blocked > 0:
            return 0, blocked
        usable = tokens - _floor(pace, limit, answer, self.jitter_s)
        fits = int(usable + limit.rate * horizon) - in_flight
        if fits >= 1:
            return min(want, fits), 0.0
        return 0, max((in_flight + 1 - usable) / limit.rate - horizon, 0.001)

    async def settle(self, channel: str, recipient: str, segments: int, sender: str = "", *, paid: int = 1) -> None:
        """An SMS of n segments costs n tokens; its turn paid `paid`, and whatever the provider counted beyond is charged here."""
        pace = self.pace(channel, sender)
        if pace is None or not pace.count_segments or pace.per_sender is None or segments <= paid:
            return
        await self.store.charge(self._sender_bucket(channel, pace, sender), pace.per_sender, segments - paid)

    async def slow_down(
        self, channel: str, recipient: str, seconds: float, code: str | None = None, sender: str = ""
    ) -> None:
        """A provider answered 429: every worker stops using the bucket it named for `seconds`."""
        pace = self.pace(channel, sender)
        if pace is None or seconds <= 0:
            return
        if code is not None and code in pace.recipient_codes:
            if pace.per_recipient is not None and recipient:
                await self.store.block(
                    self._recipient_bucket(channel, pace, recipient, sender), pace.per_recipient, seconds
                )
            return
        if pace.per_sender is not None:
            await self.store.block(self._sender_bucket(channel, pace, sender), pace.per_sender, seconds)
