"""Sandbox ids are unique across processes, as a provider's are: two gateways' replies are never one webhook."""

from __future__ import annotations

from channels.sandbox import Sandbox


def test_two_sandboxes_never_hand_out_the_same_ids() -> None:
    a, b = Sandbox(), Sandbox()
    ids_a = {a.reply("sms", "+447700900001", "1").event_id for _ in range(3)} | {a.next_id("sms") for _ in range(3)}
    ids_b = {b.reply("sms", "+447700900001", "1").event_id for _ in range(3)} | {b.next_id("sms") for _ in range(3)}
    assert len(ids_a) == 6 and len(ids_b) == 6
    assert not ids_a & ids_b
