"""Ops broadcasts: one notice to everyone on a flight or at an airport, on consented channels, paced per provider.

Targets are the passengers of every booking on the flight (or on flights leaving the airport in
the next `AIRPORT_WINDOW`) who have a contact point. Consent is read right before each send;
someone with no consented channel is counted as skipped, never messaged. A catalog key
(`broadcast.*`) is rendered in each passenger's language; free text from ops goes out as written
where the channel allows it (WhatsApp inside the 24 h window), otherwise inside the broadcast
template as its parameter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from consent import ledger
from conversations.desk_models import Broadcast, BroadcastRecipient
from conversations.models import Conversation
from conversations.pacing import Pacing
from conversations.ports import (
    Channel,
    ChannelError,
    OptedOut,
    OutboundMessage,
    RateLimited,
    ReasonClass,
    TemplateCall,
)
from conversations.rendering import Branding, flight_code
from conversations.service import Clock
from infra.db import Database
from rebooking_core import airports
from rebooking_core.models import ContactPoint, Flight, Passenger, Segment

log = logging.getLogger(__name__)

AIRPORT_WINDOW = dt.timedelta(hours=24)
MAX_TEXT = 1024
TEMPLATE_KEY = "broadcast_notice"
_FLIGHT = re.compile(r"^(?P<carrier>[A-Z0-9]{2})(?P<number>\d{1,4})(?:/(?P<date>\d{4}-\d{2}-\d{2}))?$")
_AIRPORT = re.compile(r"^[A-Z]{3}$")


class BroadcastRefused(ValueError):
    """The request names nothing we can send to, or a message we cannot send."""


@dataclass(frozen=True)
class BroadcastRequested:
    target: str
    message: str
    requested_by: str
    slack_channel: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class BroadcastCounts:
    broadcast_id: int
    target: str
    targeted: int
    sent: int
    skipped_consent: int
    failed: int
    pending: int
    finished: bool


class ProgressBoard(Protocol):
    """Where ops see a broadcast move (the Slack channel the command came from)."""

    async def post_progress(self, channel: str, counts: BroadcastCounts) -> str: ...

    async def update_progress(self, channel: str, ts: str, counts: BroadcastCounts) -> None: ...


@dataclass(frozen=True)
class _Target:
    scope: str
    key: str
    flight_ids: tuple[int, ...]


async def resolve_target(s: AsyncSession, target: str, *, now: dt.datetime) -> _Target:
    """`LH100`, `LH100/2026-06-01` (a flight; without a date the next one) or `FRA` (departures in the next 24 h)."""
    text = target.strip().upper()
    if _AIRPORT.match(text):
        ids = (
            await s.scalars(
                select(Flight.id).where(Flight.origin == text, Flight.dep_utc >= now - dt.timedelta(hours=2), Flight.dep_utc <= now + AIRPORT_WINDOW)
            )
        ).all()
        return _Target("airport", text, tuple(ids))
    m = _FLIGHT.match(text)
    if m is None:
        raise BroadcastRefused(f"{target!r} is neither a flight (LH100 or LH100/2026-06-01) nor an airport (FRA)")
    query = select(Flight).where(Flight.carrier == m["carrier"], Flight.number == m["number"])
    if m["date"]:
        query = query.where(Flight.service_date == dt.date.fromisoformat(m["date"]))
    else:
        query = query.where(Flight.service_date >= (now - dt.timedelta(days=1)).date()).order_by(Flight.service_date)
    flight = (await s.scalars(query.limit(1))).first()
    if flight is None:
        raise BroadcastRefused(f"no flight {text}")
    return _Target("flight", f"{flight.carrier}{flight.number}/{flight.service_date.isoformat()}", (flight.id,))


def _message(message: str) -> tuple[str | None, str | None]:
    """(catalog key, free text): a known `broadcast.*` key is rendered per language, anything else is sent as written."""
    text = message.strip()
    if text.startswith("broadcast.") and text in set(locales.keys()):
        return text, None
    if not text:
        raise BroadcastRefused("empty message")
    if len(text) > MAX_TEXT:
        raise BroadcastRefused(f"message longer than {MAX_TEXT} characters")
    return None, text


async def create_broadcast(db: Database, request: BroadcastRequested, *, clock: Clock) -> int:
    """Record the broadcast and its recipients in one transaction; the same idempotency key gives the same id."""
    key, text = _message(request.message)
    async with db.transaction() as s:
        if request.idempotency_key:
            known = (await s.scalars(select(Broadcast.id).where(Broadcast.idempotency_key == request.idempotency_key))).first()
            if known is not None:
                return int(known)
        now = clock()
        target = await resolve_target(s, request.target, now=now)
        b = Broadcast(
            scope=target.scope,
            target=target.key,
            message_key=key,
            text=text,
            requested_by=request.requested_by[:64],
            idempotency_key=request.idempotency_key,
            status="sending",
            slack_channel=request.slack_channel,
            created_at=now,
        )
        s.add(b)
        await s.flush()
        rows = (
            await s.execute(
                select(Passenger.id, func.min(Segment.flight_id))
                .join(Segment, Segment.booking_id == Passenger.booking_id)
                .where(Segment.flight_id.in_(target.flight_ids), Passenger.erased_at.is_(None))
                .where(Passenger.id.in_(select(ContactPoint.passenger_id)))
                .group_by(Passenger.id)
            )
        ).all()
        if rows:
            await s.execute(
                insert(BroadcastRecipient),
                [
                    {"broadcast_id": b.id, "passenger_id": pid, "flight_id": fid, "status": "pending", "attempts": 0, "tried": []}
                    for pid, fid in rows
                ],
            )
        else:
            b.status, b.finished_at = "done", now
        return b.id


async def broadcast_counts(db: Database, broadcast_id: int) -> BroadcastCounts | None:
    async with db.reading() as s:
        b = await s.get(Broadcast, broadcast_id)
        if b is None:
            return None
        by = dict(
            (
                await s.execute(
                    select(BroadcastRecipient.status, func.count())
                    .where(BroadcastRecipient.broadcast_id == broadcast_id)
                    .group_by(BroadcastRecipient.status)
                )
            ).all()
        )
    return BroadcastCounts(
        broadcast_id=b.id,
        target=b.target,
        targeted=int(sum(by.values())),
        sent=int(by.get("sent", 0)),
        skipped_consent=int(by.get("skipped_consent", 0)),
        failed=int(by.get("failed", 0)),
        pending=int(by.get("pending", 0)) + int(by.get("sending", 0)),
        finished=b.status == "done",
    )


@dataclass(frozen=True)
class _Plan:
    recipient_id: int
    broadcast_id: int
    passenger_id: int
    channel: str
    message: OutboundMessage


class Broadcaster:
    """Creates broadcasts (the Slack/API entry point) and sends them on the provider budget the dispatcher shares."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        *,
        pacer: Pacing,
        branding: Branding,
        clock: Clock,
        board: ProgressBoard | None = None,
        on_start: Callable[[], None] | None = None,
        max_attempts: int = 3,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        self.branding = branding
        self.clock = clock
        self.board = board
        self.on_start = on_start
        self.max_attempts = max_attempts
        self.pacer = pacer

    async def start(self, request: BroadcastRequested) -> int:
        broadcast_id = await create_broadcast(self.db, request, clock=self.clock)
        await self._progress(broadcast_id)
        if self.on_start is not None:
            self.on_start()
        return broadcast_id

    async def drain(self, *, max_rounds: int = 1000) -> int:
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            if n == 0:
                break
            total += n
        return total

    async def run_once(self, limit: int = 500) -> int:
        """Claim pending recipients, send each on its best consented channel, record the outcome."""
        ids = await self._claim(limit)
        if not ids:
            return 0
        plans: dict[str, list[_Plan]] = defaultdict(list)
        for rid in ids:
            plan = await self._plan(rid)
            if plan is not None:
                plans[plan.channel].append(plan)
        async with self.db.reading() as s:
            touched = set((await s.scalars(select(BroadcastRecipient.broadcast_id).where(BroadcastRecipient.id.in_(ids)))).all())
        await asyncio.gather(*(self._send_all(channel, items) for channel, items in plans.items()))
        for broadcast_id in touched:
            await self._finish_if_done(broadcast_id)
            await self._progress(broadcast_id)
        return len(ids)

    async def _claim(self, limit: int) -> list[int]:
        async with self.db.transaction() as s:
            query = (
                select(BroadcastRecipient.id)
                .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
                .where(Broadcast.status == "sending", BroadcastRecipient.status == "pending")
                .order_by(BroadcastRecipient.id)
                .limit(limit)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True, of=BroadcastRecipient)
            ids = list((await s.scalars(query)).all())
            if ids:
                await s.execute(update(BroadcastRecipient).where(BroadcastRecipient.id.in_(ids)).values(status="sending"))
        return ids

    async def _plan(self, recipient_id: int) -> _Plan | None:
        """Consent read right before the send; no consented channel means skipped, never messaged."""
        async with self.db.transaction() as s:
            r = await s.get(BroadcastRecipient, recipient_id)
            b = await s.get(Broadcast, r.broadcast_id) if r is not None else None
            person = await s.get(Passenger, r.passenger_id) if r is not None else None
            if r is None or b is None or person is None:
                return None
            contacts = (
                await s.scalars(
                    select(ContactPoint).where(ContactPoint.passenger_id == person.id).order_by(ContactPoint.preference, ContactPoint.id)
                )
            ).all()
            usable = [c for c in contacts if c.channel in self.channels and c.address]
            granted = await ledger.granted_channels(s, passenger_id=person.id, channels={c.channel for c in usable})
            if not granted:
                r.status = "skipped_consent" if usable else "failed"
                r.error = "no_consent" if usable else "no_channel"
                return None
            left = [c for c in usable if c.channel in granted and c.channel not in r.tried]
            if not left:
                r.status = "failed"
                r.error = r.error or "channels_exhausted"
                return None
            contact = left[0]
            locale = locales.negotiate(person.language)
            flight = await s.get(Flight, r.flight_id)
            body = self._text(b, locale, flight)
            window = await self._window(s, person.id, contact.channel)
            message = OutboundMessage(
                idempotency_key=f"b{b.id}-p{person.id}-{contact.channel}",
                to=contact.address or "",
                locale=locale,
                body=body,
                window_open_until=window,
                template=TemplateCall(key=TEMPLATE_KEY, locale=locale, params=(self.branding.airline, body), quick_reply_payload=None, quick_reply_title=""),
            )
            r.channel = contact.channel
            r.attempts += 1
            return _Plan(r.id, b.id, person.id, contact.channel, message)

    def _text(self, b: Broadcast, locale: str, flight: Flight | None) -> str:
        if b.message_key is None:
            return b.text or ""
        origin = airports.get(flight.origin).city if flight is not None else ""
        code = flight_code(flight) if flight is not None else ""
        return locales.render(b.message_key, locale, airline=self.branding.airline, origin=origin, flight=code)

    async def _window(self, s: AsyncSession, passenger_id: int, channel: str) -> dt.datetime | None:
        """The provider's session window, as the passenger's latest conversation knows it."""
        rows = (
            await s.scalars(select(Conversation.window_open_until).where(Conversation.passenger_id == passenger_id).order_by(Conversation.id.desc()))
        ).all()
        until = [dt.datetime.fromisoformat(w[channel]) for w in rows if channel in w]
        return max(until) if until else None

    async def _send_all(self, channel_name: str, plans: list[_Plan]) -> None:
        channel = self.channels[channel_name]
        for plan in plans:
            to = plan.message.to
            await self.pacer.acquire(channel_name, to)
            try:
                result = await channel.send(plan.message)
            except ChannelError as exc:
                if isinstance(exc, RateLimited) and exc.retry_after:
                    await self.pacer.slow_down(channel_name, to, exc.retry_after, exc.code)
                await self._failed(plan, exc)
                continue
            await self.pacer.settle(channel_name, to, result.segments)
            async with self.db.transaction() as s:
                await s.execute(
                    update(BroadcastRecipient)
                    .where(BroadcastRecipient.id == plan.recipient_id)
                    .values(status="sent", provider_message_id=result.provider_message_id, sent_at=self.clock())
                )

    async def _failed(self, plan: _Plan, exc: ChannelError) -> None:
        log.info("broadcast send failed", extra={"broadcast": plan.broadcast_id, "channel": plan.channel, "error": type(exc).__name__})
        async with self.db.transaction() as s:
            r = await s.get(BroadcastRecipient, plan.recipient_id)
            if r is None:
                return
            r.error = type(exc).__name__[:64]
            if exc.reason_class is ReasonClass.TEMPORARY and r.attempts < self.max_attempts:
                r.status = "pending"
                return
            if isinstance(exc, OptedOut):
                await ledger.record(
                    s, passenger_id=plan.passenger_id, channel=plan.channel, purpose=ledger.SERVICE, granted=False,
                    source="provider", evidence=exc.code, at=self.clock(),
                )
            r.tried = [*r.tried, plan.channel]
            r.status = "pending"

    async def _finish_if_done(self, broadcast_id: int) -> None:
        async with self.db.transaction() as s:
            open_rows = await s.scalar(
                select(func.count())
                .select_from(BroadcastRecipient)
                .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.status.in_(["pending", "sending"]))
            )
            if not open_rows:
                await s.execute(
                    update(Broadcast)
                    .where(Broadcast.id == broadcast_id, Broadcast.status == "sending")
                    .values(status="done", finished_at=self.clock())
                )

    async def _progress(self, broadcast_id: int) -> None:
        """One Slack message per broadcast, posted once and updated after each round."""
        if self.board is None:
            return
        async with self.db.reading() as s:
            b = await s.get(Broadcast, broadcast_id)
        if b is None or b.slack_channel is None:
            return
        counts = await broadcast_counts(self.db, broadcast_id)
        if counts is None:
            return
        try:
            if b.slack_ts is None:
                ts = await self.board.post_progress(b.slack_channel, counts)
                async with self.db.transaction() as s:
                    await s.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(slack_ts=ts))
            else:
                await self.board.update_progress(b.slack_channel, b.slack_ts, counts)
        except ChannelError as exc:  # progress is informative; the counts stay on GET /v1/broadcasts/{id}
            log.warning("broadcast progress not shown", extra={"broadcast": broadcast_id, "error": type(exc).__name__})
