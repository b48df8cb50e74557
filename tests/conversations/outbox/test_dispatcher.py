"""The outbox dispatcher on both databases: consent at send time, retry with backoff, fallback."""

from __future__ import annotations

import datetime as dt

from conversations.engine import Status
from conversations.models import OutboxMessage
from conversations.ports import (
    DeliveryState,
    OptedOut,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
)
from tests.conversations.conftest import Pax, Rig


async def _planned(rig: Rig, *people: Pax) -> None:
    """Offers queued in the outbox, not sent yet."""
    ids = await rig.disrupt()
    assert await rig.c.service.offer_batch(ids) == len(people)


async def _only_row(rig: Rig, who: Pax) -> OutboxMessage:
    [row] = await rig.outbox(who)
    return row


async def test_consent_withdrawn_after_planning_falls_back_to_the_next_consented_channel(rig: Rig) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    await _planned(rig, a)
    await rig.withdraw(a, "whatsapp")

    await rig.c.dispatcher.drain()

    assert rig.inbox("whatsapp", a) == []
    [offer] = rig.inbox("sms", a)
    # Three flights, then the refund and another date a cancellation gives (numbered on).
    assert offer.own == ("4", "5")
    assert offer.tokens == ("1", "2", "3", "4", "5")
    row = await _only_row(rig, a)
    assert (row.status, row.channel) == ("sent", "sms")
    assert [(d.channel, d.status) for d in await rig.deliveries(a)] == [("sms", "sent")]


async def test_no_consented_channel_fails_the_row_and_escalates_as_unreachable(rig: Rig) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    await _planned(rig, a)
    await rig.withdraw(a, "whatsapp")
    await rig.withdraw(a, "sms")

    await rig.c.dispatcher.drain()

    assert rig.sandbox.messages == []
    row = await _only_row(rig, a)
    assert (row.status, row.last_error) == ("failed", "no_consented_channel")
    conv = await rig.conversation(a)
    assert (conv.status, conv.escalation_reason, conv.timer_at) == (Status.ESCALATED, "unreachable", None)
    assert [e.reason for e in await rig.escalations(a)] == ["unreachable"]
    assert await rig.c.dispatcher.drain() == 0


async def test_a_passenger_who_never_consented_is_not_messaged(rig: Rig) -> None:
    a = await rig.add_pax(("sms",), consent={"sms": False})
    await _planned(rig, a)

    await rig.c.dispatcher.drain()

    assert rig.sandbox.messages == []
    assert (await rig.conversation(a)).status == Status.ESCALATED


async def test_rate_limited_is_retried_later_on_the_same_channel(rig: Rig) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    await _planned(rig, a)
    rig.sandbox.fail_next("whatsapp", a.phone, RateLimited("slow down", code="130429", retry_after=30))
    t0 = rig.clock()

    await rig.c.dispatcher.drain()

    assert rig.sandbox.messages == []
    row = await _only_row(rig, a)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "RateLimited")
    assert row.next_attempt_at == t0 + dt.timedelta(seconds=30), "never sooner than the provider asked"
    assert [(d.channel, d.status, d.reason_class, d.error_code) for d in await rig.deliveries(a)] == [
        ("whatsapp", "failed", "temporary", "130429")
    ]
    assert await rig.c.dispatcher.run_once() == 0, "not due yet"

    rig.clock.advance(seconds=31)
    assert await rig.c.dispatcher.run_once() == 1

    [template] = rig.inbox("whatsapp", a)
    assert template.kind == "template"
    assert rig.inbox("sms", a) == []
    row = await _only_row(rig, a)
    assert (row.status, row.channel, row.attempts) == ("sent", "whatsapp", 2)


