"""The rules of which bookings a disruption hits, and from where to when each must be rebooked (pure).

`assess` takes the rows `rebooking_core.impact` loads and applies the rules:

- a CANCELLED flight: its segment and every later segment of the journey are replaced; the new
  itinerary starts at that segment's origin, not before its scheduled departure (or now);
- a DELAYED flight followed in the journey by a segment departing before the estimated arrival
  plus the minimum connecting time: a missed connection; the later segments are replaced from the
  delayed flight's destination, not before its estimated arrival plus MCT;
- a DELAYED flight that ends the journey: impacted only when the arrival delay reaches
  `rebook_delay_threshold`; its segment is replaced from its origin.

A journey is a run of active (HK/TK) segments that connect (each leaves where the previous one
arrived, within 24 h, without returning to the journey's start), so a return trip is not
rebooked with the outbound. One impact per booking: its earliest hit journey, and in it the
earliest replaced segment.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rebooking_core.preferences import NO_PREFERENCES, Preferences
from rebooking_core.types import DisruptionKind, SegmentStatus

__all__ = [
    "ACTIVE_SEGMENT_STATUSES",
    "DEFAULT_MCT",
    "DEFAULT_REBOOK_DELAY_THRESHOLD",
    "GROUP_SIZE",
    "STOPOVER",
    "DisruptedFlight",
    "ImpactedBooking",
    "PassengerRow",
    "SegmentRow",
    "assess",
    "journeys",
    "segments_to_replace",
]

ACTIVE_SEGMENT_STATUSES = (SegmentStatus.HK.value, SegmentStatus.TK.value)
DEFAULT_MCT = dt.timedelta(minutes=45)
DEFAULT_REBOOK_DELAY_THRESHOLD = dt.timedelta(hours=3)
STOPOVER = dt.timedelta(hours=24)
#: IATA's definition of a group booking, for bookings without a group name.
GROUP_SIZE = 10


@dataclass(frozen=True)
class SegmentRow:
    """An active segment with its flight's schedule and estimates."""

    segment_id: int
    booking_id: int
    seq: int
    flight_id: int
    cabin: str
    origin: str
    destination: str
    dep_utc: dt.datetime
    arr_utc: dt.datetime
    est_dep_utc: dt.datetime | None = None
    est_arr_utc: dt.datetime | None = None

    @property
    def eff_dep(self) -> dt.datetime:
        return self.est_dep_utc or self.dep_utc

    @property
    def eff_arr(self) -> dt.datetime:
        return self.est_arr_utc or self.arr_utc


@dataclass(frozen=True)
class PassengerRow:
    passenger_id: int
    booking_id: int
    locator: str
    group_name: str | None
    tier: int
    language: str
    ssr: str | None
    is_contact: bool
    miles: int | None = None
    #: Normalised (`rebooking_core.preferences`): only what ranking understands.
    preferences: Preferences = NO_PREFERENCES


@dataclass(frozen=True)
class DisruptedFlight:
    """A flight of the disruption: cancelled, or delayed to an estimated arrival."""

    flight_id: int
    cancelled: bool
    est_arr_utc: dt.datetime | None = None


@dataclass(frozen=True)
class ImpactedBooking:
    """One booking to rebook: who, how many seats, from where to where, and from when."""

    booking_id: int
    locator: str
    passengers: int
    contact_passenger_id: int
    tier: int
    language: str
    has_ssr: bool
    group: bool
    cabin: str
    rebook_from: str
    destination: str
    not_before: dt.datetime
    original_arrival: dt.datetime
    replaced_segment_ids: tuple[int, ...]
    missed_connection: bool
    disrupted_flight_id: int
    reason: str | None
    disruption_id: int = 0
    kind: DisruptionKind = DisruptionKind.CANCELLED
    journey_origin: str = ""
    original_departure: dt.datetime | None = None
    replaced_flight_ids: tuple[int, ...] = ()
    #: The party's highest loyalty miles balance (0: none known): breaks ties between equal tiers in allocation.
    miles: int = 0
    #: The contact's travel preferences ranking understands, as `rebooking_core.preferences.Preferences` pairs.
    preferences: tuple[tuple[str, str], ...] = NO_PREFERENCES


@dataclass(frozen=True)
class _Hit:
    """Where a journey breaks: index of the first replaced segment and the rebooking point."""

    start: int
    rebook_from: str
    not_before: dt.datetime
    missed_connection: bool
    disrupted_flight_id: int
    kind: DisruptionKind


def journeys(segments: Sequence[SegmentRow]) -> list[tuple[SegmentRow, ...]]:
    """Split a booking's active segments (in seq order) into journeys."""
    out: list[list[SegmentRow]] = []
    for seg in segments:
        current = out[-1] if out else None
        if (
            current is not None
            and seg.origin == current[-1].destination
            and current[-1].destination != current[0].origin
            and seg.dep_utc - current[-1].arr_utc <= STOPOVER
        ):
            current.append(seg)
        else:
            out.append([seg])
    return [tuple(j) for j in out]


