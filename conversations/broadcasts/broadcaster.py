"""Ops broadcasts: one notice to everyone on a flight or at an airport, as outbox rows the dispatcher sends.

Targets are the passengers of every booking on the flight (or on flights leaving the airport in
the next `AIRPORT_WINDOW`) who have a contact point. Each gets one outbox row of no conversation
(`passenger_id`, `broadcast_id`, lowest priority in its lane), so consent read at send time,
channel choice and fallback, pacing, retries, dead letters and metrics are the dispatcher's, as
for every other message; the counts are read from those rows. Someone with no consented channel
is counted as skipped, never messaged. A catalog key (`broadcast.*`) is rendered in each
passenger's language; free text from ops goes out as written where the channel allows it
(WhatsApp inside the 24 h window), otherwise inside the broadcast template as its parameter.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from conversations.broadcasts.models import Broadcast
from conversations.broadcasts.ports import (
    BroadcastCounts,
    BroadcastRefused,
    BroadcastRequested,
    ProgressBoard,
)
from conversations.clock import Clock
from conversations.lifecycles import OutboxStatus
from conversations.models import OUTBOX, OUTBOX_READY, Conversation, OutboxMessage
from conversations.outbox.rendering import Branding, flight_code
from conversations.outbox.rows import broadcast_row
from conversations.ports import ChannelError, OutboundMessage, TemplateCall
from infra.db import Database
from infra.idempotency import insert_or_get
from infra.sql import padded
from rebooking_core import airports
from rebooking_core.models import ContactPoint, Flight, Passenger, Segment

log = logging.getLogger(__name__)

AIRPORT_WINDOW = dt.timedelta(hours=24)
MAX_TEXT = 1024
TEMPLATE_KEY = "broadcast_notice"
#: The `last_error` the dispatcher gives a row nobody consented to.
NO_CONSENT = "no_consented_channel"
_FLIGHT = re.compile(r"^(?P<carrier>[A-Z0-9]{2})(?P<number>\d{1,4})(?:/(?P<date>\d{4}-\d{2}-\d{2}))?$")
_AIRPORT = re.compile(r"^[A-Z]{3}$")


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
    """Record the broadcast and one outbox row per passenger in one transaction; the same idempotency key gives the same id.

    The key is claimed by insert-or-get, so concurrent requests with one key create one broadcast.
    """
    key, text = _message(request.message)
    async with db.transaction() as s:
        now = clock()
        target = await resolve_target(s, request.target, now=now)
        values = {
            "scope": target.scope,
            "target": target.key,
            "message_key": key,
            "text": text,
            "requested_by": request.requested_by[:64],
            "idempotency_key": request.idempotency_key,
            "status": "sending",
            "slack_channel": request.slack_channel,
            "created_at": now,
        }
        if request.idempotency_key:
            claimed = await insert_or_get(s, Broadcast, values, key="idempotency_key")
            if not claimed.created:
                return claimed.id
            broadcast_id = claimed.id
        else:
            broadcast_id = int((await s.execute(insert(Broadcast).values(values).returning(Broadcast.id))).scalar_one())
        rows = (
            await s.execute(
                select(Passenger.id, func.min(Segment.flight_id))
                .join(Segment, Segment.booking_id == Passenger.booking_id)
                .where(Segment.flight_id.in_(target.flight_ids), Passenger.erased_at.is_(None))
                .where(Passenger.id.in_(select(ContactPoint.passenger_id)))
                .group_by(Passenger.id)
                .order_by(Passenger.id)
            )
        ).all()
        if rows:
            await s.execute(insert(OUTBOX), [broadcast_row(broadcast_id, pid, fid, now) for pid, fid in rows])
        else:
            await s.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(status="done", finished_at=now))
        return broadcast_id


async def broadcast_counts(db: Database, broadcast_id: int) -> BroadcastCounts | None:
    """Counts from the broadcast's outbox rows: sent, skipped for want of consent, failed, still to send."""
    async with db.reading() as s:
        b = await s.get(Broadcast, broadcast_id)
        if b is None:
            return None
        found = (
            await s.execute(
                select(OUTBOX.c.status, OUTBOX.c.last_error, func.count())
                .where(OUTBOX.c.broadcast_id == broadcast_id)
                .group_by(OUTBOX.c.status, OUTBOX.c.last_error)
            )
        ).all()
    by: dict[str, int] = {}
    for status, error, n in found:
        if status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
            label = "pending"
        elif status == OutboxStatus.SENT:
            label = "sent"
        elif status == OutboxStatus.FAILED and error == NO_CONSENT:
            label = "skipped_consent"
        else:
            label = "failed"
        by[label] = by.get(label, 0) + int(n)
    return BroadcastCounts(
        broadcast_id=b.id,
        target=b.target,
        targeted=sum(by.values()),
        sent=by.get("sent", 0),
        skipped_consent=by.get("skipped_consent", 0),
        failed=by.get("failed", 0),
        pending=by.get("pending", 0),
        finished=b.status == "done",
    )


