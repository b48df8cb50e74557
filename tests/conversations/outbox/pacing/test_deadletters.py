"""`rebook dlq list|retry` and the dead-letter queries, on SQLite and PostgreSQL, with the sandbox rig."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from conversations.outbox.deadletters import DeadLetter, list_dead, retry_dead
from conversations.ports import ProviderUnavailable, RecipientUnreachable
from gateway.cli.dlq import format_table
from gateway.cli.main import main as cli
from tests.conversations import conftest as conversations_rig
from tests.conversations.conftest import Pax, Rig

# The conversation tests' sandbox rig (on SQLite and PostgreSQL), reused as this module's fixtures.
clock = conversations_rig.clock
settings_overrides = conversations_rig.settings_overrides
rig = conversations_rig.rig


async def _dead(rig: Rig, *people: Pax, code: str = "20503") -> None:
    """Offers planned, then the provider answers 503 to these passengers until the attempts run out."""
    limit = rig.c.dispatcher.config.max_attempts
    for who in people:
        rig.sandbox.fail_next("sms", who.phone, *[ProviderUnavailable("down", code=code) for _ in range(limit)])
    for _ in range(limit):
        await rig.c.dispatcher.drain()
        rig.clock.advance(seconds=rig.c.dispatcher.config.max_backoff_s + 1)


async def _dlq(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(cli, ["dlq", *args])
    out, err = capsys.readouterr()
    return code, out, err


async def test_dlq_list_and_retry_round_trip(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REBOOK_DATABASE_URL", rig.c.db.url)
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    a = await rig.add_pax(("sms",))
    b = await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    await rig.c.service.offer_batch(ids)
    rig.sandbox.fail_next("sms", b.phone, RecipientUnreachable("landline", code="30006"))
    await _dead(rig, a)

    [row_a], [row_b] = await rig.outbox(a), await rig.outbox(b)
    assert (row_a.status, row_a.attempts, row_a.tried_channels) == ("dead", 5, ["sms"])
    assert row_b.status == "failed", "a permanent failure is not dead-lettered"

    code, out, _ = await _dlq(capsys, "list")
    assert code == 0
    header, line, summary = out.strip().splitlines()
    assert header.split()[:5] == ["id", "conversation", "key", "channels", "attempts"]
    assert line.split()[:5] == [str(row_a.id), str(row_a.conversation_id), row_a.key, "sms", "5"]
    assert "sms:20503" in line
    assert summary == "1 of 1 dead-lettered message(s)"
    for personal in (a.phone, a.phone[1:], "Given0", "Family", a.locator):
        assert personal not in out

    assert (await _dlq(capsys, "retry"))[0] == 2, "neither ids nor --all"
    assert (await _dlq(capsys, "retry", "--all", str(row_a.id)))[0] == 2
    code, _, err = await _dlq(capsys, "retry", str(row_b.id))
    assert code == 1 and str(row_b.id) in err, "a failed row is not in the dead-letter queue"

    code, out, _ = await _dlq(capsys, "retry", str(row_a.id))
    assert code == 0 and out.startswith("1 message(s) back in the outbox")
    [again] = await rig.outbox(a)
    assert (again.status, again.attempts, again.tried_channels) == ("pending", 0, [])
    assert again.idempotency_key == row_a.idempotency_key
    assert again.next_attempt_at == pytest.approx(dt.datetime.now(dt.UTC), abs=dt.timedelta(minutes=1))

    rig.clock.now = max(rig.clock.now, again.next_attempt_at)
    await rig.c.dispatcher.drain()
    [sent] = rig.inbox("sms", a)
    assert sent.idempotency_key == row_a.idempotency_key
    assert (await rig.outbox(a))[0].status == "sent"
    code, out, _ = await _dlq(capsys, "list")
    assert out.strip().splitlines()[-1] == "0 of 0 dead-lettered message(s)"


async def test_retry_all_takes_every_dead_row_and_nothing_else(rig: Rig) -> None:
    a, b, c = [await rig.add_pax(("sms",)) for _ in range(3)]
    ids = await rig.disrupt()
    await rig.c.service.offer_batch(ids)
    rig.sandbox.fail_next("sms", c.phone, RecipientUnreachable("landline", code="30006"))
    await _dead(rig, a, b)

    async with rig.c.db.reading() as s:
        listed = await list_dead(s, now=rig.clock(), limit=1)
    assert [d.id for d in listed] == [(await rig.outbox(a))[0].id], "oldest first, up to the limit"

    async with rig.c.db.transaction() as s:
        assert await retry_dead(s, now=rig.clock(), ids=[]) == []
        retried = await retry_dead(s, now=rig.clock())
    assert retried == sorted([(await rig.outbox(a))[0].id, (await rig.outbox(b))[0].id])
    assert [(await rig.outbox(p))[0].status for p in (a, b, c)] == ["pending", "pending", "failed"]


def test_the_table_names_channels_errors_and_age_only() -> None:
    row = DeadLetter(
        id=7, conversation_id=3, key="offer", channels=("whatsapp", "sms"), attempts=6,
        last_error="channels_exhausted", last_code="sms:20503", age=dt.timedelta(hours=2, minutes=5),
    )
    lines = format_table([row], total=9).splitlines()
    assert lines[1].split() == ["7", "3", "offer", "whatsapp,sms", "6", "channels_exhausted", "sms:20503", "2h05m"]
    assert lines[-1] == "1 of 9 dead-lettered message(s)"
