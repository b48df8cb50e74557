"""Batch planning of the outbox: a fixed number of statements, per-passenger consent, the same texts as one by one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import event, update

from conversations.models import Conversation, OutboxMessage
from infra.sql import padded
from tests.conversations.conftest import Pax, Rig


@contextmanager
def _statements(rig: Rig) -> Iterator[list[str]]:
    """Every SQL statement the gateway's engine sends while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    target = rig.c.db.engine.sync_engine
    event.listen(target, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", count)


async def _queued(rig: Rig, people: int) -> list[int]:
    """`people` first offers in the outbox, claimed for sending: their outbox ids."""
    for _ in range(people):
        await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    assert await rig.c.service.offer_batch(ids) == people
    return await rig.c.dispatcher._claim(limit=1000)


async def _outbox_id(rig: Rig, who: Pax) -> int:
    rows = await rig.outbox(who)
    return rows[-1].id


async def test_planning_a_batch_takes_as_many_statements_for_30_rows_as_for_3(rig: Rig) -> None:
    ids = await _queued(rig, 34)
    await rig.c.dispatcher._plan_many(ids[:1])  # the disruption's origin is cached per process

    with _statements(rig) as small:
        three = await rig.c.dispatcher._plan_many(ids[1:4])
    with _statements(rig) as large:
        thirty = await rig.c.dispatcher._plan_many(ids[4:34])

    assert (len(three), len(thirty)) == (3, 30)
    assert len(small) == len(large)
    assert len(large) <= 12


async def test_a_round_writes_the_outbox_twice_whatever_it_carries(rig: Rig) -> None:
    """One UPDATE claims (status, lease, attempt) and returns the rows; one records the hand-overs with their channel.

    That is a ring's pass of the worker loop: lanes found idle at the last look are not asked again until rung or polled.
    """
    people = [await rig.add_pax(("sms",)) for _ in range(5)]
    assert await rig.c.dispatcher.run_once() == 0  # every lane looked: nothing to send
    assert await rig.c.service.offer_batch(await rig.disrupt()) == 5

    with _statements(rig) as seen:
        assert len(await rig.c.dispatcher.pump()) == 5
        await rig.c.dispatcher.settle()

    assert len([st for st in seen if st.lstrip().upper().startswith("UPDATE OUTBOX")]) == 2
    rows = [row for who in people for row in await rig.outbox(who)]
    assert {(row.status, row.channel, row.attempts, row.claimed_until) for row in rows} == {("sent", "sms", 1, None)}


async def test_a_batch_plans_each_passenger_by_their_own_consent(rig: Rig) -> None:
    withdrew_sms = await rig.add_pax(("sms", "whatsapp"))
    whatsapp_only = await rig.add_pax(("whatsapp",))
    no_consent = await rig.add_pax(("sms", "whatsapp"), consent={"sms": False, "whatsapp": False})
    sms = await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    assert await rig.c.service.offer_batch(ids) == 4
    await rig.withdraw(withdrew_sms, "sms")
    claimed = await rig.c.dispatcher._claim(limit=100)

    planned = await rig.c.dispatcher._plan_many(claimed)

    channels = {p.outbox_id: (p.channel, p.message.to) for p in planned}
    assert channels == {
        await _outbox_id(rig, withdrew_sms): ("whatsapp", withdrew_sms.phone),
        await _outbox_id(rig, whatsapp_only): ("whatsapp", whatsapp_only.phone),
        await _outbox_id(rig, sms): ("sms", sms.phone),
    }
    [row] = await rig.outbox(no_consent)
    assert (row.status, row.last_error) == ("failed", "no_consented_channel")
    assert (await rig.conversation(no_consent)).escalation_reason == "unreachable"
    for who in (withdrew_sms, whatsapp_only, sms):
        [row] = await rig.outbox(who)
        assert (row.status, row.attempts) == ("sending", 1), "the claim counted the attempt; the channel is written with the hand-over"


async def test_a_batch_renders_exactly_what_each_row_renders_alone(rig: Rig) -> None:
    people = [
        await rig.add_pax(channels)
        for channels in (("sms",), ("whatsapp", "sms"), ("sms",), ("whatsapp",), ("sms",))
    ]
    ids = await rig.disrupt()
    async with rig.c.db.transaction() as s:
        for conv_id, locale in zip(ids, ("de", "es", "fr", "ar", "en"), strict=True):
            await s.execute(
                update(Conversation).where(Conversation.id == conv_id).values(locale=locale)
            )
    assert await rig.c.service.offer_batch(ids) == len(people)
    await _same_alone_as_together(rig, await rig.c.dispatcher._claim(limit=100), kinds={"offer"})
    rig.clock.advance(seconds=rig.c.dispatcher.config.claim_ttl.total_seconds() + 1)  # planned, never sent: reclaimed
    await rig.c.dispatcher.drain()

    await rig.reply("sms", people[0], "2")
    await rig.reply("sms", people[1], "agent")
    await rig.reply("sms", people[2], "which one is faster?")
    await rig.reply("whatsapp", people[3], "1")
    await rig.reply("sms", people[4], "STOP")

    await _same_alone_as_together(
        rig,
        await rig.c.dispatcher._claim(limit=100),
        kinds={"booked", "escalated_agent", "not_understood", "stop_ack"},
    )


async def _same_alone_as_together(rig: Rig, claimed: list[int], *, kinds: set[str]) -> None:
    together = {p.outbox_id: p.message for p in await rig.c.dispatcher._plan_many(claimed)}
    alone = {}
    for outbox_id in claimed:
        for p in await rig.c.dispatcher._plan_many([outbox_id]):
            alone[p.outbox_id] = p.message
    # Each render mints its own page link (a fresh token each time); everything else is the same.
    assert all(m.page_link and PAGE_LINK.fullmatch(m.page_link) for m in [*together.values(), *alone.values()])
    assert {i: replace(m, page_link=None) for i, m in together.items()} == {i: replace(m, page_link=None) for i, m in alone.items()}
    assert len(together) == len(claimed)
    async with rig.c.db.reading() as s:
        assert {(await s.get(OutboxMessage, i)).key for i in claimed} >= kinds  # type: ignore[union-attr]
    assert all(m.body for m in together.values())


PAGE_LINK = re.compile(r"http://127\.0\.0\.1:8000/p/[0-9A-Za-z]{22}")


def test_padded_ids_repeat_the_last_up_to_a_power_of_two() -> None:
    assert padded([]) == []
    assert padded([7]) == [7]
    assert padded([3, 1, 3, 2]) == [1, 2, 3, 3]
    assert len(padded(range(100))) == 128
    assert set(padded(range(100))) == set(range(100))
