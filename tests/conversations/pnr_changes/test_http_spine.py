"""The whole spine against a remote PSS: `HttpPss` (wired by `build` from REBOOK_PSS__*) and the contract-keeping fake.

A disruption, the offer out on SMS, the passenger's "1"; the worker's pump (`container.pnr_changes`)
asks the fake PSS; the dispatcher sends what the outbox holds. On both databases: the PSS booked
exactly once, "booked" sent only after it confirmed, the PSS answering 409, timing out, confirming
late, and the seat counters (sold, held) matching at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from conversations.engine import Status
from conversations.pnr_changes.pump import PnrChangePump
from rebooking_core.airline.ports import FlightKey
from rebooking_core.models import Booking, Flight, Inventory, SeatHold, Segment
from tests.conversations.conftest import Pax, Rig
from tests.fakes.pss import TOKEN, FakePss
from tests.fakes.server import LocalServer

#: The client gives up after this long; a stalled answer comes after STALL_S.
READ_TIMEOUT_S = 1.0
STALL_S = 2.0


@pytest.fixture
def fake() -> FakePss:
    return FakePss()


@pytest.fixture
def pss_url(fake: FakePss) -> Iterator[str]:
    with LocalServer(fake.app) as srv:
        yield srv.url
    assert fake.violations == [], "the fake answered outside the contract"


@pytest.fixture
def settings_overrides(pss_url: str) -> dict[str, Any]:
    return {
        "pss": {
            "adapter": "http",
            "base_url": pss_url,
            "token": TOKEN,
            "read_timeout_s": READ_TIMEOUT_S,
        },
        "pss_booking": {"retry_s": "2", "poll_s": "5", "max_attempts": 6},
    }


def _key(f: Flight) -> FlightKey:
    return FlightKey(f.carrier, f.number, f.service_date)


@pytest.fixture
def pump(rig: Rig, fake: FakePss) -> PnrChangePump:
    """The network known to the PSS too: the same flights, 100 seats in Y each."""
    for f in [rig.disrupted, *rig.alternatives]:
        fake.add_flight(_key(f), {"Y": 100})
    assert rig.c.pnr_changes is not None, "REBOOK_PSS__ADAPTER=http wires the two-phase pump"
    return rig.c.pnr_changes


async def _passenger(rig: Rig, fake: FakePss, *, version: int = 1) -> Pax:
    """A booking on the disrupted flight, at the PSS with the same locator and version."""
    who = await rig.add_pax(("sms",))
    fake.add_pnr(who.locator, [(_key(rig.disrupted), "Y")], version=version)
    async with rig.c.db.transaction() as s:
        booking = await s.get(Booking, who.booking_id)
        assert booking is not None
        booking.version = version
    return who


async def _sent(rig: Rig, who: Pax) -> list[str]:
    """What reached the passenger's phone, by message kind (each sent row is one message in the sandbox's inbox)."""
    sent = [m for m in await rig.outbox(who) if m.status == "sent"]
    assert [m.idempotency_key for m in sent] == [m.idempotency_key for m in rig.inbox("sms", who)]
    return [m.key for m in sent]


async def _choose_first(rig: Rig, who: Pax) -> int:
    """The passenger answers "1"; the first option's first flight."""
    [first, *_] = await rig.options(who)
    await rig.reply("sms", who, "1")
    await rig.c.dispatcher.drain()
    return int(first.flight_ids[0])


def _pss_segments(fake: FakePss, who: Pax) -> list[tuple[str, str]]:
    return [(seg[0][1], seg[2]) for seg in fake.pnr(who.locator).segments]


async def _counters_match(rig: Rig) -> None:
    """Sold = the seats the bookings' HK segments take; held = the seats held holds keep."""
    async with rig.c.db.reading() as s:
        sold = dict(
            (
                await s.execute(
                    select(Segment.flight_id, func.count())
                    .where(Segment.status == "HK")
                    .group_by(Segment.flight_id)
                )
            ).all()
        )
        held = dict(
            (
                await s.execute(
                    select(SeatHold.flight_id, func.sum(SeatHold.seats))
                    .where(SeatHold.status == "held")
                    .group_by(SeatHold.flight_id)
                )
            ).all()
        )
        for inv in (await s.scalars(select(Inventory))).all():
            assert (inv.sold, inv.held) == (
                sold.get(inv.flight_id, 0),
                held.get(inv.flight_id, 0) or 0,
            ), f"flight {inv.flight_id}"