class BroadcastNotices:
    """Renders broadcast rows for the dispatcher: each passenger's language, the 24 h window, the template outside it."""

    def __init__(self, branding: Branding) -> None:
        self.branding = branding

    async def render(self, s: AsyncSession, rows: list[tuple[OutboxMessage, ContactPoint]]) -> dict[int, OutboundMessage]:
        broadcasts = await _by_id(s, Broadcast, {row.broadcast_id for row, _ in rows if row.broadcast_id is not None})
        people = await _by_id(s, Passenger, {row.passenger_id for row, _ in rows if row.passenger_id is not None})
        flights = await _by_id(s, Flight, {int(row.params.get("flight_id", 0)) for row, _ in rows})
        windows = await _windows(s, set(people))
        out: dict[int, OutboundMessage] = {}
        for row, contact in rows:
            b = broadcasts.get(row.broadcast_id or 0)
            person = people.get(row.passenger_id or 0)
            if b is None or person is None:
                continue
            locale = locales.negotiate(person.language)
            body = self._text(b, locale, flights.get(int(row.params.get("flight_id", 0))))
            out[row.id] = OutboundMessage(
                idempotency_key=row.idempotency_key,
                to=contact.address or "",
                locale=locale,
                body=body,
                window_open_until=windows.get((person.id, contact.channel)),
                template=TemplateCall(
                    key=TEMPLATE_KEY,
                    locale=locale,
                    params=(self.branding.airline, body),
                    quick_reply_payload=None,
                    quick_reply_title="",
                ),
            )
        return out

    def _text(self, b: Broadcast, locale: str, flight: Flight | None) -> str:
        if b.message_key is None:
            return b.text or ""
        origin = airports.get(flight.origin).city if flight is not None else ""
        code = flight_code(flight) if flight is not None else ""
        return locales.render(b.message_key, locale, airline=self.branding.airline, origin=origin, flight=code)


async def _by_id(s: AsyncSession, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in await s.scalars(select(model).where(model.id.in_(padded(ids))))}


async def _windows(s: AsyncSession, passengers: set[int]) -> dict[tuple[int, str], dt.datetime]:
    """The provider's session window per passenger and channel, as their conversations know it (the latest)."""
    if not passengers:
        return {}
    found = await s.execute(
        select(Conversation.passenger_id, Conversation.window_open_until).where(Conversation.passenger_id.in_(padded(passengers)))
    )
    until: dict[tuple[int, str], dt.datetime] = {}
    for pid, windows in found:
        if pid is None:
            continue
        for channel, iso in (windows or {}).items():
            at = dt.datetime.fromisoformat(iso)
            key = (int(pid), channel)
            if key not in until or at > until[key]:
                until[key] = at
    return until


class Broadcaster:
    """Creates broadcasts (the Slack/API entry point) and follows their progress; the dispatcher sends them."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock,
        board: ProgressBoard | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.board = board
        self.on_start = on_start

    async def start(self, request: BroadcastRequested) -> int:
        broadcast_id = await create_broadcast(self.db, request, clock=self.clock)
        await self._progress(broadcast_id)
        if self.on_start is not None:
            self.on_start()
        return broadcast_id

    async def follow(self) -> int:
        """Finish broadcasts whose rows are all handled and show each one's progress; how many are still sending."""
        async with self.db.reading() as s:
            sending = list((await s.scalars(select(Broadcast.id).where(Broadcast.status == "sending"))).all())
        for broadcast_id in sending:
            await self._finish_if_done(broadcast_id)
            await self._progress(broadcast_id)
        return len(sending)

    async def _finish_if_done(self, broadcast_id: int) -> None:
        async with self.db.transaction() as s:
            open_rows = await s.scalar(
                select(func.count())
                .select_from(OUTBOX)
                .where(OUTBOX.c.broadcast_id == broadcast_id, text(f"outbox.{OUTBOX_READY}"))
            )
            if not open_rows:
                await s.execute(
                    update(Broadcast)
                    .where(Broadcast.id == broadcast_id, Broadcast.status == "sending")
                    .values(status="done", finished_at=self.clock())
                )

    async def _progress(self, broadcast_id: int) -> None:
        """One Slack message per broadcast, posted once and updated as it goes."""
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
