"""A flight's story: every update (delay, bigger delay, cancel, reinstate...) moves its one live disruption on.

Each feed's `FlightUpdate` is applied once per (source, message id): in one transaction the
flight's times and status change and the update is recorded `applying`; then the live disruption
of that flight is re-assessed and its conversations follow in priority batches (`replan`), so each
booking keeps one conversation. A booking the flight still disrupts, whose impact changed, gets
`DisruptionUpdated` (its offer superseded, its holds released in the batch that holds the new
offer's, one message saying what changed); one it no longer disrupts gets `OffersWithdrawn` (keep
the flight); one newly hit gets a pending conversation for the fan-out. Booked and closed
conversations are left alone. An update older than the flight's last applied one is ignored and
logged. The same update again after a crash finishes what the first left (see `replan`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from conversations.clock import utcnow
from conversations.engine import Status
from conversations.impact_json import impact_to_json
from conversations.intake import disruption_events
from conversations.intake.replan import APPLYING, replan
from conversations.models import Conversation
from conversations.service import ConversationService
from rebooking_core.allocation import order_for_allocation
from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind
from rebooking_core.impact import (
    DisruptedFlight,
    ImpactedBooking,
    assess,
    assess_impact,
    load_active_segments,
    load_passengers,
)
from rebooking_core.impact_rules import DEFAULT_REBOOK_DELAY_THRESHOLD
from rebooking_core.models import (
    Disruption,
    DisruptionFlight,
    DisruptionUpdate,
    Flight,
    Inventory,
    Segment,
)
from rebooking_core.offers import lower_capacity
from rebooking_core.types import DisruptionKind, FlightStatus

log = logging.getLogger(__name__)

#: Conversations that are over: the disruption settles when all of its conversations are.
TERMINAL = (Status.BOOKED.value, Status.CLOSED.value, Status.OPTED_OUT.value)
DIVERTED = "diverted"


class Outcome(StrEnum):
    APPLIED = "applied"
    #: Nothing about the flight changed: a no-op.
    UNCHANGED = "unchanged"
    #: Older than the last update applied for the flight: ignored.
    STALE = "stale"
    #: This (source, message id) was applied before.
    DUPLICATE = "duplicate"


class InvalidUpdate(ValueError):
    """The update contradicts itself or the schedule (a delay to a time not after it, a time without a zone)."""


@dataclass(frozen=True)
class Applied:
    """What one update did; `created` or `added` mean the caller kicks the disruption's fan-out."""

    outcome: Outcome
    disruption_id: int | None = None
    created: bool = False
    #: Conversations re-offered (one message each), lifted (told to keep their flight) and newly pending.
    updated: int = 0
    withdrawn: int = 0
    added: int = 0
    #: The disruption's conversations are still to follow (`replan`, after the update's transaction commits).
    following: bool = False

    @property
    def needs_fanout(self) -> bool:
        return self.disruption_id is not None and (self.created or self.added > 0)


def _aware(value: dt.datetime | None, name: str) -> None:
    if value is not None and value.tzinfo is None:
        raise InvalidUpdate(f"{name} must carry a time zone (e.g. …Z)")


def validate(update: FlightUpdate, scheduled_departure: dt.datetime | None = None) -> None:
    """Refuse an update that cannot be applied, whatever its source; the schedule when the flight is known."""
    _aware(update.issued_at, "issued_at")
    _aware(update.new_departure, "new_departure")
    _aware(update.new_arrival, "new_arrival")
    if update.kind in (UpdateKind.DELAY, UpdateKind.TIME_CHANGE) and update.new_departure is None:
        raise InvalidUpdate(f"a {update.kind.value} needs new_departure")
    if update.kind is UpdateKind.ARRIVAL and update.new_arrival is None:
        raise InvalidUpdate("an arrival estimate needs new_arrival")
    if update.kind is UpdateKind.EQUIPMENT and not update.capacity:
        raise InvalidUpdate("an equipment change needs the new aircraft's seats per cabin")
    if update.kind is UpdateKind.DIVERSION and not update.diverted_to:
        raise InvalidUpdate("a diversion needs the airport the flight goes to")
    if any(seats < 0 for _, seats in update.capacity):
        raise InvalidUpdate("capacity cannot be negative")
    if update.new_departure is not None and update.new_arrival is not None and update.new_arrival <= update.new_departure:
        raise InvalidUpdate("new_arrival must be after new_departure")
    if scheduled_departure is None or update.new_departure is None:
        return
    if update.kind is UpdateKind.DELAY and update.new_departure <= scheduled_departure:
        raise InvalidUpdate(
            f"a delay must move the departure after the schedule ({scheduled_departure.isoformat()}); "
            "use delay_reduced to go back on time"
        )
    if update.kind is UpdateKind.DELAY_REDUCED and update.new_departure < scheduled_departure:
        raise InvalidUpdate(f"a reduced delay cannot leave before the schedule ({scheduled_departure.isoformat()})")


