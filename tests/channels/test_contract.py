"""What every Channel adapter must do, run against each one's provider fake (the rigs in tests/channels/rigs.py)."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from channels.registry import CHANNELS
from channels.segments import count_segments
from conversations.ports import (
    Capabilities,
    Channel,
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
from tests.channels.rigs import NETWORK_RIGS, PASSENGER, RIGS, NetworkRig, Rig


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


@pytest.fixture(params=list(RIGS))
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    with RIGS[request.param]() as built:
        yield built
        await built.channel.aclose()


@pytest.fixture(params=list(NETWORK_RIGS))
async def network_rig(request: pytest.FixtureRequest) -> AsyncIterator[NetworkRig]:
    with NETWORK_RIGS[request.param]() as built:
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
