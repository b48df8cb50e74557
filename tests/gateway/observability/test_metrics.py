"""Metrics a scrape shows after real flows through the engine (sandbox channels, SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from channels.sandbox import PROVIDER
from conversations.intake.ports import DisruptionRequest, FlightKey
from conversations.intake.workflow import record_disruption
from conversations.ports import DeliveryState, ProviderUnavailable, RecipientUnreachable
from rebooking_core.types import DisruptionKind
from tests.conversations.conftest import Rig
from tests.gateway.observability.conftest import scraped, value

SENT = {"channel": "sms", "provider": PROVIDER, "outcome": "sent"}


async def _record(rig: Rig) -> int:
    f = rig.disrupted
    recorded = await record_disruption(
        rig.c.db,
        DisruptionRequest(flights=(FlightKey(f.carrier, f.number, f.service_date),), kind=DisruptionKind.CANCELLED),
        clock=rig.clock,
    )
    return recorded.disruption_id


async def test_time_to_first_option_is_measured_once_per_passenger_from_the_disruption(rig: Rig) -> None:
    a, b = await rig.add_pax(), await rig.add_pax()
    ids = await rig.disrupt()
    rig.clock.advance(seconds=2)
    await rig.c.service.offer_batch(ids)
    await rig.c.dispatcher.drain()

    m = await scraped(rig)
    assert value(m, "rebook_sends_total", **SENT) == 2
    assert value(m, "rebook_time_to_first_option_seconds_count", channel="sms") == 2
    assert value(m, "rebook_time_to_first_option_seconds_sum", channel="sms") == 4.0
    assert value(m, "rebook_time_to_first_option_seconds_bucket", channel="sms", le="1.0") == 0
    assert value(m, "rebook_time_to_first_option_seconds_bucket", channel="sms", le="2.0") == 2

    rig.clock.advance(seconds=30)
    await rig.reply("sms", a, "agent")
    await rig.c.dispatcher.drain()
    m = await scraped(rig)
    assert value(m, "rebook_sends_total", **SENT) == 3, "the escalation notice went out"
    assert value(m, "rebook_time_to_first_option_seconds_count", channel="sms") == 2, "a later message is not a first"
    assert len(rig.inbox("sms", b)) == 1


async def test_failed_hand_overs_are_counted_by_reason_class(rig: Rig) -> None:
    a = await rig.add_pax(("sms", "whatsapp"))
    ids = await rig.disrupt()
    rig.sandbox.fail_next("sms", a.phone, ProviderUnavailable(code="503"))
    await rig.c.service.offer_batch(ids)
    await rig.c.dispatcher.run_once()
    m = await scraped(rig)
    assert value(m, "rebook_sends_total", channel="sms", provider=PROVIDER, outcome="temporary") == 1
    assert value(m, "rebook_sends_total", **SENT) == 0
    assert value(m, "rebook_time_to_first_option_seconds_count", channel="sms") == 0
    assert value(m, "rebook_outbox_messages", status="pending") == 1
    assert value(m, "rebook_outbox_depth") == 1


async def test_a_permanent_failure_falls_back_and_both_attempts_are_counted(rig: Rig) -> None:
    a = await rig.add_pax(("sms", "whatsapp"))
    ids = await rig.disrupt()
    rig.sandbox.fail_next("sms", a.phone, RecipientUnreachable(code="21211"))
    await rig.c.service.offer_batch(ids)
    await rig.c.dispatcher.drain()
    m = await scraped(rig)
    assert value(m, "rebook_sends_total", channel="sms", provider=PROVIDER, outcome="permanent") == 1
    assert value(m, "rebook_sends_total", channel="whatsapp", provider=PROVIDER, outcome="sent") == 1
    assert value(m, "rebook_time_to_first_option_seconds_count", channel="whatsapp") == 1
    assert value(m, "rebook_outbox_depth") == 0


async def test_delivery_latency_comes_from_receipts_and_only_moves_forward(rig: Rig) -> None:
    a = await rig.add_pax()
    await rig.offered(a)
    message = rig.last("sms", a)
    delivered = dataclasses.replace(
        rig.sandbox.receipt(message, DeliveryState.DELIVERED), at=rig.clock() + dt.timedelta(seconds=7)
    )
    await rig.c.inbound.accept([delivered])
    await rig.c.inbound.accept([dataclasses.replace(delivered, event_id="again")])
    sent_late = dataclasses.replace(rig.sandbox.receipt(message, DeliveryState.SENT), event_id="late-sent")
    await rig.c.inbound.accept([sent_late])

    m = await scraped(rig)
    assert value(m, "rebook_delivery_latency_seconds_count", channel="sms", provider=PROVIDER) == 1
    assert value(m, "rebook_delivery_latency_seconds_sum", channel="sms", provider=PROVIDER) == 7.0
    assert value(m, "rebook_receipts_total", channel="sms", provider=PROVIDER, state="delivered") == 1
    assert value(m, "rebook_receipts_total", channel="sms", provider=PROVIDER, state="sent") == 0
    assert value(m, "rebook_deliveries", channel="sms", status="delivered") == 1


async def test_booking_time_escalations_and_the_kpi_ratios(rig: Rig) -> None:
    booker, asker, silent = await rig.add_pax(), await rig.add_pax(pax=2), await rig.add_pax()
    await rig.offered(booker, asker, silent)
    rig.clock.advance(seconds=90)
    await rig.reply("sms", booker, "1")
    await rig.reply("sms", booker, "1")
    await rig.reply("sms", asker, "agent")
    await rig.c.dispatcher.drain()

    m = await scraped(rig)
    assert value(m, "rebook_bookings_total", outcome="booked") == 1
    assert value(m, "rebook_time_to_booking_seconds_count") == 1
    assert value(m, "rebook_time_to_booking_seconds_sum") == 90.0
    [escalation] = await rig.escalations(asker)
    assert value(m, "rebook_escalations_opened_total", tier=escalation.tier, reason="passenger_request") == 1

    def stage(name: str) -> float:
        return sum(v for (metric, labels), v in m.items() if metric == "rebook_kpi_passengers" and ("stage", name) in labels)

    assert stage("impacted") == 4
    assert stage("notified") == 4
    assert stage("accepted") == 1
    assert stage("booked_self_service") == 1
    assert stage("escalated") == 2
    assert value(m, "rebook_self_service_ratio") == 0.25
    assert value(m, "rebook_acceptance_ratio") == 0.25
    assert value(m, "rebook_escalation_ratio", tier=escalation.tier) > 0
    assert value(m, "rebook_conversations", state="booked") == 1


async def test_kpis_only_count_disruptions_inside_the_window(rig: Rig) -> None:
    a = await rig.add_pax()
    await rig.offered(a)
    assert value(await scraped(rig), "rebook_kpi_passengers", tier=(await rig.conversation(a)).tier, stage="impacted") == 1
    rig.clock.advance(hours=25)
    m = await scraped(rig)
    assert not [k for k in m if k[0] == "rebook_kpi_passengers"]
    assert value(m, "rebook_self_service_ratio") != value(m, "rebook_self_service_ratio"), "no data is NaN, not 0"


async def test_jobs_report_latency_and_option_generation_per_booking(rig: Rig) -> None:
    await rig.add_pax()
    await rig.add_pax()
    disruption_id = await _record(rig)
    rig.clock.advance(seconds=3)
    await rig.c.jobs.disruption_recorded(disruption_id)
    await rig.c.jobs.wait_idle()

    m = await scraped(rig)
    assert value(m, "rebook_job_duration_seconds_count", task="rebook.assess", outcome="ok") == 1
    assert value(m, "rebook_job_duration_seconds_count", task="rebook.offer_batch", outcome="ok") == 1
    assert value(m, "rebook_option_generation_seconds_count") == 2
    assert value(m, "rebook_option_generation_seconds_sum") == 6.0
    assert value(m, "rebook_outbox_messages", status="pending") == 2


async def test_a_fanout_counts_its_escalations_once_its_batch_has_committed(rig: Rig) -> None:
    from sqlalchemy import update

    from conversations.intake.fanout import FanOut
    from rebooking_core.models import Inventory

    a, b = await rig.add_pax(), await rig.add_pax(pax=2)
    ids = await rig.disrupt()
    async with rig.c.db.transaction() as s:  # every alternative sold out: nobody can be offered anything
        await s.execute(
            update(Inventory)
            .where(Inventory.flight_id.in_([f.id for f in rig.alternatives]))
            .values(sold=Inventory.capacity, held=0)
        )
    disruption_id = (await rig.conversation(a)).disruption_id
    assert await FanOut(rig.c.service).offer_batch(disruption_id, ids) == 2
    assert await FanOut(rig.c.service).offer_batch(disruption_id, ids) == 0, "a re-run escalates nobody twice"
    [first], [second] = await rig.escalations(a), await rig.escalations(b)
    m = await scraped(rig)
    tiers = {first.tier, second.tier}
    assert sum(value(m, "rebook_escalations_opened_total", tier=t, reason="no_options") for t in tiers) == 2