async def find_flight(s: AsyncSession, ref: FlightRef) -> Flight:
    """The one flight a feed names: by its local service date, or by the UTC date of its scheduled departure.

    A UTC date is at most a day from the local one (the date line included), so the candidates are the
    flight's services a day either side whose scheduled departure falls on that UTC date; should two
    (a schedule change around midnight), the one whose service date is that date too.
    """
    from conversations.intake.ports import UnknownFlight

    same = (Flight.carrier == ref.carrier, Flight.number == ref.number)
    if ref.local:
        found = list((await s.scalars(select(Flight).where(*same, Flight.service_date == ref.date))).all())
    else:
        near = Flight.service_date.between(ref.date - dt.timedelta(days=1), ref.date + dt.timedelta(days=1))
        found = [f for f in (await s.scalars(select(Flight).where(*same, near))).all() if f.dep_utc.date() == ref.date]
        if len(found) > 1:
            found = [f for f in found if f.service_date == ref.date]
    if len(found) != 1:
        basis = "local date" if ref.local else "UTC departure date"
        raise UnknownFlight(f"no flight {ref.carrier}{ref.number} on {ref.date.isoformat()} ({basis})")
    return found[0]


#: Advisory-lock namespace of "one story update of this flight at a time" (PostgreSQL).
STORY_LOCK = 0x72626B02


async def lock_flight(s: AsyncSession, flight_id: int) -> None:
    """PostgreSQL: serialise updates of one flight until commit, so two never open two disruptions (SQLite writes one at a time)."""
    if s.get_bind().dialect.name == "postgresql":
        await s.execute(select(func.pg_advisory_xact_lock(STORY_LOCK, flight_id)))


async def live_disruption(s: AsyncSession, flight_id: int) -> Disruption | None:
    """The flight's one disruption not yet settled (the newest, should an old database hold two)."""
    return (
        await s.scalars(
            select(Disruption)
            .join(DisruptionFlight, DisruptionFlight.disruption_id == Disruption.id)
            .where(DisruptionFlight.flight_id == flight_id, Disruption.status != "settled")
            .order_by(Disruption.id.desc())
            .limit(1)
        )
    ).first()


async def apply_update(service: ConversationService, update: FlightUpdate) -> Applied:
    """Apply one feed update to its flight's story, once; raises UnknownFlight or InvalidUpdate.

    The delay threshold is the service's (`EngineConfig.delay_threshold`).
    """
    validate(update)
    async with service.db.transaction() as s:
        applied = await apply_in(s, service, update)
    return await follow(service, applied)


async def follow(service: ConversationService, applied: Applied) -> Applied:
    """After the update's commit: its disruption's conversations follow it, batch by batch (a no-op unless `following`)."""
    if not applied.following or applied.disruption_id is None:
        return applied
    done = await replan(service, applied.disruption_id)
    if done.updated or done.withdrawn:
        service.wake()
    return replace(applied, updated=done.updated, withdrawn=done.withdrawn, added=done.added, following=done.overtaken)


