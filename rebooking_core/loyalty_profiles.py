"""Profiles from a remote loyalty system for a whole disruption at once: concurrent, bounded, and never in the way.

The built-in store needs none of this: its status, miles and preferences are columns that
`impact.load_passengers` reads in the query it already makes. A remote `Loyalty` port answers one
passenger per call, so for a 5,000-passenger flight the contacts' profiles are asked concurrently,
at most `concurrency` at a time, and the whole fetch gets `timeout_s`: whatever has not answered
by then (or answered `PssUnavailable`) keeps what rebook already knew, the imported tier and
whatever miles and preferences the import gave. Loyalty only refines the order; it never holds up
or fails an assessment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from rebooking_core.airline.ports import Loyalty, LoyaltyProfile, PssUnavailable
from rebooking_core.impact_rules import ImpactedBooking
from rebooking_core.preferences import normalised

__all__ = ["ProfileSource", "fetch_profiles", "with_profiles"]


async def fetch_profiles(
    loyalty: Loyalty, passenger_ids: Iterable[int], *, concurrency: int, timeout_s: float
) -> dict[int, LoyaltyProfile]:
    """The profiles that arrived within `timeout_s`, at most `concurrency` calls in flight; the rest are left out."""
    gate = asyncio.Semaphore(concurrency)
    found: dict[int, LoyaltyProfile] = {}

    async def one(passenger_id: int) -> None:
        async with gate:
            try:
                profile = await loyalty.profile(passenger_id)
            except PssUnavailable:
                return  # this passenger keeps the imported data
        if profile is not None:
            found[passenger_id] = profile

    tasks = [asyncio.create_task(one(pid)) for pid in dict.fromkeys(passenger_ids)]
    if not tasks:
        return found
    _, late = await asyncio.wait(tasks, timeout=timeout_s)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    return found


def with_profiles(
    impacted: Sequence[ImpactedBooking], profiles: Mapping[int, LoyaltyProfile]
) -> list[ImpactedBooking]:
    """Each booking with its contact's remote miles and preferences where the profile has them (tier stays the imported one)."""
    out: list[ImpactedBooking] = []
    for booking in impacted:
        profile = profiles.get(booking.contact_passenger_id)
        if profile is None:
            out.append(booking)
            continue
        out.append(
            replace(
                booking,
                miles=profile.miles if profile.miles is not None else booking.miles,
                preferences=normalised(profile.preferences)
                if profile.preferences
                else booking.preferences,
            )
        )
    return out


@dataclass(frozen=True)
class ProfileSource:
    """A remote loyalty port and how hard to ask it while a disruption is assessed."""

    loyalty: Loyalty
    concurrency: int = 16
    timeout_s: float = 2.0

    async def enrich(self, impacted: Sequence[ImpactedBooking]) -> list[ImpactedBooking]:
        profiles = await fetch_profiles(
            self.loyalty,
            (i.contact_passenger_id for i in impacted),
            concurrency=self.concurrency,
            timeout_s=self.timeout_s,
        )
        return with_profiles(impacted, profiles)
