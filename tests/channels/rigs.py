"""Each Channel adapter wired to its provider fake for the contract suite: a new channel adds a rig and a RIGS entry."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from channels.apns import ApnsChannel
from channels.email import EmailChannel
from channels.fcm import FcmChannel
from channels.push import SandboxPush
from channels.sandbox import Sandbox, SandboxChannel
from channels.sms import SmsChannel
from channels.telegram import TelegramChannel
from channels.whatsapp import WhatsAppChannel
from conversations.ports import (
    Channel,
    ChannelError,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
)
from tests.fakes.apns_api import KEY_ID as APNS_KEY_ID
from tests.fakes.apns_api import TEAM_ID as APNS_TEAM_ID
from tests.fakes.apns_api import TOPIC as APNS_TOPIC
from tests.fakes.apns_api import FakeApns, LocalApns, p8_key
from tests.fakes.fcm_api import PROJECT as FCM_PROJECT
from tests.fakes.fcm_api import FakeFcm, rsa_key
from tests.fakes.fcm_api import service_account as fcm_service_account
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer
from tests.fakes.smtp import NO_SUCH_MAILBOX, PASSWORD, USERNAME, LocalSmtp
from tests.fakes.telegram_api import BOT_USERNAME, FakeBotApi
from tests.fakes.twilio_api import FakeTwilio

PASSENGER = "+34600111222"
#: A number providers refuse: too short for E.164.
NOT_A_NUMBER = "12345"
TWILIO_SENDER = "+14155550100"
_MENU_LINE = re.compile(r"^\d+\) ", re.MULTILINE)


@dataclass(frozen=True)
class Shown:
    """What the last send put in front of the passenger, as the provider received it."""

    text: str
    choices: int
    buttons: tuple[str, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()


class Rig(Protocol):
    """One adapter wired to its provider fake, and the failures that fake can play."""

    channel: Channel
    name: str
    provider: str
    id_prefix: str
    rate_code: str
    unavailable_code: str
    unreachable_code: str

    def provider_calls(self) -> int: ...

    def shown(self) -> Shown: ...

    def rate_limit_next(self, retry_after: str | None) -> None: ...

    def fail_next_with_5xx(self) -> None: ...

    def unreachable(self) -> str: ...


class NetworkRig(Rig, Protocol):
    """An adapter that calls a provider over HTTP: it can be given wrong credentials or a dead host."""

    wrong_credentials_code: str
    offline_code: str | None

    def with_wrong_credentials(self) -> Channel: ...

    def offline(self, port: int) -> Channel: ...


class TwilioRig:
    """SmsChannel through the real twilio SDK against FakeTwilio."""

    name, provider, id_prefix = "sms", "twilio", "SM"
    rate_code, unavailable_code, unreachable_code = "20429", "20500", "21211"
    wrong_credentials_code = "20003"
    offline_code: str | None = None

    def __init__(self, fake: FakeTwilio, url: str) -> None:
        self.fake, self.url = fake, url
        self.channel: Channel = self._build(fake.auth_token, url)

    def _build(self, token: str, url: str) -> SmsChannel:
        return SmsChannel(account_sid=self.fake.account_sid, auth_token=token, from_number=TWILIO_SENDER, api_base=url)

    def provider_calls(self) -> int:
        return len(self.fake.requests)

    def shown(self) -> Shown:
        body = self.fake.requests[-1].form["Body"]
        return Shown(text=body, choices=len(_MENU_LINE.findall(body)))

    def rate_limit_next(self, retry_after: str | None) -> None:
        self.fake.fail_next(1, status=429, code=20429, message="Too Many Requests", retry_after=retry_after)

    def fail_next_with_5xx(self) -> None:
        self.fake.fail_next(1, status=500, code=20500)

    def unreachable(self) -> str:
        return NOT_A_NUMBER

    def with_wrong_credentials(self) -> Channel:
        return self._build("wrong", self.url)

    def offline(self, port: int) -> Channel:
        return self._build(self.fake.auth_token, f"http://127.0.0.1:{port}")


class GraphRig:
    """WhatsAppChannel through the real pywa_async client against FakeGraphAPI."""

    name, provider, id_prefix = "whatsapp", "meta", "wamid."
    rate_code, unavailable_code, unreachable_code = "130429", "1", "invalid_number"
    wrong_credentials_code = "190"
    offline_code: str | None = "transport"

    def __init__(self, fake: FakeGraphAPI, url: str) -> None:
        self.fake, self.url = fake, url
        self.channel: Channel = self._build(fake.token, url)

    def _build(self, token: str, url: str) -> WhatsAppChannel:
        return WhatsAppChannel(phone_number_id=self.fake.phone_number_id, token=token, api_base=url)

    def provider_calls(self) -> int:
        return len(self.fake.requests)

    def shown(self) -> Shown:
        body = self.fake.bodies[-1]
        if body["type"] == "text":
            return Shown(text=body["text"]["body"], choices=0)
        interactive = body["interactive"]
        action = interactive["action"]
        buttons = tuple(b["reply"]["title"] for b in action.get("buttons", []))
        rows = tuple(
            (row["title"], row.get("description", "")) for s in action.get("sections", []) for row in s["rows"]
        )
        return Shown(interactive["body"]["text"], len(buttons) + len(rows), buttons, rows)

    def rate_limit_next(self, retry_after: str | None) -> None:
        self.fake.fail_next(1, status=429, code=130429, retry_after=retry_after)

    def fail_next_with_5xx(self) -> None:
        self.fake.fail_next(1, status=500, code=1, message="An unknown error occurred")

    def unreachable(self) -> str:
        return NOT_A_NUMBER

    def with_wrong_credentials(self) -> Channel:
        return self._build("wrong", self.url)

    def offline(self, port: int) -> Channel:
        return self._build(self.fake.token, f"http://127.0.0.1:{port}")


_MAIL_OPTION = re.compile(r"^\d+\. ", re.MULTILINE)


class SmtpRig:
    """EmailChannel through aiosmtplib against a local aiosmtpd relay that answers like SES."""

    name, provider, id_prefix = "email", "smtp", "0100019a-fake-"
    rate_code, unavailable_code, unreachable_code = "454", "421", "550"
    wrong_credentials_code = "535"
    offline_code: str | None = "connect"

    def __init__(self, smtp: LocalSmtp) -> None:
        self.smtp = smtp
        self.channel: Channel = self._build(PASSWORD, smtp.port)

    def _build(self, password: str, port: int) -> EmailChannel:
        return EmailChannel(
            host="127.0.0.1", port=port, from_address="noreply@rebook.example.test", username=USERNAME, password=password, tls="none"
        )

    def provider_calls(self) -> int:
        return self.smtp.fake.attempts

    def shown(self) -> Shown:
        part = self.smtp.fake.received[-1].message.get_body(("plain",))
        text = str(part.get_content()) if part is not None else ""
        return Shown(text=text, choices=len(_MAIL_OPTION.findall(text)))

    def rate_limit_next(self, retry_after: str | None) -> None:
        later = f" Try again in {retry_after} seconds." if retry_after is not None else ""
        self.smtp.fake.fail_next(f"454 4.7.0 Throttling failure: Maximum sending rate exceeded.{later}")

    def fail_next_with_5xx(self) -> None:
        # SMTP's 5xx are permanent; the relay being unavailable is 421.
        self.smtp.fake.fail_next("421 4.3.2 Service not available")

    def unreachable(self) -> str:
        return NO_SUCH_MAILBOX

    def with_wrong_credentials(self) -> Channel:
        return self._build("wrong", self.smtp.port)

    def offline(self, port: int) -> Channel:
        return self._build(PASSWORD, port)


class TelegramRig:
    """TelegramChannel through the real aiogram Bot against FakeBotApi; the chat id is the passenger's number's digits."""

    name, provider, id_prefix = "telegram", "telegram", PASSENGER.lstrip("+") + ":"
    rate_code, unavailable_code, unreachable_code = "429", "server_error", "chat_not_found"
    wrong_credentials_code = "401"
    offline_code: str | None = "transport"

    def __init__(self, fake: FakeBotApi, url: str) -> None:
        self.fake, self.url = fake, url
        self.channel: Channel = self._build(fake.token, url)

    def _build(self, token: str, url: str) -> TelegramChannel:
        return TelegramChannel(bot_token=token, bot_username=BOT_USERNAME, api_base=url)

    def provider_calls(self) -> int:
        return len(self.fake.calls)

    def shown(self) -> Shown:
        sent = self.fake.sent()[-1]
        keyboard = json.loads(sent.get("reply_markup") or '{"inline_keyboard": []}')["inline_keyboard"]
        buttons = tuple(button["text"] for row in keyboard for button in row)
        return Shown(text=sent["text"], choices=len(buttons), buttons=buttons)

    def rate_limit_next(self, retry_after: str | None) -> None:
        seconds = int(retry_after) if retry_after is not None else None
        self.fake.fail_next(429, f"Too Many Requests: retry after {retry_after or 'a while'}", retry_after=seconds)

    def fail_next_with_5xx(self) -> None:
        self.fake.fail_next(500, "Internal Server Error")

    def unreachable(self) -> str:
        return NOT_A_NUMBER

    def with_wrong_credentials(self) -> Channel:
        return self._build("987654321:AAWrongTokenForTheLocalBotApi_0000", self.url)

    def offline(self, port: int) -> Channel:
        return self._build(self.fake.token, f"http://127.0.0.1:{port}")


class SandboxRig:
    """The sandbox is its own provider: its failures are the ones a test scripts."""

    provider, id_prefix = "sandbox", "SBX"
    rate_code, unavailable_code, unreachable_code = "429", "503", "unreachable"

    def __init__(self, name: str) -> None:
        self.name = name
        self.box = Sandbox()
        # The sandbox's push is fitted as APNs and FCM fit theirs, so it has its own adapter.
        self.channel: Channel = SandboxPush(self.box) if name == "push" else SandboxChannel(name, self.box)
        self.scripted = 0

    def provider_calls(self) -> int:
        """Recorded sends and the scripted failures already raised: each is one call to the provider."""
        pending = sum(len(errors) for errors in self.box.failures.values())
        return len(self.box.messages) + self.scripted - pending

    def _script(self, to: str, error: ChannelError) -> None:
        self.scripted += 1
        self.box.fail_next(self.name, to, error)

    def shown(self) -> Shown:
        last = self.box.messages[-1]
        count = len(_MENU_LINE.findall(last.text)) if self.name == "sms" else len(last.tokens)
        return Shown(text=last.text, choices=count)

    def rate_limit_next(self, retry_after: str | None) -> None:
        seconds = {} if retry_after is None else {"retry_after": float(retry_after)}
        self._script(PASSENGER, RateLimited("scripted", code=self.rate_code, **seconds))

    def fail_next_with_5xx(self) -> None:
        self._script(PASSENGER, ProviderUnavailable("scripted", code=self.unavailable_code))

    def unreachable(self) -> str:
        self._script(NOT_A_NUMBER, RecipientUnreachable("scripted", code=self.unreachable_code))
        return NOT_A_NUMBER


class ApnsRig:
    """ApnsChannel over HTTP/2 and TLS against the APNs fake (a certificate made for the test, trusted by CA file)."""

    name, provider, id_prefix = "push", "apns", ""
    rate_code, unavailable_code, unreachable_code = "TooManyRequests", "InternalServerError", "BadDeviceToken"
    wrong_credentials_code = "InvalidProviderToken"
    offline_code: str | None = "connect"

    def __init__(self, fake: FakeApns, server: LocalApns, key: str) -> None:
        self.fake, self.server, self.key = fake, server, key
        self.channel: Channel = self._build(key, server.url)

    def _build(self, key: str, url: str) -> ApnsChannel:
        return ApnsChannel(key_id=APNS_KEY_ID, team_id=APNS_TEAM_ID, private_key=key, topic=APNS_TOPIC, api_base=url, ca_file=str(self.server.ca_file))

    def provider_calls(self) -> int:
        return len(self.fake.requests)

    def shown(self) -> Shown:
        payload = self.fake.last().payload
        options = json.loads(payload["rebook"].get("options", "[]"))
        return Shown(text=payload["aps"]["alert"]["body"], choices=len(options), buttons=tuple(o["title"] for o in options))

    def rate_limit_next(self, retry_after: str | None) -> None:
        self.fake.fail_next(429, "TooManyRequests", {"retry-after": retry_after} if retry_after is not None else None)

    def fail_next_with_5xx(self) -> None:
        self.fake.fail_next(500, "InternalServerError")

    def unreachable(self) -> str:
        return NOT_A_NUMBER

    def with_wrong_credentials(self) -> Channel:
        return self._build(p8_key()[0], self.server.url)

    def offline(self, port: int) -> Channel:
        return self._build(self.key, f"https://127.0.0.1:{port}")


class FcmRig:
    """FcmChannel through firebase-admin against fakes of FCM's send endpoint and Google's token endpoint."""

    name, provider, id_prefix = "push", "fcm", f"projects/{FCM_PROJECT}/messages/"
    rate_code, unavailable_code, unreachable_code = "QUOTA_EXCEEDED", "UNAVAILABLE", "INVALID_ARGUMENT"
    wrong_credentials_code = "invalid_grant"
    offline_code: str | None = "connect"

    def __init__(self, fake: FakeFcm, url: str, directory: Path) -> None:
        self.fake, self.url, self.directory = fake, url, directory
        self.account = fcm_service_account(directory, fake.key, f"{url}/token")
        self.channel: Channel = FcmChannel(credentials_file=str(self.account), project_id=FCM_PROJECT, api_base=url)

    def provider_calls(self) -> int:
        return self.fake.attempts

    def shown(self) -> Shown:
        message = self.fake.sends[-1].message
        options = json.loads(message["data"].get("options", "[]"))
        body = message["android"]["notification"]["body"]
        return Shown(text=body, choices=len(options), buttons=tuple(o["title"] for o in options))

    def rate_limit_next(self, retry_after: str | None) -> None:
        self.fake.fail_next(429, "QUOTA_EXCEEDED", {"Retry-After": retry_after} if retry_after is not None else None)

    def fail_next_with_5xx(self) -> None:
        self.fake.fail_next(503, "UNAVAILABLE")

    def unreachable(self) -> str:
        return NOT_A_NUMBER

    def with_wrong_credentials(self) -> Channel:
        wrong = fcm_service_account(self.directory, rsa_key(), f"{self.url}/token", name="wrong.json")
        return FcmChannel(credentials_file=str(wrong), project_id=FCM_PROJECT, api_base=self.url)

    def offline(self, port: int) -> Channel:
        return FcmChannel(credentials_file=str(self.account), project_id=FCM_PROJECT, api_base=f"http://127.0.0.1:{port}")


@contextmanager
def twilio_rig() -> Iterator[TwilioRig]:
    fake = FakeTwilio()
    with LocalServer(fake.app) as server:
        yield TwilioRig(fake, server.url)
        fake.release()


@contextmanager
def graph_rig() -> Iterator[GraphRig]:
    fake = FakeGraphAPI()
    with LocalServer(fake.app()) as server:
        yield GraphRig(fake, server.url)


@contextmanager
def smtp_rig() -> Iterator[SmtpRig]:
    with LocalSmtp() as smtp:
        yield SmtpRig(smtp)


@contextmanager
def telegram_rig() -> Iterator[TelegramRig]:
    fake = FakeBotApi()
    with LocalServer(fake.app()) as server:
        yield TelegramRig(fake, server.url)


@contextmanager
def apns_rig() -> Iterator[ApnsRig]:
    key, private = p8_key()
    fake = FakeApns(public_key=private.public_key())
    with LocalApns(fake) as server:
        yield ApnsRig(fake, server, key)


@contextmanager
def fcm_rig() -> Iterator[FcmRig]:
    fake = FakeFcm(rsa_key())
    with LocalServer(fake.app()) as server, tempfile.TemporaryDirectory() as tmp:
        yield FcmRig(fake, server.url, Path(tmp))


@contextmanager
def sandbox_rig(name: str) -> Iterator[SandboxRig]:
    yield SandboxRig(name)


#: The adapters that call a provider over HTTP: a new one adds its rig here.
NETWORK_RIGS: dict[str, Callable[[], AbstractContextManager[NetworkRig]]] = {
    "sms": twilio_rig,
    "whatsapp": graph_rig,
    "email": smtp_rig,
    "telegram": telegram_rig,
    "apns": apns_rig,
    "fcm": fcm_rig,
}
#: Every adapter under contract.
RIGS: dict[str, Callable[[], AbstractContextManager[Rig]]] = {
    **NETWORK_RIGS,
    "sandbox-sms": lambda: sandbox_rig("sms"),
    "sandbox-whatsapp": lambda: sandbox_rig("whatsapp"),
    "sandbox-telegram": lambda: sandbox_rig("telegram"),
    "sandbox-push": lambda: sandbox_rig("push"),
}