async def finish_cut_off(service: ConversationService, *, before: dt.datetime) -> int:
    """Finish updates a crash left `applying` since before `before` and no feed sent again (the worker's recovery); how many disruptions."""
    async with service.db.reading() as s:
        left = list(
            (
                await s.scalars(
                    select(DisruptionUpdate.disruption_id)
                    .where(DisruptionUpdate.outcome == APPLYING, DisruptionUpdate.received_at < before)
                    .distinct()
                )
            ).all()
        )
    for disruption_id in left:
        if disruption_id is not None:
            await follow(service, Applied(Outcome.APPLIED, disruption_id, following=True))
    return len(left)


async def apply_in(s: AsyncSession, service: ConversationService, update: FlightUpdate) -> Applied:
    """`apply_update` inside the caller's transaction (the ops API's request for a flight with a live disruption).

    The caller passes the result to `follow` once committed. A disruption an earlier update left
    unfinished (a crash between batches) is followed too, whatever this update comes to.
    """
    applied = await _apply_in(s, service, update)
    if applied.disruption_id is not None and not applied.following:
        unfinished = await s.scalar(
            select(DisruptionUpdate.id)
            .where(DisruptionUpdate.disruption_id == applied.disruption_id, DisruptionUpdate.outcome == APPLYING)
            .limit(1)
        )
        if unfinished is not None:
            applied = replace(applied, following=True)
    return applied


async def _apply_in(s: AsyncSession, service: ConversationService, update: FlightUpdate) -> Applied:
    now = service.clock()
    flight = await find_flight(s, update.flight)
    validate(update, flight.dep_utc)
    await lock_flight(s, flight.id)
    claim = await _claim(s, update, flight.id, now)
    if claim is None:
        previous = (
            await s.execute(
                select(DisruptionUpdate.disruption_id, DisruptionUpdate.outcome).where(
                    DisruptionUpdate.source == update.source, DisruptionUpdate.message_id == update.message_id
                )
            )
        ).one()
        if previous.outcome == APPLYING:  # cut off after its flight moved: finish it now
            return Applied(Outcome.APPLIED, previous.disruption_id, following=True)
        return Applied(Outcome.DUPLICATE, previous.disruption_id)
    row = claim
    last = await s.scalar(
        select(func.max(DisruptionUpdate.issued_at)).where(
            DisruptionUpdate.flight_id == flight.id,
            DisruptionUpdate.id != row.id,
            DisruptionUpdate.outcome.in_([Outcome.APPLIED.value, APPLYING, Outcome.UNCHANGED.value]),
        )
    )
    if last is not None and update.issued_at < last:
        row.outcome = Outcome.STALE.value
        log.warning(
            "flight update older than the last applied one ignored",
            extra={"source": update.source, "message_id": update.message_id, "flight_id": flight.id},
        )
        return Applied(Outcome.STALE)
    disruption = await live_disruption(s, flight.id)
    changed = await _change_flight(s, flight, update, disruption)
    if not changed:
        row.outcome = Outcome.UNCHANGED.value
        row.disruption_id = disruption.id if disruption else None
        if disruption is not None:
            await settle(s, disruption)
        return Applied(Outcome.UNCHANGED, disruption.id if disruption else None)
    disrupts = flight.status in (FlightStatus.CANCELLED.value, FlightStatus.DELAYED.value, DIVERTED) or (
        update.kind is UpdateKind.EQUIPMENT
    ) or update.kind is UpdateKind.TIME_CHANGE
    if disruption is None:
        if not disrupts:
            return Applied(Outcome.APPLIED)
        disruption = Disruption(
            kind=_disruption_kind(flight).value,
            reason=update.reason,
            new_dep_utc=flight.est_dep_utc,
            created_at=now,
        )
        s.add(disruption)
        await s.flush()
        s.add(DisruptionFlight(disruption_id=disruption.id, flight_id=flight.id, capacity=_capacity(update)))
        row.disruption_id = disruption.id
        disruption_events.created(
            s, disruption.id, kind=disruption.kind, reason=disruption.reason, new_departure=disruption.new_dep_utc, flights=[flight], now=now
        )
        return Applied(Outcome.APPLIED, disruption.id, created=True)
    row.disruption_id = disruption.id
    disruption.kind = _disruption_kind(flight).value
    disruption.new_dep_utc = flight.est_dep_utc
    if update.reason:
        disruption.reason = update.reason
    if update.kind is UpdateKind.EQUIPMENT:
        link = await s.get(DisruptionFlight, (disruption.id, flight.id))
        if link is not None:
            link.capacity = _capacity(update)
    disruption_events.updated(s, disruption, flight, update.kind.value, now)
    if disruption.status == "received":
        return Applied(Outcome.APPLIED, disruption.id)  # not assessed yet: the assess job reads the new state
    row.outcome = APPLYING
    return Applied(Outcome.APPLIED, disruption.id, following=True)


