"""What every Channel adapter must do, run against each one's provider fake: a new adapter adds one rig to RIGS."""

from __future__ import annotations

import datetime as dt
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import pytest

from channels.registry import CHANNELS
from channels.sandbox import Sandbox, SandboxChannel
from channels.segments import count_segments
from channels.sms import SmsChannel
from channels.whatsapp import WhatsAppChannel
from conversations.ports import (
    Capabilities,
    Channel,
    ChannelError,
    ChoiceView,
    InvalidCredentials,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
    ReasonClass,
    RecipientUnreachable,
    SendResult,
    TemplateCall,
)
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio

PASSENGER = "+34600111222"
#: A number providers refuse: too short for E.164.
NOT_A_NUMBER = "12345"
TWILIO_SENDER = "+14155550100"
_MENU_LINE = re.compile(r"^\d+\) ", re.MULTILINE)


def message(**overrides: Any) -> OutboundMessage:
    """A message every adapter can send: its window open, its template ready for when it is not."""
    values: dict[str, Any] = {
        "idempotency_key": "contract-0001",
        "to": PASSENGER,
        "locale": "es",
        "body": "Your flight IB3166 to London was cancelled.",
        "choices_prompt": "Choose an option",
        "list_button": "See flights",
        "template": TemplateCall(
            "disruption_notice", "es", ("Iberia", "IB3166", "MAD → LHR", "12 mar"), "offer.show", "Ver"
        ),
        "window_open_until": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    }
    values.update(overrides)
    return OutboundMessage(**values)


def many_long_choices(n: int = 12) -> tuple[ChoiceView, ...]:
    return tuple(
        ChoiceView(
            token=f"opt.7f3a9c.{i}",
            number=i,
            title=f"IB{3160 + i} Madrid → London Heathrow via Barcelona El Prat, departing 18:{i:02d}",
            description=f"Arrives 21:{i:02d}, {i} h later than planned, same cabin, seat held for you " * 3,
        )
        for i in range(1, n + 1)
    )


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
    name, provider, id_prefix = "sms", "twilio", "SM"
    rate_code, unavailable_code, unreachable_code = "20429", "20500", "21211"
    wrong_credentials_code, offline_code = "20003", None

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
    name, provider, id_prefix = "whatsapp", "meta", "wamid."
    rate_code, unavailable_code, unreachable_code = "130429", "1", "invalid_number"
    wrong_credentials_code, offline_code = "190", "transport"

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


class SandboxRig:
    """The sandbox is its own provider: its failures are the ones a test scripts."""

    provider, id_prefix = "sandbox", "SBX"
    rate_code, unavailable_code, unreachable_code = "429", "503", "unreachable"

    def __init__(self, name: str) -> None:
        self.name = name
        self.box = Sandbox()
        self.channel: Channel = SandboxChannel(name, self.box)
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
def sandbox_rig(name: str) -> Iterator[SandboxRig]:
    yield SandboxRig(name)


#: Every adapter under contract: a new channel adds its rig here (and to NETWORKED if it calls a provider).
RIGS: dict[str, Callable[[], Any]] = {
    "sms": twilio_rig,
    "whatsapp": graph_rig,
    "sandbox-sms": lambda: sandbox_rig("sms"),
    "sandbox-whatsapp": lambda: sandbox_rig("whatsapp"),
}
NETWORKED = ("sms", "whatsapp")


@pytest.fixture(params=list(RIGS))
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    with RIGS[request.param]() as built:
        yield built
        await built.channel.aclose()


@pytest.fixture(params=NETWORKED)
async def network_rig(request: pytest.FixtureRequest) -> AsyncIterator[NetworkRig]:
    with RIGS[request.param]() as built:
        yield built
        await built.channel.aclose()


