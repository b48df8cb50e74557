"""What a channel adapter must do for the engine, and the neutral shapes it speaks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from conversations.provider_values import error_code, provider_id


class ReasonClass(StrEnum):
    """How the dispatcher treats a failure: retry, fall back, or stop."""

    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    POLICY = "policy"


class ChannelError(Exception):
    """Every provider failure, mapped once per adapter into this tree."""

    reason_class: ReasonClass = ReasonClass.PERMANENT

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or type(self).__name__)
        #: The provider's code as it is stored (deliveries, consent evidence): printable, cut to the column.
        self.code = error_code(code)


class RateLimited(ChannelError):
    reason_class = ReasonClass.TEMPORARY

    def __init__(self, message: str = "", *, code: str | None = None, retry_after: float = 1.0) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ProviderUnavailable(ChannelError):
    reason_class = ReasonClass.TEMPORARY


class RecipientUnreachable(ChannelError):
    reason_class = ReasonClass.PERMANENT


class MessageRejected(ChannelError):
    reason_class = ReasonClass.PERMANENT


class InvalidCredentials(ChannelError):
    reason_class = ReasonClass.PERMANENT


class TemplateRequired(ChannelError):
    reason_class = ReasonClass.POLICY


class OptedOut(ChannelError):
    reason_class = ReasonClass.POLICY


class DeviceUnregistered(RecipientUnreachable):
    """A push token the provider no longer knows or never took (APNs 410, BadDeviceToken; FCM UNREGISTERED): drop the token, keep consent."""

    reason_class = ReasonClass.PERMANENT


@dataclass(frozen=True)
class Capabilities:
    """Provider limits as data: adapters degrade rich messages to fit them."""

    max_body_chars: int
    max_choices: int
    max_buttons: int
    max_button_title: int
    max_list_rows: int
    max_row_title: int
    max_row_description: int
    supports_templates: bool
    session_window: dt.timedelta | None
    rate_per_second: float
    max_segments: int = 0


@dataclass(frozen=True)
class ChoiceView:
    """One option, already localized; `token` is what the channel carries back when tapped."""

    token: str
    number: int
    title: str
    description: str
    #: One of the passenger's own choices (refund, keep, later), not a flight: a short SMS drops flights before it.
    own: bool = False


@dataclass(frozen=True)
class TemplateCall:
    """An approved, business-initiated template: used when the session window is closed."""

    key: str
    locale: str
    params: tuple[str, ...]
    quick_reply_payload: str | None
    quick_reply_title: str


@dataclass(frozen=True)
class RightsNotice:
    """The passenger's rights under the regime covering the journey (Reg. 261/2004 Art. 14, APPR s. 5), and where the full text is.

    `text` is one or two lines; `short` the SMS version; `tag` the regime's name for an SMS with no room left
    ("EU261"); each channel shows one with the link within its limits.
    """

    text: str
    short: str
    link: str
    tag: str = ""


@dataclass(frozen=True)
class OutboundMessage:
    """A rich message rendered in the passenger's language, before channel degradation."""

    idempotency_key: str
    to: str
    locale: str
    body: str
    choices: tuple[ChoiceView, ...] = ()
    choices_prompt: str = ""
    list_button: str = ""
    header: str = ""
    footer: str = ""
    template: TemplateCall | None = None
    window_open_until: dt.datetime | None = None
    #: Which of the channel's senders (a Twilio number, a WhatsApp phone number id) sends it; "" = the default.
    sender: str = ""
    #: The passenger's personal page (`PUBLIC_BASE_URL/p/<token>`) when one was minted for this message.
    page_link: str | None = None
    #: Messages of one conversation share it, so a mail client threads them ("" = no thread).
    thread: str = ""
    #: Until when the message is worth showing (an offer's hold expiry): push providers drop it after.
    expires_at: dt.datetime | None = None
    #: Signed, single-use token the airline's app posts back with a tapped option (`POST /v1/app/actions`).
    action_token: str | None = None
    #: A first message's notice of rights (None on every other message).
    rights: RightsNotice | None = None


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_message_id: str
    segments: int = 1
    #: What went, as the adapter rendered it for its channel (the conversation log keeps it); None: the adapter cannot say.
    text: str | None = None

    def __post_init__(self) -> None:
        """The id as stored and as receipts will name it: an odd or oversized one by its hash."""
        object.__setattr__(self, "provider_message_id", provider_id(self.provider_message_id))


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True)
class InboundText:
    """A passenger wrote or tapped something; `choice_token` is set for a button/list tap."""

    provider: str
    event_id: str
    channel: str
    sender: str
    text: str | None
    choice_token: str | None
    received_at: dt.datetime
    #: Which of our senders it was written to (Twilio `To`, WhatsApp phone number id): answers go from it.
    recipient: str = ""
    #: WhatsApp's business-scoped user id: the only identifier of a user who hides their number ("" = none).
    sender_bsuid: str = ""
    #: The parent BSUID shared across a managed business's portfolios, when Meta sends one.
    parent_bsuid: str = ""
    #: The WhatsApp username, when Meta sends one.
    username: str = ""


@dataclass(frozen=True)
class DeliveryReceipt:
    provider: str
    event_id: str
    provider_message_id: str
    state: DeliveryState
    error_code: str | None = None
    reason_class: ReasonClass | None = None
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    #: Who it went to, when the status names them (a phone number, a BSUID): lets a later BSUID-only message find them.
    recipient: str = ""
    recipient_bsuid: str = ""


@dataclass(frozen=True)
class IdentityChanged:
    """A provider says a user's identifiers changed (WhatsApp's phone-number change): their contact points follow."""

    provider: str
    event_id: str
    channel: str
    old_sender: str
    old_bsuid: str
    new_sender: str
    new_bsuid: str
    new_parent_bsuid: str = ""
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


class AddressProblem(StrEnum):
    """Why a provider says an address must not be used again."""

    UNDELIVERABLE = "undeliverable"  # a hard bounce: the mailbox does not exist
    COMPLAINED = "complained"  # the recipient marked a message as spam: consent is withdrawn


@dataclass(frozen=True)
class AddressRejected:
    """A provider's verdict on an address (SES bounce or complaint), deduplicated by (provider, event_id)."""

    provider: str
    event_id: str
    channel: str
    address: str
    problem: AddressProblem
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


InboundEvent = InboundText | DeliveryReceipt | IdentityChanged


@runtime_checkable
class Channel(Protocol):
    """An outbound adapter for one provider; `send` raises a ChannelError on failure."""

    name: str
    provider: str
    capabilities: Capabilities

    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Metered(Protocol):
    """A channel whose provider counts a message in more than one token (an SMS in segments), known before sending."""

    def cost(self, message: OutboundMessage) -> int: ...


class InboundSink(Protocol):
    """Where webhooks hand parsed provider events; deduplicates by (provider, event_id)."""

    async def accept(self, events: Sequence[InboundText | DeliveryReceipt | IdentityChanged]) -> None: ...


class AddressSink(Protocol):
    """Where webhooks hand verdicts on addresses; deduplicates by (provider, event_id)."""

    async def reject(self, events: list[AddressRejected]) -> None: ...