async def _claim(s: AsyncSession, update: FlightUpdate, flight_id: int, now: dt.datetime) -> DisruptionUpdate | None:
    """Record the update once per (source, message id); None when it was seen before."""
    seen = (
        await s.scalars(
            select(DisruptionUpdate).where(
                DisruptionUpdate.source == update.source, DisruptionUpdate.message_id == update.message_id
            )
        )
    ).first()
    if seen is not None:
        return None
    row = DisruptionUpdate(
        source=update.source,
        message_id=update.message_id,
        flight_id=flight_id,
        kind=update.kind.value,
        issued_at=update.issued_at,
        received_at=now,
        outcome=Outcome.APPLIED.value,
    )
    s.add(row)
    await s.flush()
    return row


def _capacity(update: FlightUpdate) -> dict[str, int] | None:
    return dict(update.capacity) if update.kind is UpdateKind.EQUIPMENT else None


def _disruption_kind(flight: Flight) -> DisruptionKind:
    if flight.status in (FlightStatus.CANCELLED.value, DIVERTED):
        return DisruptionKind.CANCELLED
    return DisruptionKind.DELAYED


async def _change_flight(s: AsyncSession, flight: Flight, update: FlightUpdate, disruption: Disruption | None) -> bool:
    """Move the flight to what the update says; whether anything changed."""
    before = (flight.status, flight.dep_utc, flight.arr_utc, flight.est_dep_utc, flight.est_arr_utc, flight.destination)
    kind = update.kind
    if kind is UpdateKind.CANCELLATION:
        flight.status = FlightStatus.CANCELLED.value
    elif kind is UpdateKind.DIVERSION:
        flight.status = DIVERTED
    elif kind in (UpdateKind.DELAY, UpdateKind.DELAY_REDUCED, UpdateKind.REINSTATEMENT):
        _estimate(flight, update.new_departure, update.new_arrival)
    elif kind is UpdateKind.TIME_CHANGE:
        assert update.new_departure is not None
        shift = update.new_departure - flight.dep_utc
        flight.arr_utc = update.new_arrival or flight.arr_utc + shift
        flight.dep_utc = update.new_departure
        flight.est_dep_utc = flight.est_arr_utc = None
        if flight.status == FlightStatus.DELAYED.value:
            flight.status = FlightStatus.SCHEDULED.value
    elif kind is UpdateKind.ARRIVAL:
        assert update.new_arrival is not None
        _arrival(flight, update.new_arrival)
    elif kind is UpdateKind.EQUIPMENT:
        return await _change_capacity(s, flight, update, disruption)
    after = (flight.status, flight.dep_utc, flight.arr_utc, flight.est_dep_utc, flight.est_arr_utc, flight.destination)
    return after != before


def _estimate(flight: Flight, new_departure: dt.datetime | None, new_arrival: dt.datetime | None) -> None:
    """New estimated times; none (or the schedule) puts the flight back on time."""
    if new_departure is None or new_departure == flight.dep_utc:
        flight.est_dep_utc = flight.est_arr_utc = None
        flight.status = FlightStatus.SCHEDULED.value
        return
    flight.est_dep_utc = new_departure
    flight.est_arr_utc = new_arrival or flight.arr_utc + (new_departure - flight.dep_utc)
    flight.status = FlightStatus.DELAYED.value


