"""The Pacer maps a send to its buckets (sender, recipient), charges SMS segments and honours 429s."""

from __future__ import annotations

import pytest

from conversations.outbox.pacing import LocalBuckets, Pacer
from conversations.outbox.ports import ChannelPace, Limit
from tests.conversations.outbox.pacing.conftest import FrozenClock

PHONE = "+447700900123"
OTHER = "+447700900456"


def pacer(frozen: FrozenClock, paces: dict[str, ChannelPace | float], *, jitter_s: float = 0.0) -> Pacer:
    """Sleeping moves the frozen clock, so waits are exact and cost no time; no margin for jitter unless asked."""

    async def sleep(seconds: float) -> None:
        frozen.advance(seconds)

    return Pacer(paces, LocalBuckets(clock=frozen), sleep=sleep, jitter_s=jitter_s)


async def _times(p: Pacer, frozen: FrozenClock, sends: list[tuple[str, str]]) -> list[float]:
    start = frozen()
    out = []
    for channel, recipient in sends:
        await p.acquire(channel, recipient)
        out.append(frozen() - start)
    return out


async def test_sends_past_the_burst_go_out_at_the_rate(frozen: FrozenClock) -> None:
    p = pacer(frozen, {"whatsapp": ChannelPace(sender_id="1099", per_sender=Limit(rate=4, burst=2))})
    times = await _times(p, frozen, [("whatsapp", PHONE)] * 10)
    assert times[:2] == [0.0, 0.0]
    for i, t in enumerate(times):
        # k sends by time t never exceed burst + rate*t; jitter only ever waits a little longer.
        assert i + 1 <= 2 + 4 * t + 1e-9
        assert t <= max(0.0, (i - 1) / 4) * 1.1 + 1e-9


async def test_a_channel_without_a_pace_is_not_paced(frozen: FrozenClock) -> None:
    p = pacer(frozen, {"sms": 1.0, "whatsapp": 0.0})
    assert await _times(p, frozen, [("whatsapp", PHONE)] * 5 + [("push", PHONE)] * 5) == [0.0] * 10
    assert set(p.paces) == {"sms"}, "a bare number is a per-channel rate; 0 means not paced"


async def test_each_sender_has_its_own_bucket(frozen: FrozenClock) -> None:
    one = pacer(frozen, {"sms": ChannelPace(sender_id="+15550001", per_sender=Limit(1, 1))})
    two = Pacer({"sms": ChannelPace(sender_id="+15550002", per_sender=Limit(1, 1))}, one.store)
    await one.acquire("sms", PHONE)
    assert await one.store.take("sms:+15550001", Limit(1, 1)) > 0
    await two.acquire("sms", PHONE)
    assert frozen() == 1_000_000.0, "another sender number did not wait"


async def test_per_chat_and_global_buckets_both_hold(frozen: FrozenClock) -> None:
    telegram = ChannelPace(sender_id="bot", per_sender=Limit(30, 30), per_recipient=Limit(1, 1))
    p = pacer(frozen, {"telegram": telegram})
    times = await _times(p, frozen, [("telegram", PHONE), ("telegram", OTHER), ("telegram", PHONE)])
    assert times[:2] == [0.0, 0.0], "different chats do not wait for each other"
    assert 1.0 <= times[2] <= 1.1, "the same chat waits a second"
    assert all(PHONE not in name and OTHER not in name for name in (turn.bucket for turn in p.buckets("telegram", PHONE)))


async def test_sms_segments_beyond_the_first_are_charged_after_the_send(frozen: FrozenClock) -> None:
    sms = ChannelPace(sender_id="+15550001", per_sender=Limit(rate=1, burst=4), count_segments=True)
    p = pacer(frozen, {"sms": sms, "whatsapp": ChannelPace(per_sender=Limit(rate=1, burst=4))})
    await p.acquire("sms", PHONE)
    await p.settle("sms", PHONE, 3)
    await p.acquire("sms", PHONE)
    assert frozen() == 1_000_000.0, "4 - 3 segments left one token"
    await p.acquire("sms", PHONE)
    assert frozen() >= 1_000_001.0, "then it waited for the next segment's token"

    await p.acquire("whatsapp", PHONE)
    await p.settle("whatsapp", PHONE, 3)
    before = frozen()
    for _ in range(3):
        await p.acquire("whatsapp", PHONE)
    assert frozen() == before, "a WhatsApp message is one token, whatever `segments` says"


