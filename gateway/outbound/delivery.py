"""The worker's side of outbound webhooks: route new events to subscriptions, then deliver what is due, signed.

Routing turns each new `outbound_events` row into one pending delivery per subscription that wants
its type (and existed when it happened); one worker routes at a time (an advisory lock on
PostgreSQL, the write lock on SQLite), so deliveries are created in event order. Delivery claims
due rows under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and posts them with httpx:

- a 2xx delivers; anything else (3xx included: redirects are not followed), a timeout or a refused
  connection fails the attempt, retried on `RetryPolicy`'s schedule (never sooner than a
  `Retry-After`) until it is spent, then the delivery is `dead` (replay brings it back);
- per subscription and ordering key (a conversation, a disruption, a passenger) a delivery waits while
  an earlier one is pending: one conversation's events arrive in order, others pass;
- the circuit: `failures` failed attempts in a row spanning `period` disable the endpoint, and a 410
  Gone disables it at once; a disabled endpoint gets nothing (its deliveries wait, none is lost) until
  it is enabled again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from gateway.outbound import payloads, signing
from gateway.outbound.models import WebhookDelivery, WebhookSubscription
from gateway.outbound.retries import RetryPolicy, retry_after_seconds
from infra.db import Database
from infra.event_log import EVENTS

log = logging.getLogger(__name__)

#: PostgreSQL advisory lock of "one routing pass at a time" ("rbHOOK").
ROUTE_LOCK = 0x7262_484F_4F4B
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


@dataclass(frozen=True)
class DeliveryConfig:
    policy: RetryPolicy = RetryPolicy()
    timeout_s: float = 15.0
    connect_timeout_s: float = 5.0
    concurrency: int = 16
    batch: int = 200
    lease: dt.timedelta = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class _Due:
    """A claimed delivery with what sending it needs."""

    id: int
    subscription_id: int
    attempts: int
    url: str
    secret: str
    msg_id: str
    body: bytes


@dataclass(frozen=True)
class _Result:
    due: _Due
    status: int | None
    error: str | None
    retry_after: float | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Deliverer:
    """Routes and delivers; `run_once` is one pass of each (the worker calls it every `poll_s`)."""

    def __init__(
        self,
        db: Database,
        *,
        config: DeliveryConfig | None = None,
        clock: Callable[[], dt.datetime],
        wall: Callable[[], float] = time.time,
        on_outcome: Callable[[str], None] | None = None,
    ) -> None:
        self.db = db
        self.config = config or DeliveryConfig()
        self.clock = clock
        self.wall = wall
        self.on_outcome = on_outcome or (lambda outcome: None)
        self._client: httpx.AsyncClient | None = None

    async def run_once(self) -> int:
        """Route what is new, then deliver what is due; the deliveries attempted."""
        await self.route()
        return await self.deliver()

    async def drain(self, rounds: int = 50) -> int:
        """Passes until one attempts nothing (tests, and the CLI's one-shot use)."""
        total = 0
        for _ in range(rounds):
            done = await self.run_once()
            total += done
            if not done:
                break
        return total

    async def route(self) -> int:
        """Queue each new event for every subscription that wants it; the events routed."""
        now = self.clock()
        async with self.db.transaction() as s:
            if not self.db.is_sqlite and not await s.scalar(select(func.pg_try_advisory_xact_lock(ROUTE_LOCK))):
                return 0
            events = (
                await s.execute(
                    select(EVENTS.c.id, EVENTS.c.type, EVENTS.c.occurred_at, EVENTS.c.ordering_key)
                    .where(EVENTS.c.routed_at.is_(None))
                    .order_by(EVENTS.c.id)
                    .limit(self.config.batch * 5)
                )
            ).all()
            if not events:
                return 0
            subscriptions = (
                await s.execute(select(WebhookSubscription.id, WebhookSubscription.events, WebhookSubscription.created_at))
            ).all()
            rows = [
                {
                    "subscription_id": sub.id,
                    "event_id": event.id,
                    "ordering_key": event.ordering_key,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for event in events
                for sub in subscriptions
                if event.type in sub.events and event.occurred_at >= sub.created_at
            ]
            if rows:
                await s.execute(insert(WebhookDelivery), rows)
            await s.execute(update(EVENTS).where(EVENTS.c.id.in_([e.id for e in events])).values(routed_at=now))
        return len(events)

    async def deliver(self) -> int:
        """Claim what is due, post it, record each outcome; the deliveries attempted."""
        due = await self._claim()
        if not due:
            return 0
        gate = asyncio.Semaphore(self.config.concurrency)

        async def one(item: _Due) -> _Result:
            async with gate:
                return await self._post(item)

        results = await asyncio.gather(*(one(item) for item in due))
        await self._record(results)
        return len(results)

    async def _claim(self) -> list[_Due]:
        now = self.clock()
        d = WebhookDelivery.__table__
        earlier = aliased(WebhookDelivery)
        blocked = exists().where(
            earlier.subscription_id == d.c.subscription_id,
            earlier.ordering_key == d.c.ordering_key,
            earlier.status == PENDING,
            earlier.id < d.c.id,
        )
        sub = WebhookSubscription.__table__
        query = (
            select(d.c.id)
            .join(sub, sub.c.id == d.c.subscription_id)
            .where(
                d.c.status == PENDING,
                d.c.next_attempt_at <= now,
                or_(d.c.leased_until.is_(None), d.c.leased_until < now),
                sub.c.disabled_at.is_(None),
                ~blocked,
            )
            .order_by(d.c.next_attempt_at, d.c.id)
            .limit(self.config.batch)
        )
        if not self.db.is_sqlite:
            query = query.with_for_update(of=d, skip_locked=True)
        async with self.db.transaction() as s:
            ids = list((await s.scalars(query)).all())
            if not ids:
                return []
            await s.execute(update(d).where(d.c.id.in_(ids)).values(leased_until=now + self.config.lease))
            rows = (
                await s.execute(
                    select(
                        d.c.id,
                        d.c.subscription_id,
                        d.c.attempts,
                        WebhookSubscription.url,
                        WebhookSubscription.secret,
                        WebhookSubscription.pii,
                        EVENTS.c.id.label("event_id"),
                        EVENTS.c.type,
                        EVENTS.c.occurred_at,
                        EVENTS.c.data,
                        EVENTS.c.booking_id,
                    )
                    .join(WebhookSubscription, WebhookSubscription.id == d.c.subscription_id)
                    .join(EVENTS, EVENTS.c.id == d.c.event_id)
                    .where(d.c.id.in_(ids))
                    .order_by(d.c.id)
                )
            ).all()
            found = await payloads.locators(s, [r.booking_id for r in rows if r.pii and r.booking_id is not None])
        return [
            _Due(
                id=r.id,
                subscription_id=r.subscription_id,
                attempts=r.attempts,
                url=r.url,
                secret=r.secret,
                msg_id=payloads.message_id(r.event_id),
                body=payloads.body(r.type, r.occurred_at, r.data, locator=found.get(r.booking_id or 0), pii=r.pii),
            )
            for r in rows
        ]

    async def _post(self, item: _Due) -> _Result:
        timestamp = int(self.wall())
        try:
            answer = await self._http().post(item.url, content=item.body, headers=signing.headers(item.secret, item.msg_id, timestamp, item.body))
        except httpx.HTTPError as exc:
            return _Result(item, None, type(exc).__name__[:64], None)
        return _Result(item, answer.status_code, None, retry_after_seconds(answer.headers.get("retry-after")))

    async def _record(self, results: Sequence[_Result]) -> None:
        now = self.clock()
        policy = self.config.policy
        d = WebhookDelivery.__table__
        sub = WebhookSubscription.__table__
        async with self.db.transaction() as s:
            for r in results:
                attempts = r.due.attempts + 1
                values: dict[str, Any] = {"attempts": attempts, "leased_until": None, "last_status": r.status, "last_error": r.error}
                if r.ok:
                    values.update(status=DELIVERED, delivered_at=now)
                    outcome = "delivered"
                    await s.execute(update(sub).where(sub.c.id == r.due.subscription_id).values(failures=0, failing_since=None))
                else:
                    at = policy.next_attempt(attempts, now, retry_after=r.retry_after)
                    outcome = "dead" if at is None else "retry"
                    if at is None:
                        values["status"] = DEAD
                    else:
                        values["next_attempt_at"] = at
                    await self._failed(s, r, now)
                await s.execute(update(d).where(d.c.id == r.due.id, d.c.status == PENDING).values(**values))
                self.on_outcome(outcome)
                if not r.ok:
                    log.info(
                        "outbound webhook attempt failed",
                        extra={"delivery_id": r.due.id, "subscription_id": r.due.subscription_id, "status": r.status, "error": r.error, "outcome": outcome},
                    )

    async def _failed(self, s: Any, r: _Result, now: dt.datetime) -> None:
        """Count the failure on the endpoint's circuit; a 410 Gone, or failing too long, disables it."""
        policy = self.config.policy
        sub = WebhookSubscription.__table__
        mine = sub.c.id == r.due.subscription_id
        await s.execute(
            update(sub).where(mine).values(failures=sub.c.failures + 1, failing_since=func.coalesce(sub.c.failing_since, now))
        )
        open_now = sub.c.disabled_at.is_(None)
        if r.status == 410:
            await s.execute(update(sub).where(mine, open_now).values(disabled_at=now, disabled_reason="gone"))
            return
        state = (await s.execute(select(sub.c.failures, sub.c.failing_since).where(mine))).first()
        if state is not None and policy.trips(int(state.failures), state.failing_since, now):
            await s.execute(update(sub).where(and_(mine, open_now)).values(disabled_at=now, disabled_reason="failing"))

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.config.timeout_s, connect=self.config.connect_timeout_s),
                follow_redirects=False,
                limits=httpx.Limits(max_connections=self.config.concurrency),
                headers={"user-agent": "rebook-webhooks/0.1"},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
