"""What the outbox asks of the layers around it: bucket storage and pacing (infra.ratelimit, tests' fakes), the
limits the gateway configures, and telemetry (the gateway's Prometheus and OpenTelemetry behind one port)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Limit:
    """`rate` tokens a second, at most `burst` saved up; a token is a message (or an SMS segment)."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("a rate limit needs a positive rate")
        if self.burst < 1:
            raise ValueError("a burst below one token would never grant a send")


@dataclass(frozen=True)
class ChannelPace:
    """How one channel is paced: a bucket per sender and, where the provider says so, per recipient."""

    sender_id: str = "default"
    per_sender: Limit | None = None
    per_recipient: Limit | None = None
    count_segments: bool = False
    recipient_codes: frozenset[str] = frozenset()
    #: Tokens of the sender bucket only answers may take, so an answer leaves at once while a wave drains.
    reserve: float = 0.0

    def __post_init__(self) -> None:
        if self.reserve < 0:
            raise ValueError("a reserve for answers cannot be negative")
        if self.per_sender is not None and self.reserve > self.per_sender.burst - 1:
            raise ValueError("the burst must hold the answers' reserve and one more token, or nothing else is sent")


class BucketStore(Protocol):
    """Where bucket state lives; every call is atomic for its bucket, whoever else calls it."""

    async def take(self, bucket: str, limit: Limit, cost: float = 1.0, floor: float = 0.0, debt: float = 0.0) -> float:
        """Take `cost` tokens if `floor` tokens stay, and `debt` more even below zero, and return 0; or take nothing
        and return the seconds to wait."""
        ...

    async def charge(self, bucket: str, limit: Limit, cost: float) -> None:
        """Take `cost` tokens even into debt: the cost of a send became known after it."""
        ...

    async def block(self, bucket: str, limit: Limit, seconds: float) -> None:
        """Nobody takes from this bucket for `seconds`, then it refills from empty."""
        ...

    async def peek(self, bucket: str, limit: Limit) -> tuple[float, float]:
        """(tokens there now, seconds it stays blocked), taking nothing."""
        ...


class Pacing(Protocol):
    """What the dispatcher needs: take a lane's turns, wait for a recipient's, pay for what was sent, back off when told."""

    async def acquire(
        self, channel: str, recipient: str = "", sender: str = "", *, answer: bool = False, cost: int = 1
    ) -> None: ...

    async def room(
        self, channel: str, sender: str, want: int, *, horizon: float, in_flight: int, answer: bool = False
    ) -> tuple[int, float]: ...

    async def settle(self, channel: str, recipient: str, segments: int, sender: str = "", *, paid: int = 1) -> None: ...

    async def slow_down(
        self, channel: str, recipient: str, seconds: float, code: str | None = None, sender: str = ""
    ) -> None: ...


class Telemetry(Protocol):
    """What the dispatcher, service and inbound router report; the gateway supplies the real one."""

    def span(self, name: str, *, parent: str | None = None, **attributes: str | int) -> AbstractContextManager[None]:
        """A traced step; `parent` is a W3C traceparent carried from another process or the database."""
        ...

    def sent(self, *, channel: str, provider: str, outcome: str) -> None:
        """One hand-over attempt: outcome `sent` or the failure's reason class."""
        ...

    def first_handover(self, *, channel: str, seconds: float) -> None:
        """A passenger's first message reached the provider, `seconds` after the disruption was recorded."""
        ...

    def receipt(self, *, channel: str, provider: str, state: str, seconds: float) -> None:
        """A receipt moved a delivery to `state`, `seconds` after the hand-over."""
        ...

    def booking(self, *, outcome: str, seconds: float | None) -> None:
        """A booking attempt; `seconds` from the disruption to a first confirmed booking, else None."""
        ...

    def escalated(self, *, tier: int, reason: str, count: int = 1) -> None:
        """Conversations went to a human (a fan-out reports its batch's at once)."""
        ...

    def unknown_sender(self, *, channel: str, provider: str, by: str) -> None:
        """A message from an address no passenger has (`by`: which identifier it carried, e.g. `bsuid`)."""
        ...
