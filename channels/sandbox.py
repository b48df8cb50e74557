"""The built-in provider sandbox: real renderers, a recording transport, and passengers who answer."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from channels.email import EmailChannel, render_text
from channels.sms import SmsChannel, render_sms
from channels.telegram import TelegramChannel, render_telegram
from channels.whatsapp import WhatsAppChannel, render_whatsapp
from channels.whatsapp.render import shown_text
from conversations.ports import (
    Capabilities,
    ChannelError,
    DeliveryReceipt,
    DeliveryState,
    InboundText,
    OutboundMessage,
    SendResult,
)

PROVIDER = "sandbox"
#: Messages a sandbox keeps in memory unless told otherwise (REBOOK_SANDBOX_BUFFER); the oldest go first.
DEFAULT_BUFFER = 10_000


@dataclass(frozen=True)
class SandboxMessage:
    """What the passenger's phone would show, after the channel's own degradation."""

    channel: str
    to: str
    provider_message_id: str
    idempotency_key: str
    kind: str
    text: str
    tokens: tuple[str, ...]
    at: dt.datetime
    sender: str = ""
    #: A push's action token: what the app posts back with a tapped option (`POST /v1/app/actions`).
    action_token: str = ""
    #: The tokens (an SMS's numbers) of the passenger's own choices (refund, keep, later), not flights.
    own: tuple[str, ...] = ()


@dataclass
class Sandbox:
    """Shared by the sandbox channels: the last `limit` messages they accepted, and scripted failures.

    A long-running sandbox (`rebook serve`) would otherwise grow without end; what was sent stays
    readable in the conversation log (`rebook sandbox outbox`), which the database keeps.
    """

    limit: int = DEFAULT_BUFFER
    messages: list[SandboxMessage] = field(default_factory=list)
    listeners: list[Callable[[SandboxMessage], None]] = field(default_factory=list)
    failures: dict[tuple[str, str], list[ChannelError]] = field(default_factory=dict)
    _by_key: dict[tuple[str, str], SandboxMessage] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: Each process has its own sandbox; ids must not collide across them, as a provider's never do.
    _prefix: str = field(default_factory=lambda: secrets.token_hex(3).upper())

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("a sandbox keeps at least one message")

    def fail_next(self, channel: str, to: str, *errors: ChannelError) -> None:
        self.failures.setdefault((channel, to), []).extend(errors)

    def inbox(self, channel: str, to: str) -> list[SandboxMessage]:
        return [m for m in self.messages if m.channel == channel and m.to == to]

    def record(self, message: SandboxMessage) -> SandboxMessage:
        """Idempotent per channel, like each provider honouring its own idempotency tokens (a fallback is a new send)."""
        key = (message.channel, message.idempotency_key)
        known = self._by_key.get(key)
        if known is not None:
            return known
        self._by_key[key] = message
        self.messages.append(message)
        if len(self.messages) > self.limit:  # the oldest drops out, and with it its idempotency key
            oldest = self.messages.pop(0)
            if self._by_key.get((oldest.channel, oldest.idempotency_key)) is oldest:
                del self._by_key[(oldest.channel, oldest.idempotency_key)]
        for listener in self.listeners:
            listener(message)
        return message

    def next_id(self, channel: str) -> str:
        return f"SBX{channel[:2].upper()}{self._prefix}{next(self._ids):09d}"

    def reply(self, channel: str, sender: str, text: str | None = None, *, token: str | None = None) -> InboundText:
        """What the channel's webhook would hand the engine when this passenger answers."""
        return InboundText(
            provider=PROVIDER,
            event_id=self.next_id("in"),
            channel=channel,
            sender=sender,
            text=text,
            choice_token=token,
            received_at=dt.datetime.now(dt.UTC),
        )

    def receipt(self, message: SandboxMessage, state: DeliveryState, *, code: str | None = None) -> DeliveryReceipt:
        return DeliveryReceipt(
            provider=PROVIDER,
            event_id=f"{message.provider_message_id}:{state.value}",
            provider_message_id=message.provider_message_id,
            state=state,
            error_code=code,
        )


class SandboxChannel:
    """Renders exactly as the real adapter would, then records instead of calling the provider."""

    provider = PROVIDER

    def __init__(self, name: str, sandbox: Sandbox, *, max_segments: int = 4, senders: tuple[str, ...] = ()) -> None:
        real: Capabilities = {
            "sms": SmsChannel.capabilities,
            "email": EmailChannel.capabilities,
            "telegram": TelegramChannel.capabilities,
        }.get(name, WhatsAppChannel.capabilities)
        self.name = name
        self.senders = senders
        self.capabilities = replace(real, rate_per_second=0.0, max_segments=max_segments if name == "sms" else 0)
        self.sandbox = sandbox
        self.max_segments = max_segments

    async def send(self, message: OutboundMessage) -> SendResult:
        queued = self.sandbox.failures.get((self.name, message.to))
        if queued:
            raise queued.pop(0)
        now = dt.datetime.now(dt.UTC)
        own = tuple(c.token for c in message.choices if c.own)
        if self.name == "sms":
            kind, text = "text", render_sms(message, self.max_segments)
            shown = text
            tokens = tuple(str(c.number) for c in message.choices)
            own = tuple(str(c.number) for c in message.choices if c.own)
        elif self.name == "email":  # the plain-text part: options are links to the page's confirm step
            kind, text = "email", render_text(message)
            shown = text
            tokens = tuple(c.token for c in message.choices)
        elif self.name == "telegram":  # the chat's text; the buttons carry the choice tokens (signed only on the wire)
            view = render_telegram(message)
            kind, text, shown = "text", view.text, view.text
            tokens = tuple(token for _, token in view.buttons)
        else:
            payload = render_whatsapp(message, now)
            kind = payload.kind
            text = payload.text
            shown = shown_text(payload)
            if payload.template is not None:
                tokens = (payload.template.quick_reply_payload or "",)
            else:
                tokens = tuple(b.id for b in payload.buttons) + tuple(r.id for r in payload.rows)
        recorded = self.sandbox.record(
            SandboxMessage(
                channel=self.name,
                to=message.to,
                provider_message_id=self.sandbox.next_id(self.name),
                idempotency_key=message.idempotency_key,
                kind=kind,
                text=text,
                tokens=tokens,
                at=now,
                sender=message.sender,
                own=own,
            )
        )
        return SendResult(provider=PROVIDER, provider_message_id=recorded.provider_message_id, text=shown)

    async def aclose(self) -> None:
        return None
