"""Retention: remove what is past its period, table by table, and say what went (or would go)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, MetaData, Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consent import audit

YEAR = dt.timedelta(days=365.25)
#: How long an answer kept for an `Idempotency-Key` replays (then the key may be used again).
ANSWERS_KEPT = dt.timedelta(hours=24)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of record is kept; conversation periods count from the journey's end."""

    content: dt.timedelta = dt.timedelta(days=90)
    deliveries: dt.timedelta = dt.timedelta(days=90)
    bookings: dt.timedelta = 7 * YEAR
    audit: dt.timedelta = 7 * YEAR
    events: dt.timedelta = dt.timedelta(days=30)


@dataclass
class PurgeReport:
    """Rows removed (or, in a dry run, that would be removed) per table."""

    dry_run: bool
    removed: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, n: int) -> None:
        if n:
            self.removed[table] = self.removed.get(table, 0) + n

    @property
    def total(self) -> int:
        return sum(self.removed.values())


class _Purger:
    def __init__(self, session: AsyncSession, metadata: MetaData, report: PurgeReport) -> None:
        self.s = session
        self.t = metadata.tables
        self.report = report

    async def remove(self, table: str, where: ColumnElement[bool]) -> None:
        t = self.t[table]
        n = int(await self.s.scalar(select(func.count()).select_from(t).where(where)) or 0)
        if n and not self.report.dry_run:
            await self.s.execute(delete(t).where(where))
        self.report.add(table, n)

    async def clear(self, table: str, column: str, where: ColumnElement[bool]) -> None:
        """Blank one column of the rows that stay (reported as `table.column`)."""
        t = self.t[table]
        where = where & t.c[column].is_not(None)
        n = int(await self.s.scalar(select(func.count()).select_from(t).where(where)) or 0)
        if n and not self.report.dry_run:
            await self.s.execute(update(t).where(where).values({column: None}))
        self.report.add(f"{table}.{column}", n)

    async def conversations(self, ids: Select[Any]) -> None:
        """A conversation and everything hanging off it."""
        t = self.t
        await self.remove("deliveries", t["deliveries"].c.conversation_id.in_(ids))
        await self.remove("outbox", t["outbox"].c.conversation_id.in_(ids))
        await self.remove("inbound_messages", t["inbound_messages"].c.conversation_id.in_(ids))
        await self.remove("escalations", t["escalations"].c.conversation_id.in_(ids))
        if "pnr_changes" in t:
            await self.remove("pnr_changes", t["pnr_changes"].c.conversation_id.in_(ids))
        await self.remove("conversations", t["conversations"].c.id.in_(ids))

    async def bookings(self, ids: Select[Any]) -> None:
        """A booking record with its passengers, contacts, consent, itinerary and offers."""
        t = self.t
        await self.conversations(select(t["conversations"].c.id).where(t["conversations"].c.booking_id.in_(ids)))
        offers = select(t["offers"].c.id).where(t["offers"].c.booking_id.in_(ids))
        options = select(t["offer_options"].c.id).where(t["offer_options"].c.offer_id.in_(offers))
        pax = select(t["passengers"].c.id).where(t["passengers"].c.booking_id.in_(ids))
        await self.remove("seat_holds", t["seat_holds"].c.option_id.in_(options))
        await self.remove("offer_options", t["offer_options"].c.offer_id.in_(offers))
        await self.remove("offers", t["offers"].c.booking_id.in_(ids))
        await self.remove("segments", t["segments"].c.booking_id.in_(ids))
        for table in ("consent_events", "consent_state", "contact_points"):
            await self.remove(table, t[table].c.passenger_id.in_(pax))
        if "claims" in t:
            # A claim outlives its booking anonymised, as on erasure: the totals stay (docs/claims.md).
            await self.clear("claims", "passenger_id", t["claims"].c.passenger_id.in_(pax))
            await self.clear("claims", "booking_id", t["claims"].c.booking_id.in_(ids))
        if "care_vouchers" in t:
            await self.remove("care_vouchers", t["care_vouchers"].c.booking_id.in_(ids))
        if "refund_requests" in t:
            await self.remove("refund_requests", t["refund_requests"].c.booking_id.in_(ids))
        await self.remove("passengers", t["passengers"].c.booking_id.in_(ids))
        await self.remove("bookings", t["bookings"].c.id.in_(ids))


