"""A `conversations.outbox.pacing.Pacing` with no limits, for tests that watch or steer what the dispatcher asks of it."""

from __future__ import annotations


class Unlimited:
    """Every lane has all the room it wants and every turn comes at once; subclasses override what they watch."""

    async def room(
        self, channel: str, sender: str, want: int, *, horizon: float, in_flight: int, answer: bool = False
    ) -> tuple[int, float]:
        return want, 0.0

    async def acquire(
        self, channel: str, recipient: str = "", sender: str = "", *, answer: bool = False, cost: int = 1
    ) -> None:
        return None

    async def settle(self, channel: str, recipient: str, segments: int, sender: str = "", *, paid: int = 1) -> None:
        return None

    async def slow_down(
        self, channel: str, recipient: str, seconds: float, code: str | None = None, sender: str = ""
    ) -> None:
        return None
