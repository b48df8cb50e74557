"""Sandbox ids are unique across processes, as a provider's are: two gateways' replies are never one webhook."""

from __future__ import annotations

from channels.sandbox import Sandbox


def test_two_sandboxes_never_hand_out_the_same_ids() -> None:
    a, b = Sandbox(), Sandbox()
    ids_a = {a.reply("sms", "+447700900001", "1").event_id for _ in range(3)} | {a.next_id("sms") for _ in range(3)}
    ids_b = {b.reply("sms", "+447700900001", "1").event_id for _ in range(3)} | {b.next_id("sms") for _ in range(3)}
    assert len(ids_a) == 6 and len(ids_b) == 6
    assert not ids_a & ids_b


async def test_the_sandboxed_email_channel_records_the_mail_text_for_an_address() -> None:
    """Not a phone number: the sandbox's e-mail stand-in renders what the mail's text part shows."""
    from channels.sandbox import Sandbox, SandboxChannel
    from conversations.ports import ChoiceView, OutboundMessage

    box = Sandbox()
    channel = SandboxChannel("email", box)
    choice = ChoiceView(token="opt:1:2", number=1, title="RB102 13:00", description="")
    message = OutboundMessage(idempotency_key="c1-v0-1", to="ana@example.test", locale="en", body="Your flight is cancelled.", choices=(choice,), page_link="https://rebook.example/p/abc")
    await channel.send(message)
    [sent] = box.messages
    assert sent.kind == "email" and sent.to == "ana@example.test"
    assert "Your flight is cancelled." in sent.text and sent.tokens == ("opt:1:2",)
    assert channel.capabilities.max_buttons == 0
