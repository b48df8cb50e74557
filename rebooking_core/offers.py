"""Offers: a booking's best alternatives, each with its seats held until chosen or expired.

Invariant that keeps the seat-hold rows and the inventory counters in step: every change of a
hold's status goes through a guarded change of its offer's status first
(``UPDATE offers ... WHERE status = 'open'``): accept (`rebooking_core.booking`), supersede or
expire. The offer row lock serialises them, so exactly one of them releases or commits a hold.
Functions here never commit; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core import eu261
from rebooking_core.impact import ImpactedBooking
from rebooking_core.inventory import hold_many, hold_seats, release_seats
from rebooking_core.models import (
    OFFER_OPTIONS,
    OFFERS,
    SEAT_HOLDS,
    Inventory,
    Offer,
    OfferOption,
    SeatHold,
)
from rebooking_core.network import Leg, NetworkSnapshot
from rebooking_core.options import Itinerary, find_itineraries
from rebooking_core.ranking import DEFAULT_WEIGHTS, RankedOption, RankingWeights, rank
from rebooking_core.types import DisruptionKind, HoldStatus

__all__ = [
    "CreatedOffer",
    "InventoryInconsistent",
    "OfferStatus",
    "OptionView",
    "PlannedOffer",
    "create_offer",
    "hold_planned",
    "persist_planned",
    "plan_offer",
    "expire_offers",
    "lower_capacity",
    "release_holds",
    "supersede_offer",
    "supersede_offers",
]


class OfferStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


class InventoryInconsistent(RuntimeError):
    """A held seat-hold row had no matching held seats: a bug or a manual edit, never ignored."""


@dataclass(frozen=True)
class OptionView:
    """What the conversation shows for one held option."""

    option_id: int
    rank: int
    flight_ids: tuple[int, ...]
    legs: tuple[Leg, ...]
    dep_utc: dt.datetime
    arr_utc: dt.datetime
    stops: int
    cabin: str
    cabin_change: bool
    arrival_delay_min: int
    eu261_eur: int


@dataclass(frozen=True)
class CreatedOffer:
    offer_id: int
    booking_id: int
    expires_at: dt.datetime
    options: tuple[OptionView, ...]


def _eu261(
    impacted: ImpactedBooking,
    it: Itinerary,
    *,
    now: dt.datetime,
    disruption_kind: DisruptionKind | str,
    reason_code: str | None,
    carrier_is_eu: bool,
) -> eu261.Eu261Outcome:
    original_departure = impacted.original_departure
    notice = (
        max(dt.timedelta(0), original_departure - now)
        if original_departure is not None
        else dt.timedelta(0)
    )
    try:
        return eu261.compensation(
            origin=impacted.journey_origin or impacted.rebook_from,
            destination=impacted.destination,
            carrier_is_eu=carrier_is_eu,
            disruption_kind=disruption_kind,
            reason_code=reason_code,
            original_arrival=impacted.original_arrival,
            new_arrival=it.arr_utc,
            notice=notice,
            original_departure=original_departure,
            new_departure=it.dep_utc,
        )
    except KeyError:
        return eu261.Eu261Outcome(eligible=False, amount_eur=0, basis="unknown_airport")


async def _hold_itinerary(
    session: AsyncSession, snapshot: NetworkSnapshot, it: Itinerary, seats: int
) -> bool:
    """Hold `seats` on every leg or on none (legs in flight-id order, so locks never cross)."""
    done: list[int] = []
    for fid in sorted(it.flight_ids):
        if not await hold_seats(session, flight_id=fid, cabin=it.cabin, seats=seats):
            snapshot.mark_short(fid, it.cabin, seats)
            for got in done:
                await _release(session, fid=got, cabin=it.cabin, seats=seats)
            return False
        done.append(fid)
    return True


def _ranked(
    impacted: ImpactedBooking,
    snapshot: NetworkSnapshot,
    *,
    now: dt.datetime,
    disruption_kind: DisruptionKind | str,
    reason_code: str | None,
    carrier_is_eu: bool,
    weights: RankingWeights,
) -> tuple[list[RankedOption], dict[Itinerary, eu261.Eu261Outcome]]:
    candidates = find_itineraries(
        snapshot,
        origin=impacted.rebook_from,
        destination=impacted.destination,
        not_before=impacted.not_before,
        seats=impacted.passengers,
        cabin=impacted.cabin,
        exclude_flight_ids=frozenset(impacted.replaced_flight_ids),
    )
    outcomes = {
        it: _eu261(
            impacted,
            it,
            now=now,
            disruption_kind=disruption_kind,
            reason_code=reason_code,
            carrier_is_eu=carrier_is_eu,
        )
        for it in candidates
    }
    ranked = rank(
        candidates,
        original_arrival=impacted.original_arrival,
        cabin=impacted.cabin,
        weights=weights,
        eu261_amount=lambda it: outcomes[it].amount_eur,
        preferences=impacted.preferences,
    )
    return ranked, outcomes


class _Picker:
    """Which ranked options a booking gets: no shared flight, extras only above the reserve."""

    def __init__(self, snapshot: NetworkSnapshot, seats: int, max_options: int, extra_reserve: int) -> None:
        self.snapshot = snapshot
        self.seats = seats
        self.max_options = max_options
        self.extra_reserve = extra_reserve
        self.chosen: list[RankedOption] = []
        self.used: set[int] = set()

    @property
    def full(self) -> bool:
        return len(self.chosen) >= self.max_options

    def wants(self, option: RankedOption) -> bool:
        it = option.itinerary
        if self.used.intersection(it.flight_ids):
            return False
        needed = self.seats + (self.extra_reserve if self.chosen else 0)
        return all(self.snapshot.free(fid, it.cabin) >= needed for fid in it.flight_ids)

    def candidates(self, ranked: list[RankedOption]) -> Iterator[RankedOption]:
        """Best first, each checked against what was accepted before it (lazily, so accept between steps)."""
        for option in ranked:
            if self.full:
                return
            if self.wants(option):
                yield option

    def accept(self, option: RankedOption) -> None:
        """Chosen (and held, on the per-booking path): its seats count as gone in the snapshot."""
        self.chosen.append(option)
        self.used.update(option.itinerary.flight_ids)
        for fid in option.itinerary.flight_ids:
            self.snapshot.take(fid, option.itinerary.cabin, self.seats)


#: Ranked options and their EU261 outcomes by search key, shared by one batch's bookings.
RankingCache = dict[tuple[Any, ...], tuple[list[RankedOption], dict[Itinerary, eu261.Eu261Outcome]]]


@dataclass(frozen=True)
class PlannedOffer:
    """Options chosen in memory for one booking, before the database is asked for the seats."""

    impacted: ImpactedBooking
    options: tuple[RankedOption, ...]
    outcomes: dict[Itinerary, eu261.Eu261Outcome]

    def seats_by_leg(self) -> dict[tuple[int, str], int]:
        wanted: dict[tuple[int, str], int] = defaultdict(int)
        for option in self.options:
            for fid in option.itinerary.flight_ids:
                wanted[(fid, option.itinerary.cabin)] += self.impacted.passengers
        return wanted


def plan_offer(
    impacted: ImpactedBooking,
    snapshot: NetworkSnapshot,
    *,
    now: dt.datetime,
    disruption_kind: DisruptionKind | str,
    reason_code: str | None,
    carrier_is_eu: bool = True,
    max_options: int = 3,
    weights: RankingWeights = DEFAULT_WEIGHTS,
    extra_reserve: int = 0,
    cache: RankingCache | None = None,
) -> PlannedOffer | None:
    """Pure: pick options against the snapshot and count their seats as taken in it.

    The caller then holds all planned seats at once with `hold_planned` and records them with
    `persist_planned`; `create_offer` is the same for one booking, holding as it picks. Bookings
    of one batch that share a route, party size and original times share one search through
    `cache` (seats only dwindle within a batch, and every pick re-checks what is still free).
    """
    ranked, outcomes = _search(
        impacted,
        snapshot,
        now=now,
        disruption_kind=disruption_kind,
        reason_code=reason_code,
        carrier_is_eu=carrier_is_eu,
        weights=weights,
        cache=cache,
    )
    picker = _Picker(snapshot, impacted.passengers, max_options, extra_reserve)
    for option in picker.candidates(ranked):
        picker.accept(option)
    return _planned(impacted, picker, outcomes)


def _search(
    impacted: ImpactedBooking,
    snapshot: NetworkSnapshot,
    *,
    now: dt.datetime,
    disruption_kind: DisruptionKind | str,
    reason_code: str | None,
    carrier_is_eu: bool,
    weights: RankingWeights,
    cache: RankingCache | None,
) -> tuple[list[RankedOption], dict[Itinerary, eu261.Eu261Outcome]]:
    """The booking's ranked itineraries and their EU261 outcomes, from `cache` when a batch already searched them."""
    key = (
        impacted.rebook_from,
        impacted.destination,
        impacted.not_before,
        impacted.cabin,
        impacted.passengers,
        impacted.original_arrival,
        impacted.original_departure,
        impacted.journey_origin,
        tuple(impacted.replaced_flight_ids),
        impacted.preferences,
    )
    found = cache.get(key) if cache is not None else None
    if found is None:
        found = _ranked(
            impacted,
            snapshot,
            now=now,
            disruption_kind=disruption_kind,
            reason_code=reason_code,
            carrier_is_eu=carrier_is_eu,
            weights=weights,
        )
        if cache is not None:
            cache[key] = found
    return found


