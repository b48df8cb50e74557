"""Who picks first when seats are scarce, and how to measure an allocation's fairness.

Fairness rule (the order in which bookings of one disruption are offered seats):

1. Urgency first: a booking that misses a connection, or that carries a special-service request
   (wheelchair, unaccompanied minor, medical...), goes before one that does not; with both, before
   one with either.
2. Then loyalty tier, highest first (platinum, gold, silver, none), by the booking's best tier.
3. Then larger parties first, because they are the hardest to place and a party is never split:
   a booking gets seats for all its passengers on every leg, or nothing on that itinerary.
4. Then loyalty miles, highest first (the party's highest balance): among bookings equal on all
   of the above, the airline's most loyal customer picks first. Without miles (0) nothing changes.
5. Then booking id, so the order is deterministic and replayable.

`priority_inversions` counts pairs that break this order in a result, so tests and benchmarks
can compare allocations (greedy, optimal, A/B variants) on one number.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rebooking_core.impact_rules import ImpactedBooking
from rebooking_core.network import NetworkSnapshot
from rebooking_core.options import Itinerary, find_itineraries
from rebooking_core.ranking import DEFAULT_WEIGHTS, RankedOption, RankingWeights, rank

__all__ = ["Allocation", "allocate", "order_for_allocation", "priority_inversions", "priority_key"]


def priority_key(impacted: ImpactedBooking) -> tuple[int, int, int, int, int]:
    """Sort key: smaller goes first."""
    urgency = int(impacted.missed_connection) + int(impacted.has_ssr)
    return (-urgency, -impacted.tier, -impacted.passengers, -impacted.miles, impacted.booking_id)


def order_for_allocation(impacted: Iterable[ImpactedBooking]) -> list[ImpactedBooking]:
    return sorted(impacted, key=priority_key)


@dataclass(frozen=True)
class Allocation:
    """What one booking got: its best option that fitted, or None."""

    booking: ImpactedBooking
    option: RankedOption | None


def _quality(a: Allocation) -> float:
    return float("inf") if a.option is None else float(a.option.arrival_delay_min)


def priority_inversions(assignment: Sequence[Allocation]) -> int:
    """Pairs where a lower-priority booking got a strictly better option (smaller arrival delay)
    than a higher-priority booking that got a worse one or none."""
    ranked = sorted(assignment, key=lambda a: priority_key(a.booking))
    lower_got: list[float] = []
    count = 0
    for a in reversed(ranked):
        count += bisect_left(lower_got, _quality(a))
        if a.option is not None:
            insort(lower_got, _quality(a))
    return count


def _fits(snapshot: NetworkSnapshot, it: Itinerary, seats: int) -> bool:
    return all(snapshot.free(fid, it.cabin) >= seats for fid in it.flight_ids)


def allocate(
    impacted: Iterable[ImpactedBooking],
    snapshot: NetworkSnapshot,
    *,
    weights: RankingWeights = DEFAULT_WEIGHTS,
    order: Callable[[Iterable[ImpactedBooking]], list[ImpactedBooking]] = order_for_allocation,
) -> list[Allocation]:
    """Greedy allocation in priority order against the snapshot (which it decrements): each
    booking takes its best-ranked option that still fits all of its passengers on every leg."""
    out: list[Allocation] = []
    for booking in order(impacted):
        candidates = find_itineraries(
            snapshot,
            origin=booking.rebook_from,
            destination=booking.destination,
            not_before=booking.not_before,
            seats=booking.passengers,
            cabin=booking.cabin,
            exclude_flight_ids=frozenset(booking.replaced_flight_ids),
        )
        chosen = next(
            (
                r
                for r in rank(
                    candidates,
                    original_arrival=booking.original_arrival,
                    cabin=booking.cabin,
                    weights=weights,
                    preferences=booking.preferences,
                )
                if _fits(snapshot, r.itinerary, booking.passengers)
            ),
            None,
        )
        if chosen is not None:
            for fid in chosen.itinerary.flight_ids:
                snapshot.take(fid, chosen.itinerary.cabin, booking.passengers)
        out.append(Allocation(booking=booking, option=chosen))
    return out
