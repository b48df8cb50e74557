"""Delta imports of bookings: add, change and cancel PNRs by locator and version, whole file or nothing.

A row is compared with what is stored under its locator: a new locator is added (the insert path
of `importer`), an older or equal version is skipped (`stale`; `unchanged` when equal with the same
content), a newer one replaces the booking's passengers, contacts and segments. Seat counters move
by the net difference per flight and cabin through the guarded UPDATEs of `inventory`, so a change
can never push sold + held over capacity: an oversell refuses the whole file, naming the row.
The caller owns the transaction and re-assesses the live conversations of `report.changed_ids`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from infra import crypto
from rebooking_core.importer import (
    CONSENT_SOURCE,
    LEGAL_BASIS,
    ImportFailed,
    RecordList,
    _consent_events,
    _consent_state,
    _FlightRow,
    _flights,
    _line_numbers,
    _refuse_oversell,
    _resolve_segments,
    content_hash,
    import_bookings,
)
from rebooking_core.inventory import sell_seats, unsell_seats
from rebooking_core.models import Booking, ContactPoint, Passenger, Segment
from rebooking_core.records import SEAT_TAKING_STATUSES, BookingRecord, PassengerRecord
from rebooking_core.types import PUSH_SERVICES, Tier

SeatKey = tuple[int, str]


class Outcome(StrEnum):
    """What an upsert did with one row."""

    ADDED = "added"
    CHANGED = "changed"
    CANCELLED = "cancelled"
    UNCHANGED = "unchanged"
    STALE = "stale"


@dataclass(frozen=True)
class UpsertReport:
    """Counts per outcome (no personal data), and the bookings whose content changed."""

    added: int = 0
    changed: int = 0
    cancelled: int = 0
    unchanged: int = 0
    stale: int = 0
    #: Booking ids changed or cancelled: their live conversations are re-assessed in the same transaction.
    changed_ids: tuple[int, ...] = ()
    #: Per row, in file order: (locator, outcome, booking id).
    rows: tuple[tuple[str, Outcome, int], ...] = field(default=())


@dataclass(frozen=True)
class _Stored:
    id: int
    version: int
    content_hash: str | None


@dataclass(frozen=True)
class _Change:
    line: int
    record: BookingRecord
    stored: _Stored
    legs: list[_FlightRow]


async def upsert_bookings(session: AsyncSession, records: Sequence[BookingRecord]) -> UpsertReport:
    """Add, change or cancel each booking by locator and version; ImportFailed (nothing written) names the first bad row."""
    lines = _line_numbers(records)
    seen: dict[str, int] = {}
    for n, rec in zip(lines, records, strict=True):
        if rec.version is None:
            raise ImportFailed(
                n, "version: required by --mode upsert (the PSS's version of the PNR)"
            )
        if rec.locator in seen:
            raise ImportFailed(n, f"locator: {rec.locator} already on line {seen[rec.locator]}")
        seen[rec.locator] = n
    stored = await _stored(session, list(seen))

    added: list[tuple[int, BookingRecord]] = []
    changes: list[tuple[int, BookingRecord, _Stored]] = []
    outcome: dict[str, Outcome] = {}
    bumps: list[dict[str, Any]] = []
    for n, rec in zip(lines, records, strict=True):
        old = stored.get(rec.locator)
        version = rec.version or 0
        if old is None:
            added.append((n, rec))
            outcome[rec.locator] = Outcome.ADDED
        elif (
            old.content_hash is not None
            and content_hash(rec) == old.content_hash
            and version >= old.version
        ):
            outcome[rec.locator] = Outcome.UNCHANGED
            if version > old.version:
                bumps.append({"i": old.id, "v": version})
        elif version <= old.version:
            outcome[rec.locator] = Outcome.STALE
        else:
            changes.append((n, rec, old))
            outcome[rec.locator] = Outcome.CANCELLED if _gives_up_all(rec) else Outcome.CHANGED

    keys = {(s.carrier, s.number, s.date) for _, r, _ in changes for s in r.segments}
    flights = await _flights(session, keys)
    legs = _resolve_segments([n for n, _, _ in changes], [r for _, r, _ in changes], flights)
    planned = [_Change(n, r, old, leg) for (n, r, old), leg in zip(changes, legs, strict=True)]
    await _check_passengers(session, planned)
    await _move_seats(session, planned)
    for change in planned:
        await _rewrite(session, change)
    for bump in bumps:
        await session.execute(
            update(Booking).where(Booking.id == bump["i"]).values(version=bump["v"])
        )
    if added:
        await import_bookings(session, RecordList([r for _, r in added], [n for n, _ in added]))
        stored.update(await _stored(session, [r.locator for _, r in added]))

    counts = {kind: sum(1 for o in outcome.values() if o is kind) for kind in Outcome}
    return UpsertReport(
        added=counts[Outcome.ADDED],
        changed=counts[Outcome.CHANGED],
        cancelled=counts[Outcome.CANCELLED],
        unchanged=counts[Outcome.UNCHANGED],
        stale=counts[Outcome.STALE],
        changed_ids=tuple(c.stored.id for c in planned),
        rows=tuple((r.locator, outcome[r.locator], stored[r.locator].id) for r in records),
    )


def _gives_up_all(rec: BookingRecord) -> bool:
    """Cancelled: by its status, or because no segment holds a seat any more (all HX/UN)."""
    return all(rec.segment_status(s) not in SEAT_TAKING_STATUSES for s in rec.segments)


async def _stored(session: AsyncSession, locators: list[str]) -> dict[str, _Stored]:
    found: dict[str, _Stored] = {}
    for first in range(0, len(locators), 5000):
        part = locators[first : first + 5000]
        rows = await session.execute(
            select(Booking.locator, Booking.id, Booking.version, Booking.content_hash).where(
                Booking.locator.in_(part)
            )
        )
        for locator, bid, version, digest in rows:
            found[locator] = _Stored(int(bid), int(version), digest)
    return found


async def _passenger_counts(session: AsyncSession, booking_ids: list[int]) -> dict[int, int]:
    if not booking_ids:
        return {}
    rows = await session.execute(
        select(Passenger.booking_id, func.count())
        .where(Passenger.booking_id.in_(booking_ids))
        .group_by(Passenger.booking_id)
    )
    return {int(bid): int(n) for bid, n in rows}


async def _check_passengers(session: AsyncSession, planned: list[_Change]) -> None:
    """A change may add travellers, not drop them: the others' claims, consent and messages hang on them."""
    counts = await _passenger_counts(session, [c.stored.id for c in planned])
    for c in planned:
        before = counts.get(c.stored.id, 0)
        if len(c.record.passengers) < before:
            raise ImportFailed(
                c.line,
                f"passengers: {len(c.record.passengers)} given, {before} stored; a change may not drop passengers (split the PNR instead)",
            )