def _planned(
    impacted: ImpactedBooking, picker: _Picker, outcomes: dict[Itinerary, eu261.Eu261Outcome]
) -> PlannedOffer | None:
    return PlannedOffer(impacted, tuple(picker.chosen), outcomes) if picker.chosen else None


async def hold_planned(session: AsyncSession, plans: Iterable[PlannedOffer]) -> bool:
    """Hold every planned seat at once (see `inventory.hold_many`), or report False.

    On False some counters may already have moved: the caller must roll the transaction back.
    """
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for plan in plans:
        for key, seats in plan.seats_by_leg().items():
            totals[key] += seats
    return await hold_many(session, totals)


async def persist_planned(
    session: AsyncSession, plans: list[PlannedOffer], *, now: dt.datetime, hold_ttl: dt.timedelta
) -> list[CreatedOffer]:
    """Record many held offers with three bulk INSERTs (offers, options, holds)."""
    if not plans:
        return []
    expires_at = now + hold_ttl
    offer_ids = list(
        (
            await session.execute(
                insert(OFFERS).returning(OFFERS.c.id, sort_by_parameter_order=True),
                [
                    {
                        "disruption_id": p.impacted.disruption_id,
                        "booking_id": p.impacted.booking_id,
                        "seats": p.impacted.passengers,
                        "status": OfferStatus.OPEN.value,
                        "created_at": now,
                        "expires_at": expires_at,
                    }
                    for p in plans
                ],
            )
        ).scalars()
    )
    option_rows: list[dict[str, Any]] = [
        {
            "offer_id": offer_id,
            "rank": n,
            "flight_ids": list(o.itinerary.flight_ids),
            "cabin": o.itinerary.cabin,
            "dep_utc": o.itinerary.dep_utc,
            "arr_utc": o.itinerary.arr_utc,
            "arrival_delay_min": o.arrival_delay_min,
            "stops": o.itinerary.stops,
            "score": o.score,
            "eu261_eur": o.eu261_eur,
            "eu261_basis": p.outcomes[o.itinerary].basis,
        }
        for offer_id, p in zip(offer_ids, plans, strict=True)
        for n, o in enumerate(p.options, start=1)
    ]
    option_ids = list(
        (
            await session.execute(
                insert(OFFER_OPTIONS).returning(OFFER_OPTIONS.c.id, sort_by_parameter_order=True), option_rows
            )
        ).scalars()
    )
    await session.execute(
        insert(SEAT_HOLDS),
        [
            {
                "option_id": option_id,
                "flight_id": fid,
                "cabin": row["cabin"],
                "seats": seats,
                "status": HoldStatus.HELD.value,
                "expires_at": expires_at,
            }
            for option_id, row, seats in zip(
                option_ids,
                option_rows,
                [p.impacted.passengers for p in plans for _ in p.options],
                strict=True,
            )
            for fid in row["flight_ids"]
        ],
    )
    created: list[CreatedOffer] = []
    ids = iter(option_ids)
    for offer_id, p in zip(offer_ids, plans, strict=True):
        created.append(
            CreatedOffer(
                offer_id=offer_id,
                booking_id=p.impacted.booking_id,
                expires_at=expires_at,
                options=tuple(_view(next(ids), n, o) for n, o in enumerate(p.options, start=1)),
            )
        )
    return created


