"""Protect first against a remote PSS (`HttpPss` and the contract-keeping fake), on both databases.

The fan-out reserves each booking's best option (its seats held) and records one PNR change per
protection in the batch's transaction, telling no one; the pump asks the PSS, and only its
confirmation books the seats and sends PROTECTED. A refused protection is offered as on the
offer-first path; a timeout after the PSS applied it is found by asking.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from conversations.engine import Status
from conversations.intake.fanout import FanOut
from conversations.models import Conversation
from conversations.pnr_changes.models import PnrChangeRow
from conversations.pnr_changes.pump import PnrChangePump
from tests.conversations.conftest import Pax, Rig
from tests.conversations.pnr_changes.test_http_spine import (  # noqa: F401 (fixtures)
    STALL_S,
    _counters_match,
    _passenger,
    _pss_segments,
    _sent,
    fake,
    pss_url,
    pump,
)
from tests.conversations.pnr_changes.test_http_spine import (  # noqa: F401 (the two-phase settings, extended below)
    settings_overrides as two_phase_settings,
)
from tests.fakes.pss import FakePss


@pytest.fixture
def settings_overrides(two_phase_settings: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    return {**two_phase_settings, "first_contact": "protect"}


async def _fanned_out(rig: Rig, fake: FakePss, n: int) -> list[Pax]:  # noqa: F811
    """Passengers on the cancelled flight (at the PSS too), through one fan-out batch under protect-first."""
    people = [await _passenger(rig, fake) for _ in range(n)]
    ids = await rig.disrupt()
    async with rig.c.db.reading() as s:
        disruption_id = int((await s.scalars(select(Conversation.disruption_id))).first() or 0)
    assert await FanOut(rig.c.service).offer_batch(disruption_id, ids) == n
    await rig.c.dispatcher.drain()
    return people


def _counted(rig: Rig, outcome: str) -> float | None:
    return rig.c.metrics.registry.get_sample_value("rebook_pnr_changes_total", {"outcome": outcome})


async def test_a_protection_is_booked_and_told_only_when_the_pss_confirmed(
    rig: Rig, fake: FakePss, pump: PnrChangePump  # noqa: F811
) -> None:
    people = await _fanned_out(rig, fake, 3)

    async with rig.c.db.reading() as s:
        intents = (await s.scalars(select(PnrChangeRow))).all()
    assert len(intents) == 3, "one change per protection, recorded with the batch"
    for who in people:
        conv = await rig.conversation(who)
        assert (conv.status, conv.booked_option_id) == (Status.CONFIRMING, None)
        assert await _sent(rig, who) == [], "nothing said before the PSS answered"
        assert await rig.segments(who) == [(rig.disrupted.id, "HK")]
    assert fake.applied == []
    assert sum(sold for sold, _ in (await rig.inventory()).values()) == 3, "only the disrupted seats sold"
    await _counters_match(rig)

    await pump.drain()
    await rig.c.dispatcher.drain()

    assert len(fake.applied) == 3
    assert _counted(rig, "confirmed") == 3
    for who in people:
        conv = await rig.conversation(who)
        assert conv.status == Status.BOOKED and conv.booked_option_id is not None
        assert conv.chosen_at is None, "a protection, not a choice: the other options stay a change"
        assert await _sent(rig, who) == ["protected"]
        [(_, hx), (flight, hk)] = await rig.segments(who)
        assert (hx, hk) == ("HX", "HK")
        number = next(f.number for f in rig.alternatives if f.id == flight)
        assert _pss_segments(fake, who) == [(rig.disrupted.number, "HX"), (number, "HK")]
    assert sum(held for _, held in (await rig.inventory()).values()) == 0
    await _counters_match(rig)
    assert rig.c.metrics.registry.get_sample_value("rebook_bookings_total", {"outcome": "protected"}) == 3


async def test_a_refused_protection_is_offered_the_others_are_protected(
    rig: Rig, fake: FakePss, pump: PnrChangePump  # noqa: F811
) -> None:
    a, b = await _fanned_out(rig, fake, 2)
    fake.bump(b.locator)  # changed at the airline meanwhile: refused 409

    await pump.drain()
    await rig.c.dispatcher.drain()

    assert _counted(rig, "refused") == 1 and _counted(rig, "confirmed") == 1
    assert await _sent(rig, a) == ["protected"]
    conv = await rig.conversation(b)
    assert (conv.status, conv.booked_option_id) == (Status.OFFERED, None)
    assert conv.timer_at is not None, "offered as on the offer-first path: the reminder runs"
    assert await _sent(rig, b) == ["offer"], "a normal offer, never a protection the PSS lacks"
    assert await rig.segments(b) == [(rig.disrupted.id, "HK")]
    assert _pss_segments(fake, b) == [(rig.disrupted.number, "HK")]
    await _counters_match(rig)


async def test_a_timeout_after_the_pss_applied_a_protection_is_asked_and_told_once(
    rig: Rig, fake: FakePss, pump: PnrChangePump  # noqa: F811
) -> None:
    [a] = await _fanned_out(rig, fake, 1)
    fake.stall_next(STALL_S, op="modify", apply=True)

    await pump.drain()
    await rig.c.dispatcher.drain()
    assert len(fake.applied) == 1 and _counted(rig, "no_answer") == 1
    assert (await rig.conversation(a)).status == Status.CONFIRMING
    assert await _sent(rig, a) == []

    rig.clock.advance(seconds=2)
    await pump.drain()
    await rig.c.dispatcher.drain()

    assert ("status", 200) in fake.requests
    assert len(fake.applied) == 1, "asked, never sent again"
    assert (await rig.conversation(a)).status == Status.BOOKED
    assert await _sent(rig, a) == ["protected"]
    await _counters_match(rig)