async def test_the_pss_books_once_and_the_passenger_hears_only_after_it_confirmed(
    rig: Rig, fake: FakePss, pump: PnrChangePump
) -> None:
    a = await _passenger(rig, fake)
    await rig.offered(a)
    flight = await _choose_first(rig, a)

    assert (await rig.conversation(a)).status == Status.CONFIRMING
    assert await _sent(rig, a) == ["offer"], "nothing said before the PSS answered"
    assert fake.applied == []

    await pump.drain()
    await rig.c.dispatcher.drain()

    assert len(fake.applied) == 1 and fake.applied[0][0] == a.locator
    new = next(f for f in rig.alternatives if f.id == flight)
    assert _pss_segments(fake, a) == [(rig.disrupted.number, "HX"), (new.number, "HK")]
    assert fake.pnr(a.locator).version == 2
    async with rig.c.db.reading() as s:
        version = await s.scalar(select(Booking.version).where(Booking.id == a.booking_id))
    assert version == 2, "the next change is planned on the PSS's new version"
    assert (await rig.conversation(a)).status == Status.BOOKED
    assert await _sent(rig, a) == ["offer", "booked"]
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (flight, "HK")]
    registry = rig.c.metrics.registry
    assert registry.get_sample_value("rebook_pnr_changes_total", {"outcome": "confirmed"}) == 1
    assert registry.get_sample_value("rebook_bookings_total", {"outcome": "booked"}) == 1
    assert (await rig.inventory())[flight] == (1, 0)
    await _counters_match(rig)
    await rig.reply("sms", a, "1")
    await pump.drain()
    await rig.c.dispatcher.drain()
    assert len(fake.applied) == 1, "a second answer books nothing more"


async def test_a_pnr_changed_at_the_airline_is_refused_409_and_the_passenger_gets_a_fresh_offer(
    rig: Rig, fake: FakePss, pump: PnrChangePump
) -> None:
    a = await _passenger(rig, fake)
    await rig.offered(a)
    before = await rig.inventory()
    await _choose_first(rig, a)
    fake.bump(a.locator)  # changed at the airport meanwhile: our version 1 is stale

    await pump.drain()
    await rig.c.dispatcher.drain()

    assert ("modify", 409) in fake.requests
    assert (
        rig.c.metrics.registry.get_sample_value("rebook_pnr_changes_total", {"outcome": "refused"})
        == 1
    )
    assert fake.applied == []
    assert _pss_segments(fake, a) == [(rig.disrupted.number, "HK")]
    conv = await rig.conversation(a)
    assert conv.status == Status.OFFERED and conv.booked_option_id is None
    assert await _sent(rig, a) == ["offer", "offer_seat_gone"], (
        "a fresh offer, never a booking the PSS lacks"
    )
    assert await rig.segments(a) == [(rig.disrupted.id, "HK")]
    assert await rig.inventory() == before, (
        "the old holds released, the new offer's taken; nothing sold"
    )
    await _counters_match(rig)


async def test_a_timeout_after_the_pss_applied_the_change_is_found_by_asking_not_by_sending_again(
    rig: Rig, fake: FakePss, pump: PnrChangePump
) -> None:
    a = await _passenger(rig, fake)
    await rig.offered(a)
    flight = await _choose_first(rig, a)
    fake.stall_next(STALL_S, op="modify", apply=True)

    await pump.drain()
    await rig.c.dispatcher.drain()
    assert len(fake.applied) == 1, "the PSS did it; the answer was lost"
    assert (await rig.conversation(a)).status == Status.CONFIRMING
    assert await _sent(rig, a) == ["offer"]

    rig.clock.advance(seconds=2)
    await pump.drain()
    await rig.c.dispatcher.drain()

    # The stalled modify is logged by the fake only once it answers (to nobody); a resend would be a second.
    assert [r for r in fake.requests if r[0] == "modify"] in ([], [("modify", 200)]), (
        "asked, never sent again"
    )
    assert ("status", 200) in fake.requests
    assert len(fake.applied) == 1
    assert (await rig.conversation(a)).status == Status.BOOKED
    assert await _sent(rig, a) == ["offer", "booked"]
    assert (await rig.inventory())[flight] == (1, 0)
    await _counters_match(rig)


async def test_a_pss_that_accepts_and_confirms_later_is_polled_and_booked_then(
    rig: Rig, fake: FakePss, pump: PnrChangePump
) -> None:
    a = await _passenger(rig, fake)
    await rig.offered(a)
    flight = await _choose_first(rig, a)
    fake.accept_next()

    await pump.drain()
    rig.clock.advance(seconds=5)
    await pump.drain()  # still pending at the PSS
    await rig.c.dispatcher.drain()
    assert (await rig.conversation(a)).status == Status.CONFIRMING
    assert await _sent(rig, a) == ["offer"]
    assert ("modify", 202) in fake.requests

    [(locator, key)] = list(fake.modifications)
    fake.confirm(locator, key)
    rig.clock.advance(seconds=5)
    await pump.drain()
    await rig.c.dispatcher.drain()

    assert (await rig.conversation(a)).status == Status.BOOKED
    assert await _sent(rig, a) == ["offer", "booked"]
    assert len(fake.applied) == 1
    assert (await rig.inventory())[flight] == (1, 0)
    await _counters_match(rig)