def _view(option_id: int, rank_: int, o: RankedOption) -> OptionView:
    return OptionView(
        option_id=option_id,
        rank=rank_,
        flight_ids=o.itinerary.flight_ids,
        legs=o.itinerary.legs,
        dep_utc=o.itinerary.dep_utc,
        arr_utc=o.itinerary.arr_utc,
        stops=o.itinerary.stops,
        cabin=o.itinerary.cabin,
        cabin_change=o.itinerary.cabin_change,
        arrival_delay_min=o.arrival_delay_min,
        eu261_eur=o.eu261_eur,
    )


async def create_offer(
    session: AsyncSession,
    *,
    impacted: ImpactedBooking,
    snapshot: NetworkSnapshot,
    now: dt.datetime,
    disruption_kind: DisruptionKind | str,
    reason_code: str | None,
    carrier_is_eu: bool = True,
    max_options: int = 3,
    hold_ttl: dt.timedelta = dt.timedelta(minutes=30),
    weights: RankingWeights = DEFAULT_WEIGHTS,
    extra_reserve: int = 0,
) -> CreatedOffer | None:
    """Hold seats for up to `max_options` of the best alternatives and record the offer.

    The planned path for a batch of one, except that each option's seats are held as it is
    picked: a seat taken meanwhile costs that option, not the offer (a batch replans instead).
    Options share no flight, so one booking never holds two seats' worth on one leg. The first
    option protects the passenger; further options are a choice, held only where at least
    `extra_reserve` seats stay free afterwards, so one booking's extras never take the only seat
    a later booking could get. Returns None when nothing could be held; the caller escalates.
    """
    ranked, outcomes = _search(
        impacted,
        snapshot,
        now=now,
        disruption_kind=disruption_kind,
        reason_code=reason_code,
        carrier_is_eu=carrier_is_eu,
        weights=weights,
        cache=None,
    )
    picker = _Picker(snapshot, impacted.passengers, max_options, extra_reserve)
    for option in picker.candidates(ranked):
        if await _hold_itinerary(session, snapshot, option.itinerary, impacted.passengers):
            picker.accept(option)
    plan = _planned(impacted, picker, outcomes)
    if plan is None:
        return None
    [created] = await persist_planned(session, [plan], now=now, hold_ttl=hold_ttl)
    return created


