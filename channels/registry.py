"""The passenger channels a deployment can run, as data: a new channel is one more entry, not a new branch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar

from channels.email import EmailChannel
from channels.push import PushChannel, SandboxPush
from channels.sandbox import Sandbox, SandboxChannel
from channels.sms import SmsChannel
from channels.telegram import TelegramChannel
from channels.whatsapp import WhatsAppChannel
from conversations.ports import Capabilities, Channel


class Secret(Protocol):
    """A secret setting (pydantic's SecretStr) that never prints its value."""

    def get_secret_value(self) -> str: ...


class Section(Protocol):
    """What every channel's settings section tells the gateway: whether it is set up, and its sender pool."""

    @property
    def enabled(self) -> bool: ...

    @property
    def numbers(self) -> tuple[str, ...]: ...


class TwilioSection(Section, Protocol):
    """The `twilio` settings the SMS channel is built from."""

    @property
    def account_sid(self) -> str | None: ...

    @property
    def auth_token(self) -> Secret | None: ...

    @property
    def api_base(self) -> str: ...

    @property
    def max_segments(self) -> int: ...

    @property
    def max_connections(self) -> int: ...


class TemplateBinding(Protocol):
    """One approved Meta template: its name and language code."""

    @property
    def name(self) -> str: ...

    @property
    def language(self) -> str: ...


class WhatsAppSection(Section, Protocol):
    """The `whatsapp` settings the WhatsApp channel is built from."""

    @property
    def token(self) -> Secret | None: ...

    @property
    def api_base(self) -> str: ...

    @property
    def api_version(self) -> str: ...

    @property
    def max_connections(self) -> int: ...

    @property
    def templates(self) -> Mapping[str, Mapping[str, TemplateBinding]]: ...


class EmailSection(Section, Protocol):
    """The `email` settings the e-mail channel is built from."""

    @property
    def host(self) -> str | None: ...

    @property
    def port(self) -> int: ...

    @property
    def username(self) -> str | None: ...

    @property
    def password(self) -> Secret | None: ...

    @property
    def from_address(self) -> str | None: ...

    @property
    def tls(self) -> Literal["starttls", "tls", "none"]: ...

    @property
    def unsubscribe_mailbox(self) -> str | None: ...

    @property
    def timeout_s(self) -> float: ...


class TelegramSection(Section, Protocol):
    """The `telegram` settings the Telegram channel is built from."""

    @property
    def bot_token(self) -> Secret | None: ...

    @property
    def bot_username(self) -> str | None: ...

    @property
    def api_base(self) -> str: ...


class ApnsSection(Protocol):
    """The `apns` settings: token-based APNs for iOS devices."""

    @property
    def enabled(self) -> bool: ...

    @property
    def key_id(self) -> str | None: ...

    @property
    def team_id(self) -> str | None: ...

    @property
    def key_file(self) -> str | None: ...

    @property
    def topic(self) -> str | None: ...

    @property
    def api_base(self) -> str: ...

    @property
    def ca_file(self) -> str | None: ...


class FcmSection(Protocol):
    """The `fcm` settings: Firebase Cloud Messaging for Android devices."""

    @property
    def enabled(self) -> bool: ...

    @property
    def credentials_file(self) -> str | None: ...

    @property
    def project_id(self) -> str | None: ...

    @property
    def api_base(self) -> str: ...


class PushSection(Section, Protocol):
    """The `push` settings: one channel over its two services, each set up (or not) by its own section."""

    @property
    def apns(self) -> ApnsSection: ...

    @property
    def fcm(self) -> FcmSection: ...


@dataclass(frozen=True)
class Wiring:
    """What a channel needs from the deployment beyond its own section."""

    public_base_url: str


S = TypeVar("S", bound=Section)


@dataclass(frozen=True)
class ChannelEntry(Generic[S]):
    """One channel: the settings section that enables it, its limits, and how to build it real or sandboxed."""

    name: str
    #: The `Settings` attribute holding the channel's section (`REBOOK_<SECTION>__*`); its `numbers` are the sender pool.
    section: str
    capabilities: Capabilities
    build: Callable[[S, Wiring], Channel]
    sandboxed: Callable[[S, Sandbox], Channel]


def _secret(value: Secret | None) -> str:
    return value.get_secret_value() if value else ""


def _whatsapp(wa: WhatsAppSection, wiring: Wiring) -> Channel:
    return WhatsAppChannel(
        phone_number_id=wa.numbers[0],
        phone_number_ids=wa.numbers[1:],
        token=_secret(wa.token),
        api_base=wa.api_base,
        api_version=wa.api_version,
        max_connections=wa.max_connections,
        templates={
            key: {loc: (b.name, b.language) for loc, b in by_locale.items()}
            for key, by_locale in wa.templates.items()
        },
    )


def _sms(tw: TwilioSection, wiring: Wiring) -> Channel:
    return SmsChannel(
        account_sid=tw.account_sid or "",
        auth_token=_secret(tw.auth_token),
        from_number=tw.numbers[0],
        from_numbers=tw.numbers[1:],
        api_base=tw.api_base,
        max_connections=tw.max_connections,
        status_callback_url=wiring.public_base_url.rstrip("/") + "/webhooks/twilio/status",
        max_segments=tw.max_segments,
    )


def _sandboxed_whatsapp(wa: WhatsAppSection, box: Sandbox) -> Channel:
    return SandboxChannel("whatsapp", box, senders=wa.numbers)


def _sandboxed_sms(tw: TwilioSection, box: Sandbox) -> Channel:
    return SandboxChannel("sms", box, max_segments=tw.max_segments, senders=tw.numbers)


def _email(em: EmailSection, wiring: Wiring) -> Channel:
    return EmailChannel(
        host=em.host or "",
        port=em.port,
        from_address=em.from_address or "",
        username=em.username,
        password=_secret(em.password) or None,
        tls=em.tls,
        unsubscribe_mailbox=em.unsubscribe_mailbox,
        timeout_s=em.timeout_s,
    )


def _sandboxed_email(em: EmailSection, box: Sandbox) -> Channel:
    return SandboxChannel("email", box, senders=em.numbers)


def _push(push: PushSection, wiring: Wiring) -> Channel:
    """Only the services with credentials; the SDKs are imported here, where push is on (firebase-admin is heavy)."""
    services: dict[str, Channel] = {}
    if push.apns.enabled:
        from channels.apns import ApnsChannel

        a = push.apns
        services["apns"] = ApnsChannel(
            key_id=a.key_id or "",
            team_id=a.team_id or "",
            private_key=Path(a.key_file or "").read_text(),
            topic=a.topic or "",
            api_base=a.api_base,
            ca_file=a.ca_file,
        )
    if push.fcm.enabled:
        from channels.fcm import FcmChannel

        f = push.fcm
        services["fcm"] = FcmChannel(credentials_file=f.credentials_file or "", project_id=f.project_id or "", api_base=f.api_base)
    return PushChannel(services)


def _sandboxed_push(push: PushSection, box: Sandbox) -> Channel:
    return SandboxPush(box)


def _telegram(tg: TelegramSection, wiring: Wiring) -> Channel:
    return TelegramChannel(bot_token=_secret(tg.bot_token), bot_username=tg.bot_username or "", api_base=tg.api_base)


def _sandboxed_telegram(tg: TelegramSection, box: Sandbox) -> Channel:
    return SandboxChannel("telegram", box, senders=tg.numbers)


#: In the order the gateway builds them.
CHANNELS: tuple[ChannelEntry[Any], ...] = (
    ChannelEntry[WhatsAppSection](
        name="whatsapp",
        section="whatsapp",
        capabilities=WhatsAppChannel.capabilities,
        build=_whatsapp,
        sandboxed=_sandboxed_whatsapp,
    ),
    ChannelEntry[TwilioSection](
        name="sms",
        section="twilio",
        capabilities=SmsChannel.capabilities,
        build=_sms,
        sandboxed=_sandboxed_sms,
    ),
    ChannelEntry[EmailSection](
        name="email",
        section="email",
        capabilities=EmailChannel.capabilities,
        build=_email,
        sandboxed=_sandboxed_email,
    ),
    ChannelEntry[TelegramSection](
        name="telegram",
        section="telegram",
        capabilities=TelegramChannel.capabilities,
        build=_telegram,
        sandboxed=_sandboxed_telegram,
    ),
    ChannelEntry[PushSection](
        name="push",
        section="push",
        capabilities=PushChannel.capabilities,
        build=_push,
        sandboxed=_sandboxed_push,
    ),
)