def _arrival(flight: Flight, arrival: dt.datetime) -> None:
    """A new arrival estimate, the departure as it was: later than the schedule delays the flight, else it is on time again."""
    if flight.status in (FlightStatus.CANCELLED.value, DIVERTED):
        flight.est_arr_utc = arrival
        return
    if arrival > flight.arr_utc:
        flight.est_arr_utc = arrival
        flight.status = FlightStatus.DELAYED.value
    elif flight.est_dep_utc is None:
        flight.est_arr_utc = None
        flight.status = FlightStatus.SCHEDULED.value
    else:
        flight.est_arr_utc = arrival


async def _change_capacity(s: AsyncSession, flight: Flight, update: FlightUpdate, disruption: Disruption | None) -> bool:
    """A smaller (or larger) aircraft: capacity goes as low as the seats sold and held allow (the overflow moves later)."""
    changed = False
    for cabin, seats in update.capacity:
        inv = await s.get(Inventory, (flight.id, cabin))
        if inv is None:
            s.add(Inventory(flight_id=flight.id, cabin=cabin, capacity=seats, sold=0, held=0))
            changed = True
            continue
        if inv.capacity != seats:
            changed = True
        await lower_capacity(s, flight_id=flight.id, cabin=cabin, target=seats)
    if disruption is not None:
        link = await s.get(DisruptionFlight, (disruption.id, flight.id))
        if link is not None and link.capacity != dict(update.capacity):
            changed = True
    return changed


class Cause(StrEnum):
    """Why the flight's story hits one booking: what its conversation says, and what counts as news to it.

    The disruption is the flight's (one live conversation per booking and flight); the cause is the
    booking's. A cancellation or diversion hits everyone aboard; an equipment change hits only the
    overflow; a delay hits those it makes late past the threshold or whose connection it breaks.
    A change of a booking's cause is news to it; a change that leaves it alone (a delay of the flight
    an overflow booking is moved off, a smaller aircraft that still has its seat) is not.
    """

    CANCELLED = "cancelled"
    DIVERTED = "diverted"
    OVERFLOW = "overflow"
    DELAYED = "delayed"


class Spill(dict[int, tuple[int, str, int]]):
    """Overflow bookings of an equipment change -> (flight, cabin, new capacity); and the disruption's diverted flights."""

    diverted: frozenset[int] = frozenset()


def cause_of(impacted: ImpactedBooking, spilled: Spill) -> Cause:
    if impacted.booking_id in spilled:
        return Cause.OVERFLOW
    if impacted.disrupted_flight_id in spilled.diverted:
        return Cause.DIVERTED
    return Cause.CANCELLED if impacted.kind is DisruptionKind.CANCELLED else Cause.DELAYED


def impact_json(impacted: ImpactedBooking, spilled: Spill, disruption: Disruption) -> dict[str, Any]:
    """The impact as a conversation keeps it, with its cause: a delay's expected departure (a new one is news to the
    passenger), and for an overflow booking the capacity its move lets shrink."""
    out = impact_to_json(impacted)
    cause = cause_of(impacted, spilled)
    out["cause"] = cause.value
    if cause is Cause.DELAYED and disruption.new_dep_utc is not None:
        out["expected_departure"] = disruption.new_dep_utc.isoformat()
    if cause is Cause.OVERFLOW:
        out["capacity_target"] = list(spilled[impacted.booking_id])
    return out


def new_rows(
    disruption: Disruption, impacted: list[ImpactedBooking], now: dt.datetime, spilled: Spill
) -> list[dict[str, Any]]:
    """Pending conversations for bookings the disruption now hits, lowest priority last."""
    return [
        {
            "disruption_id": disruption.id,
            "booking_id": i.booking_id,
            "flight_id": i.disrupted_flight_id,
            "origin": i.rebook_from,
            "passenger_id": i.contact_passenger_id,
            "passengers": i.passengers,
            "tier": i.tier,
            "priority": len(impacted) - rank,
            "status": Status.PENDING.value,
            "version": 0,
            "locale": locales.negotiate(i.language),
            "impact": impact_json(i, spilled, disruption),
            "window_open_until": {},
            "reminders_sent": 0,
            "created_at": now,
            "updated_at": now,
        }
        for rank, i in enumerate(impacted)
    ]