async def _release(session: AsyncSession, *, fid: int, cabin: str, seats: int) -> None:
    if not await release_seats(session, flight_id=fid, cabin=cabin, seats=seats):
        raise InventoryInconsistent(f"flight {fid} cabin {cabin}: fewer than {seats} seats held")


async def release_holds(session: AsyncSession, *, option_ids: Iterable[int] | Select[Any]) -> int:
    """Release every still-held hold of these options; returns how many hold rows it released.

    Call it only after winning the offer's status guard (see the module docstring).
    """
    ids: list[int] | Select[Any] = (
        option_ids if isinstance(option_ids, Select) else list(option_ids)
    )
    stmt = (
        update(SeatHold)
        .where(SeatHold.option_id.in_(ids), SeatHold.status == HoldStatus.HELD.value)
        .values(status=HoldStatus.RELEASED.value)
        .returning(SeatHold.flight_id, SeatHold.cabin, SeatHold.seats)
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(stmt)).all()
    totals: dict[tuple[int, str], int] = defaultdict(int)
    for fid, cabin, seats in rows:
        totals[(fid, cabin)] += seats
    for (fid, cabin), seats in sorted(totals.items()):
        await _release(session, fid=fid, cabin=cabin, seats=seats)
    return len(rows)


def _options_of(offer_ids: Iterable[int] | Select[Any]) -> Select[Any]:
    ids = offer_ids if isinstance(offer_ids, Select) else list(offer_ids)
    return select(OfferOption.id).where(OfferOption.offer_id.in_(ids))


async def supersede_offer(session: AsyncSession, *, offer_id: int) -> bool:
    """Retire an open offer (a fresher one replaces it) and free its seats; False if not open."""
    return bool(await supersede_offers(session, [offer_id]))


async def supersede_offers(session: AsyncSession, offer_ids: Iterable[int]) -> set[int]:
    """Retire many open offers at once and free their seats (two statements and one per leg); the ids that were open."""
    ids = list(offer_ids)
    if not ids:
        return set()
    result = await session.execute(
        update(Offer)
        .where(Offer.id.in_(ids), Offer.status == OfferStatus.OPEN.value)
        .values(status=OfferStatus.SUPERSEDED.value)
        .returning(Offer.id)
        .execution_options(synchronize_session=False)
    )
    retired = set(result.scalars())
    if retired:
        await release_holds(session, option_ids=_options_of(sorted(retired)))
    return retired


async def expire_offers(session: AsyncSession, *, now: dt.datetime, limit: int = 500) -> int:
    """Expire up to `limit` open offers past their deadline and free their seats.

    On PostgreSQL concurrent sweepers skip each other's rows (SKIP LOCKED); the guarded UPDATE
    makes a second sweep of the same offer a no-op on every database.
    """
    due = (
        select(Offer.id)
        .where(Offer.status == OfferStatus.OPEN.value, Offer.expires_at <= now)
        .order_by(Offer.expires_at, Offer.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return 0
    result = await session.execute(
        update(Offer)
        .where(Offer.id.in_(ids), Offer.status == OfferStatus.OPEN.value)
        .values(status=OfferStatus.EXPIRED.value)
        .returning(Offer.id)
        .execution_options(synchronize_session=False)
    )
    expired = list(result.scalars())
    if expired:
        await release_holds(session, option_ids=_options_of(expired))
    return len(expired)


async def lower_capacity(session: AsyncSession, *, flight_id: int, cabin: str, target: int) -> None:
    """Set a cabin's capacity to `target`, or as near as the seats sold and held allow (the no-oversell CHECK).

    An equipment change calls it at once, and each overflow booking's move calls it again: the
    capacity follows the seats the bookings before it gave back (on PostgreSQL a booking gives
    its seats back at commit, so the last one's wait for the next call).
    """
    used = Inventory.sold + Inventory.held
    await session.execute(
        update(Inventory)
        .where(Inventory.flight_id == flight_id, Inventory.cabin == cabin)
        .values(capacity=case((used > target, used), else_=target))
        .execution_options(synchronize_session=False)
    )
