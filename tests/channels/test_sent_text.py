"""Each adapter says what it showed (SendResult.text, kept by the conversation log): the text its provider received, not a re-render."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager

import pytest

from channels.sandbox import Sandbox, SandboxChannel
from conversations.ports import ChoiceView, OutboundMessage, TemplateCall
from tests.channels.rigs import PASSENGER, Rig
from tests.channels.rigs import RIGS as ALL_RIGS

CHOICES = (
    ChoiceView(token="opt:7:71", number=1, title="IB3161 at 18:05", description="arrives 21:05"),
    ChoiceView(token="opt:7:72", number=2, title="IB3163 at 20:40", description="arrives 23:40, via BCN"),
)
#: Every adapter that renders for a passenger (Slack is for agents).
RIGS: dict[str, Callable[[], AbstractContextManager[Rig]]] = {
    name: ALL_RIGS[name] for name in ("sms", "whatsapp", "email", "telegram", "apns", "fcm", "sandbox-sms", "sandbox-whatsapp")
}


def offer(to: str = PASSENGER, **extra: object) -> OutboundMessage:
    values: dict[str, object] = {
        "idempotency_key": "log-0001",
        "to": to,
        "locale": "en",
        "body": "Your flight IB3166 to London was cancelled.",
        "choices": CHOICES,
        "choices_prompt": "Choose an option",
        "list_button": "See flights",
        "window_open_until": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    }
    values.update(extra)
    return OutboundMessage(**values)  # type: ignore[arg-type]


@pytest.fixture(params=list(RIGS))
async def rig(request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    with RIGS[request.param]() as built:
        yield built
        await built.channel.aclose()


async def test_the_result_carries_the_text_the_provider_received(rig: Rig) -> None:
    to = "passenger@example.org" if rig.name == "email" else PASSENGER
    result = await rig.channel.send(offer(to))
    shown = rig.shown()
    assert result.text is not None and shown.text
    if rig.name == "email":  # the subject, then the plain-text part as the relay got it (less SMTP's CRLF line ends)
        assert result.text.endswith(shown.text.replace("\r\n", "\n").rstrip("\n")) and result.text.startswith("Your flight IB3166")
    elif rig.name == "whatsapp" and rig.provider != "sandbox":  # the body, then every button as the phone shows it
        assert result.text.startswith(shown.text)
        assert all(f"[{title}]" in result.text for title in shown.buttons) and shown.buttons
    else:
        assert shown.text in result.text
    assert "IB3161" in result.text and "IB3163" in result.text


async def test_a_whatsapp_template_is_logged_by_name_and_parameters() -> None:
    box = Sandbox()
    channel = SandboxChannel("whatsapp", box)
    closed = offer(
        window_open_until=None, template=TemplateCall("disruption_notice", "en", ("Rebook Air", "RB100"), "offer.show", "See")
    )
    result = await channel.send(closed)
    assert result.text == "[template disruption_notice (en)]\nRebook Air\nRB100"
    assert box.messages[-1].kind == "template"


async def test_the_sandbox_keeps_only_its_newest_messages_and_forgets_the_keys_it_dropped() -> None:
    box = Sandbox(limit=3)
    channel = SandboxChannel("sms", box)
    for n in range(5):
        await channel.send(offer(idempotency_key=f"log-{n}"))
    assert [m.idempotency_key for m in box.messages] == ["log-2", "log-3", "log-4"]
    again = await channel.send(offer(idempotency_key="log-4"))
    assert again.provider_message_id == box.messages[-1].provider_message_id and len(box.messages) == 3, "a kept key is still deduplicated"
    await channel.send(offer(idempotency_key="log-0"))
    assert [m.idempotency_key for m in box.messages] == ["log-3", "log-4", "log-0"], "a dropped key is a new message"
    with pytest.raises(ValueError, match="at least one"):
        Sandbox(limit=0)


def test_the_buffer_setting_sizes_the_sandbox_a_container_builds(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gateway.container import build
    from gateway.settings import Settings

    settings = Settings(_env_file=None, sandbox=True, sandbox_buffer=7, database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")  # type: ignore[call-arg]
    assert Settings(_env_file=None, sandbox=True).sandbox_buffer == 10_000  # type: ignore[call-arg]
    c = build(settings)
    assert c.sandbox is not None and c.sandbox.limit == 7
