"""Care for passengers of a delayed flight who have no conversation: a delay below the notification threshold still owes a meal.

A delay shorter than `REBOOK_DELAY_THRESHOLD_MINUTES` opens no conversation and no claim, yet
EU261 Art. 6(1)(a) and Art. 9 owe a meal from 2 h on a short flight. This sweep pages (by
segment id) through bookings held (HK) on a flight with a live delay disruption and a known new
departure inside the issuing window, for which no conversation exists, and asks the rights engine
(`rebooking_core.claims.decide`, the claims path's function) what care each booking is owed, with
the operating carrier's licence (`Carriers`). Vouchers go through `rebooking_core.care.vouchers.issue`
with the same unique key as the conversation sweep, so a passenger whose delay later grows past
the threshold (and who then gets a conversation, on the same live disruption) is never issued a
voucher twice. Each batch of a booking's new vouchers is one passenger-level outbox row (no
conversation; the booking's contact), keyed by its first voucher; consent is checked at send.
A page is a handful of queries whatever the flight's size: no round trip per passenger.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.care_sweep import Swept, voucher_params
from conversations.engine import MessageKind
from conversations.models import OUTBOX, Conversation
from conversations.outbox.rows import passenger_row
from infra.db import insert_ignore
from rebooking_core import airports, claims
from rebooking_core.care.models import CareVoucher
from rebooking_core.care.policy import CarePolicy
from rebooking_core.care.ports import HotelInventory
from rebooking_core.care.thresholds import CareKind
from rebooking_core.care.vouchers import Waiting, issue
from rebooking_core.impact_rules import ImpactedBooking
from rebooking_core.models import Disruption, DisruptionFlight, Flight, Passenger, Segment
from rebooking_core.rights.carriers import Carriers
from rebooking_core.rights.facts import Reroute
from rebooking_core.types import DisruptionKind

__all__ = ["sweep_care_below"]

_HELD = "HK"


def _new_departure() -> Any:
    """The flight's estimate, else the disruption's new time."""
    return func.coalesce(Flight.est_dep_utc, Disruption.new_dep_utc)


def _page(now: dt.datetime, lead: dt.timedelta, after: int, limit: int) -> Select[*tuple[Any, ...]]:
    """Held segments, by id, on a flight with a live delay whose new departure is inside the issuing window, with no conversation."""
    return (
        select(Segment.id, Segment.booking_id, Flight.id, Disruption.id)
        .join(Flight, Flight.id == Segment.flight_id)
        .join(DisruptionFlight, DisruptionFlight.flight_id == Flight.id)
        .join(Disruption, Disruption.id == DisruptionFlight.disruption_id)
        .where(
            Segment.id > after,
            Segment.status == _HELD,
            Disruption.kind == DisruptionKind.DELAYED.value,
            Disruption.status != "settled",
            Flight.status != "cancelled",
            Flight.dep_utc <= now + lead,
            _new_departure() > now,
            ~exists().where(
                and_(
                    Conversation.disruption_id == Disruption.id,
                    Conversation.booking_id == Segment.booking_id,
                )
            ),
        )
        .order_by(Segment.id, Disruption.id.desc())
        .limit(limit)
    )


def _night(at: dt.datetime, airport: str) -> dt.date:
    """The local date at the waiting airport (UTC when the airport or its zone is unknown)."""
    try:
        zone = ZoneInfo(airports.get(airport).tz)
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).date()


async def sweep_care_below(
    s: AsyncSession,
    *,
    now: dt.datetime,
    policy: CarePolicy,
    hotels: Callable[[AsyncSession], HotelInventory],
    carriers: Carriers,
    after: int = 0,
    limit: int = 500,
) -> tuple[Swept, int | None]:
    """Issue and announce the vouchers due to the bookings of up to `limit` held segments after `after` that have no conversation.

    Returns the report and where the next page starts (None: done).
    """
    page = (await s.execute(_page(now, policy.lead, after, limit))).all()
    if not page:
        return Swept(), None
    chosen: dict[int, tuple[int, int, int]] = {}
    for segment_id, booking_id, flight_id, disruption_id in page:
        chosen.setdefault(int(segment_id), (int(booking_id), int(flight_id), int(disruption_id)))
    bookings = sorted({b for b, _, _ in chosen.values()})
    flights = {
        f.id: f
        for f in await s.scalars(select(Flight).where(Flight.id.in_({f for _, f, _ in chosen.values()})))
    }
    disruptions = {
        d.id: d
        for d in await s.scalars(select(Disruption).where(Disruption.id.in_({d for _, _, d in chosen.values()})))
    }
    people: dict[int, list[Passenger]] = defaultdict(list)
    for p in await s.scalars(
        select(Passenger)
        .where(Passenger.booking_id.in_(bookings), Passenger.erased_at.is_(None))
        .order_by(Passenger.id)
    ):
        people[p.booking_id].append(p)
    journeys: dict[int, list[Flight]] = defaultdict(list)
    for booking_id, flight in await s.execute(
        select(Segment.booking_id, Flight)
        .join(Flight, Flight.id == Segment.flight_id)
        .where(Segment.booking_id.in_(bookings), Segment.status == _HELD)
        .order_by(Segment.booking_id, Segment.seq)
    ):
        journeys[int(booking_id)].append(flight)
    swept = Swept(passengers=sum(len(people[b]) for b in bookings))
    waiting: list[Waiting] = []
    contacts: dict[tuple[int, int], tuple[int, int]] = {}
    for booking_id, flight_id, disruption_id in chosen.values():
        flight, disruption, party = flights[flight_id], disruptions[disruption_id], people[booking_id]
        new_departure = flight.est_dep_utc or disruption.new_dep_utc
        if not party or new_departure is None:
            continue
        journey = journeys[booking_id] or [flight]
        delay = new_departure - flight.dep_utc
        last = journey[-1]
        impacted = _impacted(booking_id, party, flight, disruption, journey)
        arrival = (flight.est_arr_utc or flight.arr_utc + delay) if last.id == flight.id else last.arr_utc + delay
        licence = carriers.licence_of(flight.carrier)
        outcome = claims.decide(impacted, disruption, licence, carriers.size, Reroute(arrival=arrival, departure=new_departure))
        if outcome.regime == "none" or outcome.care.meals_after is None:
            continue
        contact = next((p for p in party if p.is_contact), party[0])
        contacts[disruption_id, booking_id] = (contact.id, flight.id)
        waiting.extend(
            Waiting(
                passenger_id=p.id,
                booking_id=booking_id,
                disruption_id=disruption_id,
                airport=flight.origin,
                regime=outcome.regime,
                currency=outcome.currency,
                care=outcome.care,
                scheduled_departure=flight.dep_utc,
                new_departure=new_departure,
                night=_night(flight.dep_utc, flight.origin),
            )
            for p in party
        )
    issued = await issue(s, waiting, policy=policy, hotels=hotels(s), now=now)
    swept.vouchers = len(issued)
    by_booking: dict[tuple[int, int], list[CareVoucher]] = defaultdict(list)
    for v in issued:
        by_booking[v.disruption_id, v.booking_id].append(v)
        if v.kind == CareKind.HOTEL.value and v.hotel is None:
            swept.at_desk[v.airport] += 1
    for key, vouchers in by_booking.items():
        contact_id, flight_id = contacts[key]
        params = {**voucher_params(vouchers), "flight_id": flight_id}
        row = passenger_row(contact_id, MessageKind.CARE_VOUCHER, now, params=params, once=f"care-v{vouchers[0].id}")
        swept.messages += await insert_ignore(s, OUTBOX, row)
    return swept, (max(chosen) if len(page) == limit else None)


def _impacted(
    booking_id: int, party: list[Passenger], flight: Flight, disruption: Disruption, journey: list[Flight]
) -> ImpactedBooking:
    """The booking as the rights engine sees it: the whole journey, the delayed flight's origin and scheduled times."""
    contact = next((p for p in party if p.is_contact), party[0])
    return ImpactedBooking(
        booking_id=booking_id,
        locator="",
        passengers=len(party),
        contact_passenger_id=contact.id,
        tier=0,
        language=contact.language,
        has_ssr=False,
        group=False,
        cabin="Y",
        rebook_from=flight.origin,
        destination=journey[-1].destination,
        not_before=flight.dep_utc,
        original_arrival=journey[-1].arr_utc,
        replaced_segment_ids=(),
        missed_connection=False,
        disrupted_flight_id=flight.id,
        reason=disruption.reason,
        disruption_id=disruption.id,
        kind=DisruptionKind.DELAYED,
        journey_origin=journey[0].origin,
        original_departure=flight.dep_utc,
    )