def _hit(
    journey: Sequence[SegmentRow],
    i: int,
    flight: DisruptedFlight,
    *,
    now: dt.datetime,
    mct: dt.timedelta,
    threshold: dt.timedelta,
) -> _Hit | None:
    seg = journey[i]
    if flight.cancelled:
        return _Hit(
            i, seg.origin, max(seg.dep_utc, now), False, seg.flight_id, DisruptionKind.CANCELLED
        )
    est_arr = flight.est_arr_utc
    if est_arr is None:
        return None
    if i + 1 < len(journey):
        if journey[i + 1].eff_dep < est_arr + mct:
            return _Hit(
                i + 1,
                seg.destination,
                max(est_arr + mct, now),
                True,
                seg.flight_id,
                DisruptionKind.DELAYED,
            )
        return None
    if est_arr - seg.arr_utc >= threshold:
        return _Hit(
            i, seg.origin, max(seg.dep_utc, now), False, seg.flight_id, DisruptionKind.DELAYED
        )
    return None


def _first_hit(
    journey: Sequence[SegmentRow],
    disrupted: Mapping[int, DisruptedFlight],
    *,
    now: dt.datetime,
    mct: dt.timedelta,
    threshold: dt.timedelta,
) -> _Hit | None:
    best: _Hit | None = None
    for i, seg in enumerate(journey):
        flight = disrupted.get(seg.flight_id)
        if flight is None:
            continue
        hit = _hit(journey, i, flight, now=now, mct=mct, threshold=threshold)
        if hit is None:
            continue
        if best is None or (hit.start, -hit.not_before.timestamp()) < (
            best.start,
            -best.not_before.timestamp(),
        ):
            best = hit
    return best


def assess(
    *,
    disrupted: Mapping[int, DisruptedFlight],
    segments: Iterable[SegmentRow],
    passengers: Iterable[PassengerRow],
    now: dt.datetime,
    disruption_id: int = 0,
    reason: str | None = None,
    mct: dt.timedelta = DEFAULT_MCT,
    rebook_delay_threshold: dt.timedelta = DEFAULT_REBOOK_DELAY_THRESHOLD,
) -> list[ImpactedBooking]:
    """The pure rules: rows in, impacted bookings out (sorted by booking id)."""
    by_booking: dict[int, list[SegmentRow]] = defaultdict(list)
    for seg in segments:
        by_booking[seg.booking_id].append(seg)
    pax: dict[int, list[PassengerRow]] = defaultdict(list)
    for p in passengers:
        pax[p.booking_id].append(p)

    out: list[ImpactedBooking] = []
    for booking_id in sorted(by_booking):
        people = sorted(pax.get(booking_id, []), key=lambda p: p.passenger_id)
        if not people:
            continue
        segs = sorted(by_booking[booking_id], key=lambda s: (s.seq, s.segment_id))
        for journey in journeys(segs):
            hit = _first_hit(journey, disrupted, now=now, mct=mct, threshold=rebook_delay_threshold)
            if hit is None:
                continue
            out.append(_impacted(journey, hit, people, disruption_id, reason))
            break
    return out


def _impacted(
    journey: Sequence[SegmentRow],
    hit: _Hit,
    people: Sequence[PassengerRow],
    disruption_id: int,
    reason: str | None,
) -> ImpactedBooking:
    contact = next((p for p in people if p.is_contact), people[0])
    replaced = journey[hit.start :]
    return ImpactedBooking(
        booking_id=contact.booking_id,
        locator=contact.locator,
        passengers=len(people),
        contact_passenger_id=contact.passenger_id,
        tier=max(p.tier for p in people),
        language=contact.language,
        has_ssr=any(p.ssr for p in people),
        group=contact.group_name is not None or len(people) >= GROUP_SIZE,
        cabin=replaced[0].cabin,
        rebook_from=hit.rebook_from,
        destination=journey[-1].destination,
        not_before=hit.not_before,
        original_arrival=journey[-1].arr_utc,
        replaced_segment_ids=tuple(s.segment_id for s in replaced),
        missed_connection=hit.missed_connection,
        disrupted_flight_id=hit.disrupted_flight_id,
        reason=reason,
        disruption_id=disruption_id,
        kind=hit.kind,
        journey_origin=journey[0].origin,
        original_departure=replaced[0].dep_utc,
        replaced_flight_ids=tuple(s.flight_id for s in replaced),
        miles=max(p.miles or 0 for p in people),
        preferences=contact.preferences,
    )


def segments_to_replace(
    segments: Sequence[SegmentRow], disrupted_flight_ids: Iterable[int], rebook_from: str
) -> tuple[SegmentRow, ...]:
    """What a chosen option replaces: in the first journey hit by the disruption, the segments
    from the first one leaving `rebook_from` (at or after the disrupted segment) to its end."""
    hit_ids = set(disrupted_flight_ids)
    for journey in journeys(segments):
        first = next((i for i, s in enumerate(journey) if s.flight_id in hit_ids), None)
        if first is None:
            continue
        start = next(
            (i for i in range(first, len(journey)) if journey[i].origin == rebook_from), None
        )
        return () if start is None else journey[start:]
    return ()
