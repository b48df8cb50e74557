"""Protect first, set-based: book the best option of many offers the caller just made, in its transaction.

A fan-out batch plans, holds and records up to a hundred offers; under the protect-first policy
each is then accepted on its first option at once with a fixed number of statements whatever
the batch's size: the bookings' segments read in one, the offers accepted and the holds marked
in one executemany each, the counters moved per (flight, cabin) row through the guarded updates
of `rebooking_core.inventory` (the chosen legs' holds committed, the other options' released,
the replaced segments' seats given back), the segments rewritten in three. The other options'
holds go, as after any booking: choosing one later sells its seat under the capacity guard
(`change.change_option`). A booking with nothing left to replace is not protected: its offer
stays open, as on the offer-first path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Integer, Table, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.airline.ports import PnrChange, PnrSegment
from rebooking_core.booking.rules import Choice, CurrentBooking, Rewrite, plan_rewrite
from rebooking_core.booking.statements import flights, offers, segments
from rebooking_core.booking.two_phase import flight_keys
from rebooking_core.impact import ACTIVE_SEGMENT_STATUSES, SEGMENT_COLUMNS, segment_row
from rebooking_core.impact_rules import SegmentRow
from rebooking_core.inventory import commit_seats, move_many, release_seats, unsell_seats
from rebooking_core.models import Booking, DisruptionFlight, SeatHold
from rebooking_core.offers import CreatedOffer, InventoryInconsistent, OfferStatus
from rebooking_core.types import HoldStatus, SegmentStatus

__all__ = ["Protection", "ReservedProtection", "protect_offers", "reserve_protections"]

_holds = cast(Table, SeatHold.__table__)
_disrupted = cast(Table, DisruptionFlight.__table__)

Key = tuple[int, str]


@dataclass(frozen=True)
class Protection:
    """A booking moved onto its offer's first option."""

    booking_id: int
    offer_id: int
    option_id: int


_ACTIVE = (
    select(*SEGMENT_COLUMNS)
    .join(flights, flights.c.id == segments.c.flight_id)
    .where(
        segments.c.booking_id.in_(bindparam("bookings", expanding=True)),
        segments.c.status.in_(ACTIVE_SEGMENT_STATUSES),
    )
    .order_by(segments.c.booking_id, segments.c.seq, segments.c.id)
)
_LAST_SEQ = (
    select(segments.c.booking_id, func.max(segments.c.seq))
    .where(segments.c.booking_id.in_(bindparam("bookings", expanding=True)))
    .group_by(segments.c.booking_id)
)
_HIT = select(_disrupted.c.flight_id).where(_disrupted.c.disruption_id == bindparam("disruption"))
_ACCEPT = (
    update(offers)
    .where(offers.c.id == bindparam("o_id"), offers.c.status == OfferStatus.OPEN.value)
    .values(status=OfferStatus.ACCEPTED.value, accepted_option_id=bindparam("chosen"))
)
_MARK_HOLDS = (
    update(_holds)
    .where(
        _holds.c.option_id.in_(bindparam("all_options", expanding=True)),
        _holds.c.status == HoldStatus.HELD.value,
    )
    .values(
        status=case(
            (
                _holds.c.option_id.in_(bindparam("chosen_options", expanding=True)),
                HoldStatus.COMMITTED.value,
            ),
            else_=HoldStatus.RELEASED.value,
        )
    )
)
_RETIRE = (
    update(segments)
    .where(segments.c.id == bindparam("s_id"))
    .values(status=SegmentStatus.HX.value, replaced_by_option=bindparam("chosen"))
)
_SHIFT = (
    update(segments)
    .where(segments.c.booking_id == bindparam("b_id"), segments.c.seq > bindparam("after"))
    .values(seq=segments.c.seq + bindparam("legs", type_=Integer))
)


@dataclass(frozen=True)
class ReservedProtection:
    """Against a remote PSS: the offer accepted on its best option, its seats still held, the PNR change to send."""

    protection: Protection
    change: PnrChange


async def protect_offers(
    session: AsyncSession, made: Sequence[tuple[CreatedOffer, int]], *, disruption_id: int
) -> list[Protection]:
    """Book each just-made open offer (with its party size) on its first option; the bookings protected."""
    rewrites = await _plan(session, made, disruption_id)
    if not rewrites:
        return []
    await session.execute(
        _ACCEPT, [{"o_id": o.offer_id, "chosen": r.choice.option_id} for o, r in rewrites]
    )
    await session.execute(
        _MARK_HOLDS,
        {
            "all_options": [v.option_id for o, _ in rewrites for v in o.options],
            "chosen_options": [r.choice.option_id for _, r in rewrites],
        },
    )
    await _move_counters(session, rewrites)
    await _rewrite_segments(session, [r for _, r in rewrites])
    return [Protection(o.booking_id, o.offer_id, r.choice.option_id) for o, r in rewrites]


