"""Loyalty through the real planning path: assessment orders by miles, the fan-out ranks by preferences and weights from settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, update

from conversations.intake.fanout import FanOut
from conversations.intake.ports import DisruptionRequest, FlightKey
from conversations.intake.workflow import assess, record_disruption
from conversations.models import Conversation
from rebooking_core.airline.ports import LoyaltyProfile, PssUnavailable
from rebooking_core.loyalty_profiles import ProfileSource
from rebooking_core.models import Flight, Inventory, Passenger
from rebooking_core.preferences import WINDOW_HOURS, DepartureWindow, local_hour
from rebooking_core.types import DisruptionKind
from tests.conversations.conftest import Pax, Rig


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # 600 minutes: a departure in the preferred window beats flights up to ten hours earlier.
    return {"ranking": {"loyalty_weights": {"departure_window": 600}}}


def _window(at: dt.datetime) -> str:
    hour = local_hour(at, "FRA")
    assert hour is not None
    for window, (start, end) in WINDOW_HOURS.items():
        if (start <= hour < end) if start < end else (hour >= start or hour < end):
            return window.value
    raise AssertionError(hour)


async def _loyalty(rig: Rig, who: Pax, **values: object) -> None:
    async with rig.c.db.transaction() as s:
        await s.execute(update(Passenger).where(Passenger.id == who.passenger_id).values(**values))


async def _disrupt(rig: Rig, profiles: ProfileSource | None = None) -> tuple[int, list[int]]:
    f = rig.disrupted
    recorded = await record_disruption(
        rig.c.db,
        DisruptionRequest(
            flights=(FlightKey(f.carrier, f.number, f.service_date),), kind=DisruptionKind.CANCELLED
        ),
        clock=rig.clock,
    )
    batches = await assess(rig.c.db, recorded.disruption_id, clock=rig.clock, profiles=profiles)
    assert recorded.disruption_id is not None
    return recorded.disruption_id, [i for batch in batches for i in batch]


async def _order(rig: Rig, ids: list[int]) -> list[int]:
    async with rig.c.db.reading() as s:
        by_id = dict(
            (
                await s.execute(
                    select(Conversation.id, Conversation.booking_id).where(Conversation.id.in_(ids))
                )
            ).all()
        )
    return [by_id[i] for i in ids]


async def test_the_first_option_departs_in_the_preferred_window_and_miles_order_equal_tiers(
    rig: Rig,
) -> None:
    first_alternative = rig.alternatives[0]
    # a flight seven hours after the first alternative: always another window (none is longer than 7 h)
    async with rig.c.db.transaction() as s:
        dep = first_alternative.dep_utc + dt.timedelta(hours=7)
        later = Flight(
            carrier="LH",
            number="108",
            service_date=dep.date(),
            origin="FRA",
            destination="MAD",
            dep_utc=dep,
            arr_utc=dep + dt.timedelta(minutes=150),
        )
        s.add(later)
        await s.flush()
        s.add(Inventory(flight_id=later.id, cabin="Y", capacity=100, sold=0, held=0))
    wanted = _window(later.dep_utc)
    assert wanted != _window(first_alternative.dep_utc)

    plain = await rig.add_pax(("sms",))
    early_riser = await rig.add_pax(("sms",))
    await _loyalty(rig, early_riser, miles=250_000, preferences={"time": wanted, "seat": "aisle"})

    disruption_id, ids = await _disrupt(rig)
    # same tier and size: the higher miles balance is served first, though its booking id is higher
    assert await _order(rig, ids) == [early_riser.booking_id, plain.booking_id]
    fanout = FanOut(rig.c.service, batch_size=100)
    while (await fanout.offer_next(disruption_id)).more:
        pass

    [mine_first, *_] = await rig.options(early_riser)
    [theirs_first, *_] = await rig.options(plain)
    assert theirs_first.flight_ids == [
        first_alternative.id
    ]  # no preference: the soonest arrival, as before
    assert mine_first.flight_ids != [first_alternative.id]
    assert _window(mine_first.dep_utc) == DepartureWindow(wanted).value


class RemoteLoyalty:
    """The airline's loyalty system behind the port: one passenger known, one it cannot answer for."""

    def __init__(self, known: dict[int, LoyaltyProfile], down: set[int]) -> None:
        self.known = known
        self.down = down

    async def profile(self, passenger_id: int) -> LoyaltyProfile | None:
        if passenger_id in self.down:
            raise PssUnavailable("503 from the loyalty system")
        return self.known.get(passenger_id)


async def test_a_remote_loyalty_system_orders_the_assessment_and_an_unavailable_one_changes_nothing(
    rig: Rig,
) -> None:
    a = await rig.add_pax(("sms",))
    b = await rig.add_pax(("sms",))
    c = await rig.add_pax(("sms",))
    await _loyalty(rig, a, miles=10)  # imported: kept when the remote cannot answer
    remote = RemoteLoyalty(
        {c.passenger_id: LoyaltyProfile(tier=0, status="Gold", miles=90_000)}, down={a.passenger_id}
    )
    _, ids = await _disrupt(rig, ProfileSource(remote, concurrency=2, timeout_s=5))
    assert await _order(rig, ids) == [c.booking_id, a.booking_id, b.booking_id]
    async with rig.c.db.reading() as s:
        impact = (
            await s.scalars(
                select(Conversation.impact).where(Conversation.booking_id == c.booking_id)
            )
        ).one()
    assert impact["miles"] == 90_000