async def _move_seats(session: AsyncSession, planned: list[_Change]) -> None:
    """Net seat moves per flight and cabin: give back first, then take under the capacity guard."""
    if not planned:
        return
    counts = await _passenger_counts(session, [c.stored.id for c in planned])
    delta: dict[SeatKey, int] = defaultdict(int)
    wants: dict[SeatKey, list[tuple[int, int, int]]] = defaultdict(list)
    by_booking = {c.stored.id: c for c in planned}
    old = await session.execute(
        select(Segment.booking_id, Segment.flight_id, Segment.cabin).where(
            Segment.booking_id.in_(list(by_booking)),
            Segment.status.in_(sorted(SEAT_TAKING_STATUSES)),
        )
    )
    for bid, flight_id, cabin in old:
        delta[(int(flight_id), str(cabin))] -= counts.get(int(bid), 0)
    for c in planned:
        for i, (seg, leg) in enumerate(zip(c.record.segments, c.legs, strict=True)):
            if c.record.segment_status(seg) in SEAT_TAKING_STATUSES:
                seats = len(c.record.passengers)
                delta[(leg.id, seg.cabin)] += seats
                wants[(leg.id, seg.cabin)].append((c.line, i, seats))
    for (flight_id, cabin), n in sorted(delta.items()):
        if n < 0 and not await unsell_seats(session, flight_id=flight_id, cabin=cabin, seats=-n):
            line = planned[0].line
            raise ImportFailed(
                line,
                f"segments: the seat counters of flight {flight_id} cabin {cabin} hold fewer sold seats than its bookings",
            )
    for (flight_id, cabin), n in sorted(delta.items()):
        if n > 0 and not await sell_seats(session, flight_id=flight_id, cabin=cabin, seats=n):
            await _refuse_oversell(session, flight_id, cabin, wants[(flight_id, cabin)])


def _passenger_values(p: PassengerRecord, first: bool) -> dict[str, Any]:
    return {
        "given_name": p.given_name,
        "family_name": p.family_name,
        "tier": int(Tier.parse(p.tier)),
        "language": p.language,
        "ssr": p.ssr,
        "is_contact": first,
        "loyalty_status": p.loyalty_status,
        "miles": p.miles,
        "preferences": p.preferences,
    }


