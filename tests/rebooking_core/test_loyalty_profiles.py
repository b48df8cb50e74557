"""A remote loyalty system's profiles reach the assessment concurrently, bounded, and fall back to the imported data."""

from __future__ import annotations

import asyncio
import dataclasses

from rebooking_core.airline.ports import LoyaltyProfile, PssUnavailable
from rebooking_core.allocation import order_for_allocation
from rebooking_core.loyalty_profiles import ProfileSource, fetch_profiles, with_profiles
from tests.rebooking_core.test_loyalty_ranking import BASE


class LoyaltySystem:
    """A stand-in for the airline's loyalty system behind the `Loyalty` port: answers, refuses or never answers."""

    def __init__(
        self,
        profiles: dict[int, LoyaltyProfile],
        *,
        down: frozenset[int] = frozenset(),
        hang: frozenset[int] = frozenset(),
    ) -> None:
        self.profiles = profiles
        self.down = down
        self.hang = hang
        self.in_flight = 0
        self.most_in_flight = 0
        self.asked: list[int] = []
        self.never = asyncio.Event()

    async def profile(self, passenger_id: int) -> LoyaltyProfile | None:
        self.asked.append(passenger_id)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let the other calls start: the bound is what stops them
            if passenger_id in self.hang:
                await self.never.wait()
            if passenger_id in self.down:
                raise PssUnavailable("503")
            return self.profiles.get(passenger_id)
        finally:
            self.in_flight -= 1


async def test_at_most_concurrency_calls_are_in_flight_and_each_contact_is_asked_once() -> None:
    system = LoyaltySystem({pid: LoyaltyProfile(tier=1, miles=pid * 10) for pid in range(1, 41)})
    found = await fetch_profiles(system, [*range(1, 41), 5, 5], concurrency=4, timeout_s=30)
    assert system.most_in_flight == 4
    assert sorted(system.asked) == list(range(1, 41))
    assert {pid: p.miles for pid, p in found.items()} == {pid: pid * 10 for pid in range(1, 41)}


async def test_an_unavailable_or_silent_system_leaves_those_passengers_out() -> None:
    system = LoyaltySystem(
        {
            1: LoyaltyProfile(tier=2, miles=100),
            2: LoyaltyProfile(tier=2, miles=200),
            3: LoyaltyProfile(tier=2, miles=300),
        },
        down=frozenset({2}),
        hang=frozenset({3}),
    )
    found = await fetch_profiles(system, [1, 2, 3, 4], concurrency=8, timeout_s=0.05)
    assert set(found) == {1}  # 2 refused, 3 never answered within the budget, 4 unknown there
    assert system.in_flight == 0  # the silent call was cancelled, not left running


def test_profiles_bring_miles_and_preferences_and_leave_the_rest_as_imported() -> None:
    imported = dataclasses.replace(
        BASE, booking_id=1, contact_passenger_id=11, miles=5, preferences=(("time", "evening"),)
    )
    untouched = dataclasses.replace(BASE, booking_id=2, contact_passenger_id=22, miles=7)
    partial = dataclasses.replace(
        BASE, booking_id=3, contact_passenger_id=33, miles=9, preferences=(("cabin", "J"),)
    )
    profiles = {
        11: LoyaltyProfile(
            tier=3, status="HON", miles=2_000_000, preferences={"time": "Morning", "seat": "aisle"}
        ),
        33: LoyaltyProfile(tier=1),
    }
    got = with_profiles([imported, untouched, partial], profiles)
    assert got[0].miles == 2_000_000 and got[0].preferences == (("time", "morning"),)
    assert got[0].tier == imported.tier  # the allocation tier stays the imported one
    assert got[1] == untouched
    assert got[2] == partial  # a profile without miles or preferences changes nothing


async def test_enriched_miles_decide_the_order_of_equal_tiers() -> None:
    a = dataclasses.replace(BASE, booking_id=1, contact_passenger_id=11)
    b = dataclasses.replace(BASE, booking_id=2, contact_passenger_id=22)
    system = LoyaltySystem({22: LoyaltyProfile(tier=2, miles=80_000)}, down=frozenset({11}))
    assert [i.booking_id for i in order_for_allocation([a, b])] == [1, 2]
    enriched = await ProfileSource(system, concurrency=2, timeout_s=5).enrich([a, b])
    assert [i.booking_id for i in order_for_allocation(enriched)] == [2, 1]