def _journey_end(metadata: MetaData) -> Select[Any]:
    """Per booking, when its journey ends: the last arrival of any of its segments."""
    seg, fl = metadata.tables["segments"], metadata.tables["flights"]
    return (
        select(seg.c.booking_id.label("booking_id"), func.max(fl.c.arr_utc).label("ends"))
        .join(fl, fl.c.id == seg.c.flight_id)
        .group_by(seg.c.booking_id)
    )


def _bookings_ended_before(metadata: MetaData, cutoff: dt.datetime) -> Select[Any]:
    """Bookings whose journey ended before `cutoff` (or, with no segment, were created before it)."""
    b = metadata.tables["bookings"]
    ends = _journey_end(metadata).subquery()
    return (
        select(b.c.id)
        .outerjoin(ends, ends.c.booking_id == b.c.id)
        .where(func.coalesce(ends.c.ends, b.c.created_at) < cutoff)
    )


async def purge(
    session: AsyncSession,
    metadata: MetaData,
    policy: RetentionPolicy,
    *,
    now: dt.datetime,
    dry_run: bool,
    actor: str = "retention",
) -> PurgeReport:
    """Delete what is past retention (nothing when `dry_run`), children before parents."""
    report = PurgeReport(dry_run=dry_run)
    p = _Purger(session, metadata, report)
    t = metadata.tables
    await p.bookings(_bookings_ended_before(metadata, now - policy.bookings))
    conv = t["conversations"]
    await p.conversations(
        select(conv.c.id).where(conv.c.booking_id.in_(_bookings_ended_before(metadata, now - policy.content)))
    )
    inbound = t["inbound_messages"]
    # Messages from senders with no open conversation have no journey: they count from receipt.
    await p.remove("inbound_messages", inbound.c.conversation_id.is_(None) & (inbound.c.received_at < now - policy.content))
    await p.remove("deliveries", t["deliveries"].c.created_at < now - policy.deliveries)
    # A conversation's log goes with it (above); a broadcast notice has no journey: its text counts from sending,
    # when its delivery row is kept longer than the content.
    sent = t["deliveries"].c
    notices = sent.conversation_id.is_(None) & (sent.created_at < now - policy.content) & (sent.created_at >= now - policy.deliveries)
    await p.clear("deliveries", "text", notices)
    await p.remove("processed_events", t["processed_events"].c.received_at < now - policy.events)
    if "idempotent_answers" in t:
        await p.remove("idempotent_answers", t["idempotent_answers"].c.created_at < now - ANSWERS_KEPT)
    if "outbound_events" in t:
        # Outbound events can be replayed for as long as they are kept; their deliveries go with them.
        old = t["outbound_events"].c.occurred_at < now - policy.events
        if "webhook_deliveries" in t:
            await p.remove("webhook_deliveries", t["webhook_deliveries"].c.event_id.in_(select(t["outbound_events"].c.id).where(old)))
        await p.remove("outbound_events", old)
    await _purge_audit(session, metadata, report, cutoff=now - policy.audit, now=now, actor=actor)
    return report


async def _purge_audit(
    session: AsyncSession, metadata: MetaData, report: PurgeReport, *, cutoff: dt.datetime, now: dt.datetime, actor: str
) -> None:
    """Drop the chain's oldest prefix and record where it now starts, so verification still holds."""
    log = metadata.tables["audit_log"]
    if not report.dry_run:
        await audit.seal(session)  # the purge cuts the sealed chain; anything committed joins it first
    newest = await session.scalar(select(func.max(log.c.seq)))
    if newest is None:
        return
    first_kept = await session.scalar(select(func.min(log.c.seq)).where(log.c.at >= cutoff))
    through = min(int(first_kept) - 1 if first_kept is not None else int(newest), int(newest) - 1)
    oldest = await session.scalar(select(func.min(log.c.seq)))
    if oldest is None or through < int(oldest):
        return
    last = (await session.execute(select(log.c.seq, log.c.hash).where(log.c.seq == through))).first()
    if last is None:
        return
    await _Purger(session, metadata, report).remove("audit_log", log.c.seq <= through)
    if not report.dry_run:
        audit.append(
            session,
            actor=actor,
            action=audit.PURGED,
            subject="audit_log",
            details={"through_seq": int(last[0]), "through_hash": str(last[1])},
            at=now,
        )


def summary(report: PurgeReport) -> Mapping[str, int]:
    return dict(sorted(report.removed.items()))
