"""Prometheus metrics for the gateway and every worker, and the engine's Telemetry port behind them."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.app.fallback import NOT_ACTED_ON
from conversations.models import Conversation, Delivery, OutboxMessage
from conversations.outbox.telemetry import Origins, since
from gateway.observability.tracing import Tracing
from infra.db import Database
from rebooking_core import claims
from rebooking_core.care import vouchers as care_vouchers
from rebooking_core.models import Disruption

log = logging.getLogger(__name__)

__all__ = ["CONTENT_TYPE_LATEST", "JobTelemetry", "Metrics", "StreamQueue"]

#: Seconds: sub-second fan-out up to the half hour a large disruption may take behind provider limits.
LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300, 600, 1800)
#: Seconds: a passenger may take hours to answer.
BOOKING_BUCKETS = (30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 43200, 86400)
JOB_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
#: KPI stages, each a count of passengers of the disruptions recorded within the KPI window.
STAGES = ("impacted", "notified", "accepted", "booked_self_service", "escalated")
_OUTBOX_STATES = ("pending", "sending", "dead")


class StreamQueue:
    """Where to read the job backlog: the Redis stream and consumer group the workers read."""

    def __init__(self, redis_url: str, stream: str, group: str) -> None:
        self.redis_url = redis_url
        self.stream = stream
        self.group = group

    async def depth(self) -> tuple[int, int]:
        """(entries no worker has read yet, entries read but not acknowledged)."""
        from redis.asyncio import Redis
        from redis.exceptions import ResponseError

        client = Redis.from_url(self.redis_url, socket_connect_timeout=2)
        try:
            groups = await client.xinfo_groups(self.stream)
        except ResponseError:
            return 0, 0
        finally:
            await client.aclose()
        for group in groups:
            name = group.get("name")
            if (name.decode() if isinstance(name, bytes) else name) == self.group:
                return int(group.get("lag") or 0), int(group.get("pending") or 0)
        return 0, 0


class Metrics:
    """One registry per container, so several apps in one process (tests) never collide on names."""

    def __init__(self, tracing: Tracing | None = None, *, kpi_window: dt.timedelta = dt.timedelta(hours=24)) -> None:
        self.tracing = tracing
        self.kpi_window = kpi_window
        self.origins = Origins()
        r = self.registry = CollectorRegistry()
        self.http = Counter("rebook_http_responses_total", "HTTP responses", ["route", "status"], registry=r)
        self.webhook_rejected = Counter(
            "rebook_webhook_rejections_total", "Webhooks refused (bad signature or malformed)", ["provider", "status"], registry=r
        )
        self.outbox = Gauge("rebook_outbox_depth", "Outbox messages waiting to be sent (pending or sending)", registry=r)
        self.outbox_messages = Gauge("rebook_outbox_messages", "Outbox messages not yet sent, by status", ["status"], registry=r)
        self.jobs_waiting = Gauge("rebook_jobs_waiting", "Jobs in the Redis stream no worker has read yet", registry=r)
        self.jobs_unacked = Gauge("rebook_jobs_unacknowledged", "Jobs read by a worker and not acknowledged yet", registry=r)
        self.conversations = Gauge("rebook_conversations", "Conversations by state", ["state"], registry=r)
        self.deliveries = Gauge("rebook_deliveries", "Deliveries by channel and status", ["channel", "status"], registry=r)
        self.open_ratio = Gauge(
            "rebook_open_ratio", "Messages read (a read receipt; for push the app's open or tap) / handed over, by channel", ["channel"], registry=r
        )
        self.job_seconds = Histogram(
            "rebook_job_duration_seconds", "Job run time, by task and outcome", ["task", "outcome"], buckets=JOB_BUCKETS, registry=r
        )
        self.sends = Counter(
            "rebook_sends_total", "Hand-overs to a provider, by outcome (sent or the failure class)", ["channel", "provider", "outcome"], registry=r
        )
        self.receipts = Counter("rebook_receipts_total", "Delivery receipts applied, by state", ["channel", "provider", "state"], registry=r)
        self.delivery_seconds = Histogram(
            "rebook_delivery_latency_seconds", "Hand-over to delivered receipt", ["channel", "provider"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.option_seconds = Histogram(
            "rebook_option_generation_seconds", "Disruption recorded to options held, per passenger booking", buckets=LATENCY_BUCKETS, registry=r
        )
        self.first_option_seconds = Histogram(
            "rebook_time_to_first_option_seconds",
            "Disruption recorded to the passenger's first message handed to a provider",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.booking_seconds = Histogram(
            "rebook_time_to_booking_seconds", "Disruption recorded to the passenger's confirmed booking", buckets=BOOKING_BUCKETS, registry=r
        )
        self.bookings = Counter("rebook_bookings_total", "Booking attempts, by outcome", ["outcome"], registry=r)
        self.pnr_changes = Counter(
            "rebook_pnr_changes_total", "Two-phase booking: PSS answers to PNR changes (confirmed, pending, refused, escalated, no_answer)", ["outcome"], registry=r
        )
        self.event_deliveries = Counter(
            "rebook_event_deliveries_total", "Outbound webhook attempts: delivered, retry, dead", ["outcome"], registry=r
        )
        self.escalations = Counter("rebook_escalations_opened_total", "Conversations handed to a human (this process)", ["tier", "reason"], registry=r)
        self.unknown_senders = Counter(
            "rebook_inbound_unknown_senders_total", "Inbound messages from no known passenger, by identifier (phone, bsuid)", ["channel", "provider", "by"], registry=r
        )
        self.kpi_passengers = Gauge(
            "rebook_kpi_passengers", "Passengers of disruptions recorded within the KPI window, by tier and stage", ["tier", "stage"], registry=r
        )
        self.self_service = Gauge("rebook_self_service_ratio", "Booked without an agent / impacted (KPI window)", registry=r)
        self.escalation_ratio = Gauge("rebook_escalation_ratio", "Escalated / impacted by tier (KPI window)", ["tier"], registry=r)
        self.acceptance = Gauge("rebook_acceptance_ratio", "Chose an option / notified (KPI window)", registry=r)
        self.claims = Gauge(
            "rebook_claims", "Compensation claims of disruptions recorded within the KPI window", ["disruption", "regime", "status"], registry=r
        )
        self.claims_amount = Gauge(
            "rebook_claims_amount",
            "Sum of those claims' amounts, in the regime's currency",
            ["disruption", "regime", "currency", "status"],
            registry=r,
        )
        self.care_at_desk = Gauge(
            "rebook_care_hotels_at_desk",
            "Valid hotel vouchers that found no contracted room: passengers the airline's desk must house, by airport",
            ["airport"],
            registry=r,
        )
        self.worker_loop_age = Gauge(
            "rebook_worker_loop_age_seconds", "Seconds since this worker's dispatcher last finished a pass (grows when it is stuck)", registry=r
        )

    def names(self) -> set[str]:
        """Every series name this registry exposes, with the suffixes PromQL sees (_total, _bucket…)."""
        suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}
        return {f.name + sfx for f in self.registry.collect() for sfx in suffixes.get(f.type, ("",))}

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # ---- the Telemetry port ----

    def span(self, name: str, *, parent: str | None = None, **attributes: str | int) -> AbstractContextManager[None]:
        if self.tracing is None:
            return contextlib.nullcontext()
        return self.tracing.span(name, parent=parent, **attributes)

    def sent(self, *, channel: str, provider: str, outcome: str) -> None:
        self.sends.labels(channel, provider, outcome).inc()

    def first_handover(self, *, channel: str, seconds: float) -> None:
        self.first_option_seconds.labels(channel).observe(seconds)

    def receipt(self, *, channel: str, provider: str, state: str, seconds: float) -> None:
        self.receipts.labels(channel, provider, state).inc()
        if state == "delivered":
            self.delivery_seconds.labels(channel, provider).observe(seconds)

    def booking(self, *, outcome: str, seconds: float | None) -> None:
        self.bookings.labels(outcome).inc()
        if seconds is not None:
            self.booking_seconds.observe(seconds)

    def escalated(self, *, tier: int, reason: str, count: int = 1) -> None:
        self.escalations.labels(str(tier), reason).inc(count)

    def unknown_sender(self, *, channel: str, provider: str, by: str) -> None:
        self.unknown_senders.labels(channel, provider, by).inc()

    # ---- jobs ----

    @contextlib.contextmanager
    def job(self, task: str, labels: Mapping[str, Any], **attributes: str | int) -> Iterator[None]:
        """Time a job and trace it as a child of the span that kicked it."""
        started = time.perf_counter()
        outcome = "error"
        span = self.tracing.continued(task, labels, **attributes) if self.tracing else contextlib.nullcontext()
        try:
            with span:
                yield
            outcome = "ok"
        finally:
            self.job_seconds.labels(task, outcome).observe(time.perf_counter() - started)

    def job_labels(self) -> dict[str, str]:
        return self.tracing.labels() if self.tracing else {}

    async def options_held(self, db: Database, disruption_id: int, count: int, *, now: dt.datetime) -> None:
        """A batch held options for `count` bookings: each waited since the disruption was recorded."""
        if count <= 0:
            return
        async with db.reading() as s:
            seconds = since(await self.origins.get(s, disruption_id), now)
        if seconds is None:
            return
        for _ in range(count):
            self.option_seconds.observe(seconds)

    # ---- computed from the database at scrape time ----

    async def refresh(self, db: Database, *, now: dt.datetime, queue: StreamQueue | None = None) -> None:
        """Exact gauges from the system of record; each process reports the same values (use max())."""
        async with db.reading() as s:
            await self._queues(s)
            await self._kpis(s, now - self.kpi_window)
            await self._claims(s, now - self.kpi_window)
            await self._care(s, now)
        if queue is not None:
            try:
                waiting, unacked = await queue.depth()
            except Exception as exc:  # a scrape reports what it can; Redis health is /readyz's job
                log.warning("job queue depth unavailable: %s", type(exc).__name__)
            else:
                self.jobs_waiting.set(waiting)
                self.jobs_unacked.set(unacked)

    async def _queues(self, s: AsyncSession) -> None:
        rows = dict(
            (
                await s.execute(
                    select(OutboxMessage.status, func.count()).where(OutboxMessage.status.in_(_OUTBOX_STATES)).group_by(OutboxMessage.status)
                )
            ).all()
        )
        for state in _OUTBOX_STATES:
            self.outbox_messages.labels(state).set(int(rows.get(state, 0)))
        self.outbox.set(int(rows.get("pending", 0)) + int(rows.get("sending", 0)))
        self.conversations.clear()
        for state, n in (await s.execute(select(Conversation.status, func.count()).group_by(Conversation.status))).all():
            self.conversations.labels(state).set(n)
        self.deliveries.clear()
        self.open_ratio.clear()
        handed: dict[str, int] = {}
        read: dict[str, int] = {}
        for channel, st, code, n in (
            await s.execute(
                select(Delivery.channel, Delivery.status, Delivery.error_code, func.count()).group_by(
                    Delivery.channel, Delivery.status, Delivery.error_code
                )
            )
        ).all():
            self.deliveries.labels(channel, st).inc(n)
            # A push that fell back unopened was handed over too: it counts against the open rate.
            if st in ("sent", "delivered", "read") or code == NOT_ACTED_ON:
                handed[channel] = handed.get(channel, 0) + n
            if st == "read":
                read[channel] = read.get(channel, 0) + n
        for channel, n in handed.items():
            self.open_ratio.labels(channel).set(read.get(channel, 0) / n)

    async def _kpis(self, s: AsyncSession, cutoff: dt.datetime) -> None:
        pax = Conversation.passengers

        def when(condition: Any) -> Any:
            return func.coalesce(func.sum(case((condition, pax), else_=0)), 0)

        escalated = Conversation.escalation_reason.is_not(None)
        rows = (
            await s.execute(
                select(
                    Conversation.tier,
                    func.coalesce(func.sum(pax), 0),
                    when(Conversation.first_sent_at.is_not(None)),
                    when(Conversation.chosen_at.is_not(None)),
                    # Self-service: booked, or the passenger's own refund or keep (conversations/choices.py), without an agent.
                    when(
                        (Conversation.booked_option_id.is_not(None) | Conversation.choice.is_not(None))
                        & Conversation.escalation_reason.is_(None)
                    ),
                    when(escalated),
                )
                .join(Disruption, Disruption.id == Conversation.disruption_id)
                .where(Disruption.created_at >= cutoff)
                .group_by(Conversation.tier)
            )
        ).all()
        self.kpi_passengers.clear()
        self.escalation_ratio.clear()
        totals = dict.fromkeys(STAGES, 0)
        for tier, *counts in rows:
            for stage, n in zip(STAGES, counts, strict=True):
                self.kpi_passengers.labels(str(tier), stage).set(int(n))
                totals[stage] += int(n)
            impacted = int(counts[0])
            if impacted:
                self.escalation_ratio.labels(str(tier)).set(int(counts[4]) / impacted)
        nan = float("nan")
        impacted, notified = totals["impacted"], totals["notified"]
        self.self_service.set(totals["booked_self_service"] / impacted if impacted else nan)
        self.acceptance.set(totals["accepted"] / notified if notified else nan)


    async def _claims(self, s: AsyncSession, cutoff: dt.datetime) -> None:
        """Totals per disruption and regime (one series per disruption of the window: bounded like the KPIs)."""
        self.claims.clear()
        self.claims_amount.clear()
        counts: dict[tuple[str, str, str], int] = {}
        for t in await claims.totals(s, since=cutoff):
            key = (str(t.disruption_id), t.regime, t.status)
            counts[key] = counts.get(key, 0) + t.claims
            self.claims_amount.labels(str(t.disruption_id), t.regime, t.currency, t.status).set(t.amount)
        for (disruption, regime, state), n in counts.items():
            self.claims.labels(disruption, regime, state).set(n)

    async def _care(self, s: AsyncSession, now: dt.datetime) -> None:
        """Hotel vouchers left to the desk (docs/care.md): how the desk is told that rooms ran out."""
        self.care_at_desk.clear()
        for airport, n in (await care_vouchers.at_desk(s, now=now)).items():
            self.care_at_desk.labels(airport).set(n)


class JobTelemetry:
    """The job engine's observer: job latency and spans, and option-generation time per finished batch."""

    def __init__(self, metrics: Metrics, db: Database, clock: Callable[[], dt.datetime]) -> None:
        self.metrics = metrics
        self.db = db
        self.clock = clock

    def job(self, task: str, labels: Mapping[str, Any], **attributes: str | int) -> AbstractContextManager[None]:
        return self.metrics.job(task, labels, **attributes)

    def job_labels(self) -> dict[str, str]:
        return self.metrics.job_labels()

    async def options_held(self, disruption_id: int, count: int) -> None:
        await self.metrics.options_held(self.db, disruption_id, count, now=self.clock())