async def test_a_long_sms_owes_its_other_segments_the_moment_it_goes(frozen: FrozenClock) -> None:
    sms = ChannelPace(sender_id="+15550001", per_sender=Limit(rate=1, burst=4), count_segments=True)
    p = pacer(frozen, {"sms": sms, "whatsapp": ChannelPace(per_sender=Limit(rate=1, burst=1))})
    start = frozen()
    await p.acquire("sms", PHONE, cost=3)
    await p.acquire("sms", PHONE, cost=3)
    assert frozen() == start, "a token was there each time: 4 -> 1 -> -2, as the provider counts them"
    await p.settle("sms", PHONE, 3, paid=3)
    await p.acquire("sms", PHONE)
    assert 3.0 <= frozen() - start <= 3.3, "the debt was paid before the next turn, and nothing twice"
    await p.acquire("whatsapp", PHONE, cost=3)
    await p.acquire("whatsapp", PHONE)
    assert 4.0 <= frozen() - start <= 4.4, "a WhatsApp message is one token, whatever it costs an SMS"


async def test_waves_leave_the_reserve_and_answers_take_it_at_once(frozen: FrozenClock) -> None:
    sms = ChannelPace(sender_id="+15550001", per_sender=Limit(rate=1, burst=4), count_segments=True, reserve=3)
    p = pacer(frozen, {"sms": sms})
    start = frozen()
    await p.acquire("sms", PHONE)
    await p.acquire("sms", PHONE)
    assert frozen() - start >= 1.0, "the second wave message waited: 3 tokens are kept for answers"
    at = frozen()
    for _ in range(3):
        await p.acquire("sms", OTHER, answer=True)
    assert frozen() == at, "three answers went at once, from the reserve"
    assert await p.room("sms", "", 5, horizon=0.0, in_flight=0) == (0, pytest.approx(4.0, abs=0.2))
    assert (await p.room("sms", "", 5, horizon=0.0, in_flight=0, answer=True))[0] == 0


async def test_turns_keep_a_margin_for_jitter_but_never_above_the_burst(frozen: FrozenClock) -> None:
    sms = ChannelPace(sender_id="+15550001", per_sender=Limit(rate=1, burst=4), count_segments=True, reserve=3)
    p = pacer(frozen, {"sms": sms}, jitter_s=0.05)
    start = frozen()
    await p.acquire("sms", PHONE)
    assert frozen() == start, "a full bucket gives a wave its turn: the margin never asks for more than the burst"
    for _ in range(3):
        await p.acquire("sms", OTHER, answer=True)
    await p.acquire("sms", OTHER, answer=True)
    assert 1.05 <= frozen() - start <= 1.05 * 1.1 + 1e-9, "an answer waits for one token and 50 ms of them to spare"


def test_a_reserve_must_leave_a_token_for_everything_else() -> None:
    with pytest.raises(ValueError, match="burst"):
        ChannelPace(per_sender=Limit(rate=1, burst=3), reserve=3)


async def test_a_429_blocks_the_senders_bucket_for_retry_after(frozen: FrozenClock) -> None:
    p = pacer(frozen, {"sms": ChannelPace(sender_id="+15550001", per_sender=Limit(rate=10, burst=10))})
    await p.slow_down("sms", PHONE, 3.0, "20429")
    await p.acquire("sms", OTHER)
    waited = frozen() - 1_000_000.0
    assert 3.1 - 1e-9 <= waited <= 3.1 * 1.1, "the block, then one token from an empty bucket"


async def test_a_per_recipient_limit_code_does_not_stall_the_whole_sender(frozen: FrozenClock) -> None:
    wa = ChannelPace(sender_id="1099", per_sender=Limit(80, 80), recipient_codes=frozenset({"131056"}))
    p = pacer(frozen, {"whatsapp": wa})
    await p.slow_down("whatsapp", PHONE, 6.0, "131056")
    await p.acquire("whatsapp", OTHER)
    await p.acquire("whatsapp", PHONE)
    assert frozen() == 1_000_000.0

    chat = ChannelPace(sender_id="bot", per_sender=Limit(30, 30), per_recipient=Limit(1, 1), recipient_codes=frozenset({"pair"}))
    p = pacer(frozen, {"telegram": chat})
    await p.slow_down("telegram", PHONE, 6.0, "pair")
    await p.acquire("telegram", OTHER)
    assert frozen() == 1_000_000.0
    await p.acquire("telegram", PHONE)
    assert frozen() - 1_000_000.0 >= 6.0, "only that recipient's bucket was blocked"


async def test_nothing_to_block_without_a_pace_or_a_wait(frozen: FrozenClock) -> None:
    p = pacer(frozen, {"sms": ChannelPace(per_sender=Limit(1, 1))})
    await p.slow_down("whatsapp", PHONE, 5.0)
    await p.slow_down("sms", PHONE, 0.0)
    await p.acquire("sms", PHONE)
    assert frozen() == 1_000_000.0
