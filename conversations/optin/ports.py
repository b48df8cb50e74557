"""What a webhook hands over when a user follows a deep link into a chat, and who takes it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class ChatLinked:
    """A user started the bot with a deep-link token (`/start <token>`); `event_id` dedupes a retried webhook."""

    provider: str
    event_id: str
    channel: str
    #: The chat the bot answers in (Telegram's chat id): personal data, stored encrypted.
    sender: str
    token: str
    received_at: dt.datetime


class LinkOutcome(StrEnum):
    """What became of a deep link: bound, a retried update, or a token that names nobody (forged, expired, erased)."""

    LINKED = "linked"
    DUPLICATE = "duplicate"
    REFUSED = "refused"


class ChatLinkSink(Protocol):
    """Binds a chat to the passenger its token names and records their consent, once per event."""

    async def link(self, event: ChatLinked) -> LinkOutcome: ...
