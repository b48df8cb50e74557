"""One suite, both implementations: what rebook may rely on from any Inventory, Reservations and Loyalty."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from gateway.pss.http import HttpPss, PssConfig
from rebooking_core.airline.ports import (
    Availability,
    FlightKey,
    Inventory,
    Loyalty,
    LoyaltyProfile,
    PnrChange,
    PnrSegment,
    PnrState,
    RefundRequest,
    Reservations,
)
from rebooking_core.airline.sql import passenger_in_pnr
from rebooking_core.models import Segment
from tests.fakes.pss import TOKEN, FakePss
from tests.fakes.server import LocalServer
from tests.pss.conftest import LX100, LX102, LX104, NOW, Airline

LATER = NOW + dt.timedelta(minutes=40)


@dataclass
class Ports:
    inventory: Inventory
    reservations: Reservations
    loyalty: Loyalty
    #: Someone else changes the PNR (an agent, the airport): its version moves on.
    change_elsewhere: Callable[[], Awaitable[None]]
    free: Callable[[FlightKey, str], Awaitable[int]]


@pytest.fixture(params=["sql", "http"])
async def ports(request: pytest.FixtureRequest, airline: Airline) -> AsyncIterator[Ports]:
    """The built-in store, or HttpPss on the fake PSS loaded with the same airline (the resolver reads the same tables)."""
    if request.param == "sql":

        async def add_segment() -> None:
            async with airline.db.transaction() as s:
                booking_id = await s.scalar(select(Segment.booking_id).limit(1))
                s.add(
                    Segment(
                        booking_id=booking_id, flight_id=airline.flights[LX102], cabin="Y", seq=2
                    )
                )

        async def free_sql(flight: FlightKey, cabin: str) -> int:
            sold, held = await airline.counters(flight, cabin)
            return 10 - sold - held

        store = airline.store
        yield Ports(store, store, store, add_segment, free_sql)
        return
    fake = FakePss()
    for key, sold in ((LX100, 4), (LX102, 8), (LX104, 0)):
        fake.add_flight(key, {"Y": 10, "J": 2}, sold={"Y": sold})
    fake.add_pnr("ABC123", [(LX100, "Y")], passengers=2)
    fake.add_member("ABC123", 1, tier=2, status="Gold", miles=48_000, preferences={"seat": "aisle"})
    fake.add_member("ABC123", 2, tier=0)

    async def bump() -> None:
        fake.bump("ABC123")

    async def free_fake(flight: FlightKey, cabin: str) -> int:
        return fake.seats(flight, cabin).free

    async def where(passenger_id: int) -> tuple[str, int] | None:
        return await passenger_in_pnr(airline.db, passenger_id)

    with LocalServer(fake.app) as srv:
        client = HttpPss(PssConfig(srv.url, TOKEN, read_timeout_s=5), passenger_in_pnr=where)
        try:
            yield Ports(client, client, client, bump, free_fake)
        finally:
            await client.aclose()
    assert fake.violations == []


def _move(version: int | None) -> PnrChange:
    return PnrChange(
        "ABC123",
        cancel=(PnrSegment(LX100, "Y"),),
        sell=(PnrSegment(LX104, "Y"),),
        passengers=2,
        version=version,
    )


async def test_availability(ports: Ports) -> None:
    assert await ports.inventory.availability([LX102]) == [
        Availability(LX102, "J", 2),
        Availability(LX102, "Y", 2),
    ]


async def test_holds_are_once_per_key_and_released_once(ports: Ports) -> None:
    hold = await ports.inventory.hold(LX104, "Y", 2, expires_at=LATER, idempotency_key="h1")
    assert hold is not None and (hold.flight, hold.cabin, hold.seats) == (LX104, "Y", 2)
    assert await ports.inventory.hold(LX104, "Y", 2, expires_at=LATER, idempotency_key="h1") == hold
    assert await ports.free(LX104, "Y") == 8
    assert await ports.inventory.hold(LX102, "Y", 3, expires_at=LATER, idempotency_key="h2") is None
    await ports.inventory.release(hold.reference)
    await ports.inventory.release(hold.reference)
    assert await ports.free(LX104, "Y") == 10


async def test_a_change_on_the_version_read_confirms_once_and_its_status_says_so(
    ports: Ports,
) -> None:
    view = await ports.reservations.read("ABC123")
    assert (
        view is not None and view.passengers == 2 and PnrSegment(LX100, "Y", "HK") in view.segments
    )
    first = await ports.reservations.change(_move(view.version), idempotency_key="c1")
    assert first.state is PnrState.CONFIRMED
    assert (
        await ports.reservations.change(_move(view.version), idempotency_key="c1")
    ).state is PnrState.CONFIRMED
    assert (await ports.reservations.change_status("ABC123", "c1")).state is PnrState.CONFIRMED
    assert (await ports.reservations.change_status("ABC123", "never")).state is PnrState.UNKNOWN


async def test_a_change_on_a_stale_version_is_refused(ports: Ports) -> None:
    view = await ports.reservations.read("ABC123")
    assert view is not None
    await ports.change_elsewhere()
    outcome = await ports.reservations.change(_move(view.version), idempotency_key="c1")
    assert (outcome.state, outcome.reason) == (PnrState.REFUSED, "version_conflict")
    assert outcome.version is not None and outcome.version > view.version


async def test_cancelling_a_segment_the_pnr_lacks_is_refused(ports: Ports) -> None:
    view = await ports.reservations.read("ABC123")
    assert view is not None
    wrong = PnrChange(
        "ABC123",
        cancel=(PnrSegment(LX104, "Y"),),
        sell=(PnrSegment(LX102, "Y"),),
        passengers=1,
        version=view.version,
    )
    outcome = await ports.reservations.change(wrong, idempotency_key="c1")
    assert (outcome.state, outcome.reason) == (PnrState.REFUSED, "segment_not_held")


async def test_an_unknown_pnr(ports: Ports) -> None:
    assert await ports.reservations.read("ZZZ999") is None
    lost = PnrChange("ZZZ999", cancel=(), sell=(PnrSegment(LX104, "Y"),), passengers=1, version=1)
    outcome = await ports.reservations.change(lost, idempotency_key="c1")
    assert (outcome.state, outcome.reason) == (PnrState.REFUSED, "unknown_pnr")


async def test_a_refund_is_accepted_once_per_key(ports: Ports) -> None:
    request = RefundRequest(
        "ABC123", (PnrSegment(LX100, "Y"),), basis="EU261 Art. 8(1)(a)", passengers=2
    )
    first = await ports.reservations.refund(request, idempotency_key="r1")
    assert first.state is PnrState.CONFIRMED and first.reference
    assert await ports.reservations.refund(request, idempotency_key="r1") == first


async def test_loyalty(ports: Ports, airline: Airline) -> None:
    gold, basic = airline.passenger_ids
    assert await ports.loyalty.profile(gold) == LoyaltyProfile(
        tier=2, status="Gold", miles=48_000, preferences={"seat": "aisle"}
    )
    assert await ports.loyalty.profile(basic) == LoyaltyProfile(tier=0)
    assert await ports.loyalty.profile(10_000) is None