async def impacted_now(
    s: AsyncSession,
    disruption: Disruption,
    *,
    now: dt.datetime,
    delay_threshold: dt.timedelta = DEFAULT_REBOOK_DELAY_THRESHOLD,
) -> tuple[list[ImpactedBooking], Spill]:
    """Who the disruption hits today: the impact rules, plus an equipment change's overflow, lowest priority first.

    An overflow booking is hit by the smaller aircraft even when a delay hits it too (it cannot fly at
    all); a cancelled or diverted flight hits everyone, so it has no overflow. The second value maps
    each overflow booking to (flight, cabin, new capacity) and names the diverted flights.
    """
    impacted = await assess_impact(s, disruption_id=disruption.id, now=now, rebook_delay_threshold=delay_threshold)
    links = (await s.scalars(select(DisruptionFlight).where(DisruptionFlight.disruption_id == disruption.id))).all()
    statuses = dict(
        (await s.execute(select(Flight.id, Flight.status).where(Flight.id.in_([link.flight_id for link in links])))).all()
    )
    spilled = Spill()
    spilled.diverted = frozenset(f for f, status in statuses.items() if status == DIVERTED)
    grounded = (FlightStatus.CANCELLED.value, DIVERTED)
    moved: list[ImpactedBooking] = []
    for link in links:
        if link.capacity and statuses.get(link.flight_id) not in grounded:
            for i in await overflow(s, disruption, link.flight_id, link.capacity, now=now):
                spilled[i.booking_id] = (link.flight_id, i.cabin, link.capacity[i.cabin])
                moved.append(i)
    return [i for i in impacted if i.booking_id not in spilled] + moved, spilled


async def overflow(
    s: AsyncSession, disruption: Disruption, flight_id: int, capacity: dict[str, int], *, now: dt.datetime
) -> list[ImpactedBooking]:
    """The bookings a smaller aircraft leaves behind: per cabin, the lowest `order_for_allocation` priority first,
    whole bookings, until the ones left fit (bookings already moved off the flight no longer count)."""
    on_flight = select(Segment.booking_id).where(
        Segment.flight_id == flight_id, Segment.status.in_(("HK", "TK"))
    )
    segments = await load_active_segments(s, booking_ids=on_flight)
    passengers = await load_passengers(s, booking_ids=on_flight)
    everyone = assess(
        disrupted={flight_id: DisruptedFlight(flight_id, cancelled=True)},
        segments=segments,
        passengers=passengers,
        now=now,
        disruption_id=disruption.id,
        reason=disruption.reason,
    )
    chosen: list[ImpactedBooking] = []
    for cabin, seats in capacity.items():
        in_cabin = [i for i in order_for_allocation(everyone) if i.cabin == cabin]
        booked = sum(i.passengers for i in in_cabin)
        for i in reversed(in_cabin):
            if booked <= seats:
                break
            chosen.append(i)
            booked -= i.passengers
    return chosen


async def settle_finished(s: AsyncSession, now: dt.datetime | None = None) -> None:
    """Every offering disruption whose conversations are all over moves to `settled` (one statement, for ops reads
    and the worker's sweep), each with its `disruption.settled` event."""
    live = (
        select(Conversation.id)
        .where(Conversation.disruption_id == Disruption.id, Conversation.status.not_in(TERMINAL))
        .exists()
    )
    done = await s.scalars(
        sa_update(Disruption)
        .where(Disruption.status == "offering", ~live)
        .values(status="settled")
        .returning(Disruption.id)
        .execution_options(synchronize_session=False)
    )
    disruption_events.settled(s, done.all(), now or utcnow())


async def settle(s: AsyncSession, disruption: Disruption) -> bool:
    """Status `settled` once every conversation is over (booked, closed, opted out); whether it is."""
    if disruption.status not in ("offering", "settled"):
        return False
    live = await s.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.disruption_id == disruption.id, Conversation.status.not_in(TERMINAL))
    )
    if not live and disruption.status != "settled":
        disruption_events.settled(s, [disruption.id], utcnow())
    disruption.status = "offering" if live else "settled"
    return not live
