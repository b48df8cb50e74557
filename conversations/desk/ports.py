"""What a desk adapter (Slack) sees of the desk: the port it implements, the actions it parses, the views it draws."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

# ---- what an agent sees: neutral views of the queue and of one passenger ----


@dataclass(frozen=True)
class QueueCardView:
    """Counts of one disruption's queue in one routing channel; `open` waits for a Take next."""

    disruption_id: int
    route: str
    title: str
    open: int
    claimed: int
    resolved: int
    by_reason: tuple[tuple[str, int], ...]
    by_tier: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class OptionView:
    number: int
    option_id: int
    flights: str
    departs_utc: dt.datetime
    arrives_utc: dt.datetime
    seat_status: str
    seats_left: int


@dataclass(frozen=True)
class TranscriptLine:
    at: dt.datetime
    author: str  # "passenger", "bot" or "agent"
    text: str


@dataclass(frozen=True)
class LoyaltyView:
    """What the loyalty programme knows of the passenger: level name, miles, and preferences as given (sorted pairs)."""

    status: str | None
    miles: int | None
    preferences: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PassengerCardView:
    """No more PII than the agent needs: first name, tier, locator; loyalty (None once erased or when unknown)."""

    escalation_id: int
    route: str
    first_name: str
    tier: int
    locator: str
    language: str
    channel: str | None
    disruption: str
    reason: str
    conversation_status: str
    escalation_status: str
    owner: str | None
    resolution: str | None
    options: tuple[OptionView, ...]
    transcript: tuple[TranscriptLine, ...]
    loyalty: LoyaltyView | None = None


@dataclass(frozen=True)
class NoteView:
    """A note for the agent in a passenger's thread: a catalog key the desk renders in its language, and its parameters."""

    key: str
    #: A value that is itself a note is rendered first (a phrase inside the sentence); a time is shown in UTC.
    params: tuple[tuple[str, str | int | dt.datetime | NoteView], ...] = ()


@dataclass(frozen=True)
class ErasedCardView:
    """What a passenger card shows once the passenger was erased: nothing about them, only which escalation it was."""

    escalation_id: int


# ---- the port a desk (Slack) implements ----


class AgentDesk(Protocol):
    """Where agents see the queue; `route` is the desk's channel id, returns are message ids (Slack ts)."""

    async def post_queue_card(self, route: str, card: QueueCardView) -> str: ...

    async def update_queue_card(self, route: str, ts: str, card: QueueCardView) -> None: ...

    async def post_passenger_card(self, route: str, card: PassengerCardView) -> str: ...

    async def update_passenger_card(self, route: str, ts: str, card: PassengerCardView) -> None: ...

    async def post_relay(self, route: str, thread_ts: str, text: str) -> str: ...

    async def post_note(self, route: str, thread_ts: str, note: NoteView) -> str: ...

    async def redact_passenger_card(self, route: str, ts: str, card: ErasedCardView) -> None: ...

    async def thread_posts(self, route: str, thread_ts: str) -> list[str]: ...

    async def delete_message(self, route: str, ts: str) -> None: ...


# ---- what agents do (parsed by the desk adapter) ----


@dataclass(frozen=True)
class TakeNext:
    disruption_id: int
    route: str
    agent: str


@dataclass(frozen=True)
class TakePassenger:
    escalation_id: int
    agent: str


@dataclass(frozen=True)
class RebookOption:
    escalation_id: int
    option_id: int
    agent: str


@dataclass(frozen=True)
class OfferRefund:
    escalation_id: int
    agent: str


@dataclass(frozen=True)
class SendVoucher:
    escalation_id: int
    agent: str


@dataclass(frozen=True)
class ReturnToBot:
    escalation_id: int
    agent: str


@dataclass(frozen=True)
class CloseCase:
    """The agent ends the case: the conversation closes (a booking stays booked) and the bot stays silent."""

    escalation_id: int
    agent: str


@dataclass(frozen=True)
class WriteToPassenger:
    """An agent's words for the passenger by escalation (the API); `message_id` makes a retried write send once."""

    escalation_id: int
    agent: str
    text: str
    message_id: str


@dataclass(frozen=True)
class ThreadReply:
    """A human wrote in a thread; `message_id` (Slack ts) makes the relay idempotent."""

    route: str
    thread_ts: str
    agent: str
    text: str
    message_id: str


DeskAction = (
    TakeNext | TakePassenger | RebookOption | OfferRefund | SendVoucher | ReturnToBot | CloseCase | WriteToPassenger | ThreadReply
)


@dataclass(frozen=True)
class DeskReply:
    """Told only to the agent who acted: `code` names the situation, `owner`/`detail` fill it in."""

    code: str
    owner: str | None = None
    detail: str = ""
