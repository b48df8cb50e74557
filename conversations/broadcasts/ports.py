"""What ops and a progress board (Slack) see of broadcasts: the request, its counts, the board port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class BroadcastRefused(ValueError):
    """The request names nothing we can send to, or a message we cannot send."""


@dataclass(frozen=True)
class BroadcastRequested:
    target: str
    message: str
    requested_by: str
    slack_channel: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class BroadcastCounts:
    broadcast_id: int
    target: str
    targeted: int
    sent: int
    skipped_consent: int
    failed: int
    pending: int
    finished: bool


class ProgressBoard(Protocol):
    """Where ops see a broadcast move (the Slack channel the command came from)."""

    async def post_progress(self, channel: str, counts: BroadcastCounts) -> str: ...

    async def update_progress(self, channel: str, ts: str, counts: BroadcastCounts) -> None: ...