async def _rewrite(session: AsyncSession, c: _Change) -> None:
    """The booking's passengers and contacts updated in place (ids kept), its segments replaced."""
    rec, bid = c.record, c.stored.id
    await session.execute(
        update(Booking)
        .where(Booking.id == bid)
        .values(group_name=rec.group, version=rec.version, content_hash=content_hash(rec))
    )
    people = list(
        (
            await session.scalars(
                select(Passenger).where(Passenger.booking_id == bid).order_by(Passenger.id)
            )
        ).all()
    )
    for i, p in enumerate(rec.passengers):
        values = _passenger_values(p, i == 0)
        if i < len(people):
            for name, value in values.items():
                setattr(people[i], name, value)
        else:
            person = Passenger(booking_id=bid, **values)
            session.add(person)
            people.append(person)
    await session.flush()
    await _rewrite_contacts(session, rec, people)
    await session.execute(delete(Segment).where(Segment.booking_id == bid))
    await session.execute(
        insert(Segment),
        [
            {
                "booking_id": bid,
                "flight_id": leg.id,
                "cabin": seg.cabin,
                "seq": seq,
                "status": rec.segment_status(seg),
            }
            for seq, (seg, leg) in enumerate(zip(rec.segments, c.legs, strict=True), start=1)
        ],
    )


async def _rewrite_contacts(
    session: AsyncSession, rec: BookingRecord, people: list[Passenger]
) -> None:
    """Contacts per channel follow the file; consent is written only where the ledger has none yet.

    A passenger's own later choice (STOP, START) is in the ledger already and a file must not undo
    it; a new channel gets the file's consent with the same provenance as the insert path.
    """
    ids = [p.id for p in people]
    existing: dict[tuple[int, str], ContactPoint] = {
        (cp.passenger_id, cp.channel): cp
        for cp in (
            await session.scalars(select(ContactPoint).where(ContactPoint.passenger_id.in_(ids)))
        ).all()
    }
    ledger = {
        (int(pid), str(channel), str(purpose))
        for pid, channel, purpose in await session.execute(
            select(
                _consent_state.c.passenger_id, _consent_state.c.channel, _consent_state.c.purpose
            ).where(_consent_state.c.passenger_id.in_(ids))
        )
    }
    ring = crypto.keyring()
    now = dt.datetime.now(dt.UTC)
    states: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    kept: set[tuple[int, str]] = set()
    for person, p in zip(people, rec.passengers, strict=False):
        order = list(p.preferred_channels or [])
        order += [c.channel for c in p.contacts if c.channel not in order]
        for contact in p.contacts:
            values: dict[str, Any] = {
                "address": contact.address,
                "address_hash": ring.blind_index(contact.address)
                if contact.address is not None
                else None,
                "bsuid": contact.bsuid,
                "bsuid_hash": ring.blind_index(contact.bsuid)
                if contact.bsuid is not None
                else None,
                "preference": order.index(contact.channel),
                "platform": contact.platform,
                "app_id": contact.app_id,
            }
            here = (person.id, str(contact.channel))
            kept.add(here)
            found = existing.get(here)
            if found is None:
                session.add(
                    ContactPoint(
                        passenger_id=person.id,
                        channel=contact.channel,
                        sender=PUSH_SERVICES.get(contact.platform or ""),
                        **values,
                    )
                )
            else:
                if found.address_hash != values["address_hash"]:
                    found.sender = PUSH_SERVICES.get(contact.platform or "")
                for name, value in values.items():
                    setattr(found, name, value)
            for purpose, granted in (
                ("service", contact.consent.service),
                ("marketing", contact.consent.marketing),
            ):
                if (person.id, contact.channel, purpose) in ledger:
                    continue
                state = "granted" if granted else "withdrawn"
                base = {
                    "passenger_id": person.id,
                    "channel": contact.channel,
                    "purpose": purpose,
                    "state": state,
                }
                states.append({**base, "updated_at": now})
                events.append(
                    {
                        **base,
                        "source": CONSENT_SOURCE,
                        "evidence": f"booking {rec.locator}",
                        "legal_basis": LEGAL_BASIS[purpose],
                        "at": now,
                    }
                )
    for where, cp in existing.items():
        if where not in kept:
            await session.delete(cp)
    await session.flush()
    if states:
        await session.execute(insert(_consent_state), states)
        await session.execute(insert(_consent_events), events)


def describe(report: UpsertReport) -> list[tuple[str, int]]:
    """The report's counts as (outcome, rows) pairs, in a fixed order, for the CLI and logs."""
    return [(kind.value, getattr(report, kind.value)) for kind in Outcome]
