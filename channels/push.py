"""The `push` channel: one consent and one contact channel, two services; a device's lane names its service.

A device registered as `ios` is sent through APNs, `android` through FCM: its contact point's
sender is the service (`apns`, `fcm`), so the dispatcher puts it on that service's lane, paced and
retried apart, and this channel hands the message to the matching adapter. A service without
credentials refuses its devices (the dispatcher then falls back to the passenger's next channel).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Final

from channels.push_payload import CAPABILITIES, Notification, fit, shown_text
from channels.sandbox import Sandbox, SandboxMessage
from conversations.ports import Channel, InvalidCredentials, OutboundMessage, SendResult
from rebooking_core.types import PUSH_SERVICES

CHANNEL: Final = "push"
#: The device's platform -> the service that reaches it (and the sender, so the lane, of its contact point).
SERVICES: Final = PUSH_SERVICES


class PushChannel:
    """Routes each message to APNs or FCM by its lane's sender."""

    name = CHANNEL
    #: What failures are recorded under; each send's own result names `apns` or `fcm`.
    provider = "push"
    capabilities = CAPABILITIES
    #: Both lanes always exist, so a device keeps its service's lane even while that service is off.
    senders: tuple[str, ...] = tuple(SERVICES.values())

    def __init__(self, services: Mapping[str, Channel]) -> None:
        self.services = dict(services)

    async def send(self, message: OutboundMessage) -> SendResult:
        service = self.services.get(message.sender)
        if service is None:
            raise InvalidCredentials(f"push service {message.sender or '(none)'} is not configured", code="not_configured")
        return await service.send(message)

    async def aclose(self) -> None:
        for service in self.services.values():
            await service.aclose()


class SandboxPush:
    """The sandbox's push: fitted exactly as for APNs and FCM, recorded with the options and the action token a tap posts back."""

    name = CHANNEL
    provider = "sandbox"
    capabilities = CAPABILITIES
    senders: tuple[str, ...] = tuple(SERVICES.values())

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def send(self, message: OutboundMessage) -> SendResult:
        queued = self.sandbox.failures.get((self.name, message.to))
        if queued:
            raise queued.pop(0)
        now = dt.datetime.now(dt.UTC)
        note, _ = fit(message, now, _encode)
        recorded = self.sandbox.record(
            SandboxMessage(
                channel=self.name,
                to=message.to,
                provider_message_id=self.sandbox.next_id(self.name),
                idempotency_key=message.idempotency_key,
                kind="push",
                text=note.body,
                tokens=tuple(option for option, _ in note.options),
                at=now,
                sender=message.sender,
                action_token=note.action_token or "",
                own=tuple(c.token for c in message.choices if c.own),
            )
        )
        return SendResult(provider=self.provider, provider_message_id=recorded.provider_message_id, text=shown_text(note))

    async def aclose(self) -> None:
        return None


def _encode(note: Notification) -> bytes:
    return json.dumps({"body": note.body, "title": note.title, **note.data()}, ensure_ascii=False).encode()