def _provider_limits(caps: Capabilities) -> Capabilities:
    """Limits without the deployment's own: its pacing and its SMS segment budget."""
    return replace(caps, rate_per_second=0.0, max_segments=0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --------------------------------------------------------------------------- the port and its limits


def test_satisfies_the_port_with_its_registered_name_and_provider(rig: Rig) -> None:
    channel = rig.channel
    assert isinstance(channel, Channel)
    assert (channel.name, channel.provider) == (rig.name, rig.provider)


def test_capabilities_are_the_registered_ones_and_consistent(rig: Rig) -> None:
    caps = rig.channel.capabilities
    [entry] = [e for e in CHANNELS if e.name == rig.name]
    assert _provider_limits(caps) == _provider_limits(entry.capabilities)
    assert caps.max_body_chars > 0 and caps.max_choices > 0 and caps.rate_per_second >= 0
    assert caps.max_buttons <= caps.max_choices and caps.max_list_rows <= caps.max_choices
    assert (caps.max_buttons > 0) == (caps.max_button_title > 0)
    assert (caps.max_list_rows > 0) == (caps.max_row_title > 0)
    # A window closes only on a channel that can still reach the passenger with an approved template.
    assert caps.supports_templates == (caps.session_window is not None)


# --------------------------------------------------------------------------- sending


async def test_a_text_send_returns_the_provider_id(rig: Rig) -> None:
    result = await rig.channel.send(message())
    assert isinstance(result, SendResult)
    assert result.provider == rig.provider
    assert result.provider_message_id.startswith(rig.id_prefix)
    assert result.segments >= 1
    assert rig.provider_calls() == 1
    assert rig.shown().text.startswith(message().body)


async def test_choices_are_rendered_within_the_channel_limits(rig: Rig) -> None:
    await rig.channel.send(message(body="Your flight was cancelled. " * 80, choices=many_long_choices()))
    caps, shown = rig.channel.capabilities, rig.shown()
    assert 0 < shown.choices <= caps.max_choices
    assert 0 < len(shown.text) <= caps.max_body_chars
    if caps.max_segments:
        assert count_segments(shown.text) <= caps.max_segments
    assert len(shown.buttons) <= caps.max_buttons
    assert all(0 < len(title) <= caps.max_button_title for title in shown.buttons)
    assert len(shown.rows) <= caps.max_list_rows
    assert all(0 < len(title) <= caps.max_row_title for title, _ in shown.rows)
    assert all(len(description) <= caps.max_row_description for _, description in shown.rows)


@pytest.mark.parametrize(("header", "seconds"), [("7", 7.0), (None, 1.0)])
async def test_a_provider_429_is_rate_limited_with_its_retry_after(
    rig: Rig, header: str | None, seconds: float
) -> None:
    rig.rate_limit_next(header)
    with pytest.raises(RateLimited) as info:
        await rig.channel.send(message())
    assert info.value.retry_after == seconds
    assert info.value.code == rig.rate_code
    assert info.value.reason_class is ReasonClass.TEMPORARY


async def test_a_provider_5xx_is_unavailable_and_the_next_send_goes(rig: Rig) -> None:
    rig.fail_next_with_5xx()
    with pytest.raises(ProviderUnavailable) as info:
        await rig.channel.send(message())
    assert info.value.code == rig.unavailable_code
    assert info.value.reason_class is ReasonClass.TEMPORARY
    result = await rig.channel.send(message())
    assert result.provider_message_id.startswith(rig.id_prefix)
    assert rig.provider_calls() == 2


async def test_an_invalid_recipient_is_unreachable(rig: Rig) -> None:
    with pytest.raises(RecipientUnreachable) as info:
        await rig.channel.send(message(to=rig.unreachable()))
    assert info.value.code == rig.unreachable_code
    assert info.value.reason_class is ReasonClass.PERMANENT


async def test_aclose_after_a_send_is_idempotent(rig: Rig) -> None:
    await rig.channel.send(message())
    await rig.channel.aclose()
    await rig.channel.aclose()


async def test_aclose_before_any_send_is_harmless(rig: Rig) -> None:
    await rig.channel.aclose()
    await rig.channel.aclose()


# --------------------------------------------------------------------------- providers over HTTP


async def test_wrong_credentials_are_invalid_credentials(network_rig: NetworkRig) -> None:
    channel = network_rig.with_wrong_credentials()
    try:
        with pytest.raises(InvalidCredentials) as info:
            await channel.send(message())
    finally:
        await channel.aclose()
    assert info.value.code == network_rig.wrong_credentials_code


async def test_an_unreachable_provider_is_unavailable(network_rig: NetworkRig) -> None:
    channel = network_rig.offline(_free_port())
    try:
        with pytest.raises(ProviderUnavailable) as info:
            await channel.send(message())
    finally:
        await channel.aclose()
    assert info.value.code == network_rig.offline_code