async def reserve_protections(
    session: AsyncSession, made: Sequence[tuple[CreatedOffer, int]], *, disruption_id: int
) -> list[ReservedProtection]:
    """Accept each offer on its best option and plan its PNR change, moving no seat: the PSS is asked first.

    The holds stay held (an accepted offer is never swept), so `two_phase.complete` books them once
    the PSS confirmed. A fixed number of statements for the batch, as `protect_offers`.
    """
    rewrites = await _plan(session, made, disruption_id)
    if not rewrites:
        return []
    await session.execute(
        _ACCEPT, [{"o_id": o.offer_id, "chosen": r.choice.option_id} for o, r in rewrites]
    )
    flight_ids = {s.flight_id for _, r in rewrites for s in r.replaced}
    keys = await flight_keys(session, flight_ids | {f for _, r in rewrites for f in r.choice.flight_ids})
    pnrs = {
        int(row.id): (row.locator, int(row.version))
        for row in (
            await session.execute(
                select(Booking.id, Booking.locator, Booking.version).where(
                    Booking.id.in_([o.booking_id for o, _ in rewrites])
                )
            )
        ).all()
    }
    reserved = []
    for offer, rewrite in rewrites:
        locator, version = pnrs[offer.booking_id]
        choice = rewrite.choice
        change = PnrChange(
            locator=locator,
            cancel=tuple(
                PnrSegment(keys[s.flight_id], s.cabin, SegmentStatus.HX.value)
                for s in rewrite.replaced
            ),
            sell=tuple(
                PnrSegment(keys[f], choice.cabin, SegmentStatus.HK.value) for f in choice.flight_ids
            ),
            passengers=choice.seats,
            version=version or None,
        )
        protection = Protection(offer.booking_id, offer.offer_id, choice.option_id)
        reserved.append(ReservedProtection(protection, change))
    return reserved


async def _plan(
    session: AsyncSession, made: Sequence[tuple[CreatedOffer, int]], disruption_id: int
) -> list[tuple[CreatedOffer, Rewrite]]:
    """Each offer's rewrite onto its first option; a booking with nothing left to replace is left out."""
    if not made:
        return []
    bookings = [offer.booking_id for offer, _ in made]
    active: dict[int, list[SegmentRow]] = defaultdict(list)
    for row in (await session.execute(_ACTIVE, {"bookings": bookings})).all():
        active[row.booking_id].append(segment_row(row))
    last = {
        int(b): int(n) for b, n in (await session.execute(_LAST_SEQ, {"bookings": bookings})).all()
    }
    hit = tuple(
        int(f) for f in (await session.execute(_HIT, {"disruption": disruption_id})).scalars()
    )
    rewrites: list[tuple[CreatedOffer, Rewrite]] = []
    for offer, seats in made:
        best = offer.options[0]
        choice = Choice(offer.booking_id, best.option_id, best.flight_ids, best.cabin, seats)
        current = CurrentBooking(
            tuple(active[offer.booking_id]), hit, best.legs[0].origin, last.get(offer.booking_id, 0)
        )
        rewrite = plan_rewrite(choice, current)
        if rewrite is not None:
            rewrites.append((offer, rewrite))
    return rewrites


async def _move_counters(
    session: AsyncSession, rewrites: Sequence[tuple[CreatedOffer, Rewrite]]
) -> None:
    """Commit the chosen legs' holds, release the others', give the replaced seats back: per row, not per booking."""
    commit: dict[Key, int] = defaultdict(int)
    release: dict[Key, int] = defaultdict(int)
    unsell: dict[Key, int] = defaultdict(int)
    for offer, rewrite in rewrites:
        seats = rewrite.choice.seats
        for view in offer.options:
            into = commit if view.option_id == rewrite.choice.option_id else release
            for fid in view.flight_ids:
                into[(fid, view.cabin)] += seats
        for seg in rewrite.replaced:
            unsell[(seg.flight_id, seg.cabin)] += seats
    if session.get_bind().dialect.name == "postgresql":
        held = {
            k: (commit.get(k, 0), -commit.get(k, 0) - release.get(k, 0))
            for k in commit.keys() | release.keys()
        }
        if len(await move_many(session, held)) != len(held):
            raise InventoryInconsistent("a protection's held seats were not all held")
        # Best effort, as a single booking's replaced seats: a counter already short stays as it is.
        await move_many(session, {k: (-n, 0) for k, n in unsell.items()})
        return
    for key in sorted(commit.keys() | release.keys()):
        for seats, move in (
            (commit.get(key, 0), commit_seats),
            (release.get(key, 0), release_seats),
        ):
            if seats and not await move(session, flight_id=key[0], cabin=key[1], seats=seats):
                raise InventoryInconsistent(
                    f"flight {key[0]} cabin {key[1]}: fewer than {seats} seats held"
                )
    for (fid, cabin), seats in sorted(unsell.items()):
        await unsell_seats(session, flight_id=fid, cabin=cabin, seats=seats)


async def _rewrite_segments(session: AsyncSession, rewrites: Sequence[Rewrite]) -> None:
    """Replaced segments HX, later ones moved up, the new legs in: three statements for the whole batch."""
    await session.execute(
        _RETIRE,
        [{"s_id": sid, "chosen": r.choice.option_id} for r in rewrites for sid in r.replaced_ids],
    )
    later = [
        {"b_id": r.choice.booking_id, "after": r.last_seq, "legs": len(r.choice.flight_ids)}
        for r in rewrites
        if r.later
    ]
    if later:
        await session.execute(_SHIFT, later)
    await session.execute(
        insert(segments),
        [
            {
                "booking_id": r.choice.booking_id,
                "flight_id": fid,
                "cabin": r.choice.cabin,
                "seq": seq,
                "status": SegmentStatus.HK.value,
            }
            for r in rewrites
            for fid, seq in zip(r.choice.flight_ids, r.new_seqs, strict=True)
        ],
    )