async def test_repeated_temporary_errors_back_off_further_each_time(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await _planned(rig, a)
    rig.sandbox.fail_next("sms", a.phone, ProviderUnavailable("down"), ProviderUnavailable("still down"))
    t0 = rig.clock()

    await rig.c.dispatcher.drain()
    first = (await _only_row(rig, a)).next_attempt_at
    rig.clock.now = first
    await rig.c.dispatcher.drain()
    second = (await _only_row(rig, a)).next_attempt_at

    assert t0 + dt.timedelta(seconds=1) <= first <= t0 + dt.timedelta(seconds=2)
    assert first + dt.timedelta(seconds=2) <= second <= first + dt.timedelta(seconds=4)
    assert rig.sandbox.messages == []

    rig.clock.now = second
    await rig.c.dispatcher.drain()
    assert len(rig.inbox("sms", a)) == 1
    assert (await _only_row(rig, a)).attempts == 3


async def test_temporary_errors_past_the_attempt_limit_move_to_the_next_channel(rig: Rig) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    await _planned(rig, a)
    limit = rig.c.dispatcher.config.max_attempts
    rig.sandbox.fail_next("whatsapp", a.phone, *[RateLimited("slow", retry_after=1) for _ in range(limit)])

    for _ in range(limit):
        await rig.c.dispatcher.drain()
        rig.clock.advance(seconds=rig.c.dispatcher.config.max_backoff_s + 1)

    assert rig.inbox("whatsapp", a) == []
    assert len(rig.inbox("sms", a)) == 1
    row = await _only_row(rig, a)
    assert (row.status, row.channel, row.tried_channels) == ("sent", "sms", ["whatsapp"])


async def test_a_permanent_error_moves_to_the_next_channel_at_once(rig: Rig) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    await _planned(rig, a)
    rig.sandbox.fail_next("whatsapp", a.phone, RecipientUnreachable("not on WhatsApp", code="131026"))

    assert await rig.c.dispatcher.run_once() == 1

    assert rig.inbox("whatsapp", a) == []
    assert len(rig.inbox("sms", a)) == 1
    row = await _only_row(rig, a)
    assert (row.status, row.channel, row.tried_channels, row.attempts) == ("sent", "sms", ["whatsapp"], 2)
    assert [(d.channel, d.status, d.reason_class) for d in await rig.deliveries(a)] == [
        ("whatsapp", "failed", "permanent"),
        ("sms", "sent", None),
    ]
    assert (await rig.conversation(a)).channel == "sms"


async def test_a_provider_opt_out_withdraws_consent_and_falls_back(rig: Rig) -> None:
    a = await rig.add_pax(("sms", "whatsapp"))
    await _planned(rig, a)
    rig.sandbox.fail_next("sms", a.phone, OptedOut("unsubscribed recipient", code="21610"))

    await rig.c.dispatcher.drain()

    assert await rig.consent(a, "sms") == "withdrawn"
    assert await rig.consent(a, "whatsapp") == "granted"
    assert [m.channel for m in rig.sandbox.messages] == ["whatsapp"]


async def test_a_failed_receipt_falls_back_to_the_next_channel(rig: Rig) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    await rig.offered(a)
    [template] = rig.inbox("whatsapp", a)
    failed = rig.sandbox.receipt(template, DeliveryState.FAILED, code="131047")

    await rig.c.inbound.accept([failed])

    row = await _only_row(rig, a)
    assert (row.status, row.tried_channels) == ("pending", ["whatsapp"])
    [delivery] = await rig.deliveries(a)
    assert (delivery.status, delivery.error_code) == ("failed", "131047")

    await rig.c.dispatcher.drain()
    [offer] = rig.inbox("sms", a)
    # Three flights, then the refund and another date a cancellation gives (numbered on).
    assert offer.own == ("4", "5")
    assert offer.tokens == ("1", "2", "3", "4", "5")
    row = await _only_row(rig, a)
    assert (row.status, row.channel) == ("sent", "sms")

    await rig.c.inbound.accept([failed])
    await rig.c.dispatcher.drain()
    assert len(rig.sandbox.messages) == 2, "a retried receipt webhook changes nothing"


async def test_receipts_only_move_a_delivery_forward(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    [offer] = rig.inbox("sms", a)

    await rig.c.inbound.accept([rig.sandbox.receipt(offer, DeliveryState.READ)])
    await rig.c.inbound.accept([rig.sandbox.receipt(offer, DeliveryState.DELIVERED)])

    [delivery] = await rig.deliveries(a)
    assert delivery.status == "read"
    assert (await _only_row(rig, a)).status == "sent"


async def test_a_permanent_error_on_the_last_channel_escalates_as_unreachable(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await _planned(rig, a)
    rig.sandbox.fail_next("sms", a.phone, RecipientUnreachable("landline", code="30006"))

    await rig.c.dispatcher.drain()

    assert rig.sandbox.messages == []
    row = await _only_row(rig, a)
    assert (row.status, row.tried_channels) == ("failed", ["sms"])
    conv = await rig.conversation(a)
    assert conv.status == Status.ESCALATED
    assert [e.reason for e in await rig.escalations(a)] == ["unreachable"]


async def test_a_row_that_cannot_be_planned_is_parked_and_the_rest_of_its_batch_is_sent(rig: Rig) -> None:
    a, b, bad = [await rig.add_pax(("sms",)) for _ in range(3)]
    await _planned(rig, a, b, bad)
    async with rig.c.db.transaction() as s:  # a row no renderer knows: planning the batch fails on it
        row = await s.get(OutboxMessage, (await _only_row(rig, bad)).id)
        assert row is not None
        row.key = "no_such_message"

    assert await rig.c.dispatcher.run_once() == 3

    assert [len(rig.inbox("sms", who)) for who in (a, b, bad)] == [1, 1, 0]
    assert [(await _only_row(rig, who)).status for who in (a, b)] == ["sent", "sent"]
    parked = await _only_row(rig, bad)
    assert (parked.status, parked.attempts, parked.last_error) == ("pending", 1, "ValueError")
