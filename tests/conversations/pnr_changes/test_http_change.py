"""A change after booking against a remote PSS (`HttpPss` and the contract-keeping fake), on both databases.

A booked passenger asks for MORE and picks a fresh option: the change is recorded with the fresh
offer's seats held, the booking stays where it is, and nothing is said; the pump asks the PSS and
only its confirmation moves the booking (one "booked"). A 409 keeps the earlier booking and brings
fresh options; a timeout after the PSS applied it is found by asking, and booked then.
"""

from __future__ import annotations

from sqlalchemy import select

from conversations.engine import Status
from conversations.pnr_changes.models import PnrChangeRow
from conversations.pnr_changes.pump import PnrChangePump
from rebooking_core.models import Booking, OfferOption
from tests.conversations.conftest import Pax, Rig
from tests.conversations.pnr_changes.test_http_spine import (  # noqa: F401 (fixtures)
    STALL_S,
    _choose_first,
    _counters_match,
    _passenger,
    _pss_segments,
    _sent,
    fake,
    pss_url,
    pump,
    settings_overrides,
)
from tests.fakes.pss import FakePss


async def _booked_then_chooses_again(
    rig: Rig, fake: FakePss, pump: PnrChangePump  # noqa: F811
) -> tuple[Pax, int, OfferOption]:
    """Booked through the PSS on the first option, then MORE and a fresh option on another flight chosen."""
    a = await _passenger(rig, fake)
    await rig.offered(a)
    first = await _choose_first(rig, a)
    await pump.drain()
    await rig.c.dispatcher.drain()
    assert (await rig.conversation(a)).status == Status.BOOKED
    await rig.reply("sms", a, "MORE")
    await rig.c.dispatcher.drain()
    fresh = await rig.options(a)
    target = next(o for o in fresh if int(o.flight_ids[0]) != first)
    await rig.reply("sms", a, str(target.rank))
    await rig.c.dispatcher.drain()
    return a, first, target


async def _counted(rig: Rig, outcome: str) -> float | None:
    return rig.c.metrics.registry.get_sample_value("rebook_pnr_changes_total", {"outcome": outcome})


async def test_a_change_is_moved_only_when_the_pss_confirmed_and_booked_is_said_once(
    rig: Rig, fake: FakePss, pump: PnrChangePump  # noqa: F811
) -> None:
    a, first, target = await _booked_then_chooses_again(rig, fake, pump)
    new = int(target.flight_ids[0])

    conv = await rig.conversation(a)
    assert conv.status == Status.BOOKED and conv.booked_option_id != target.id, "not moved before the PSS"
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (first, "HK")]
    assert (await rig.inventory())[new] == (0, 1), "the fresh option's seat held meanwhile"
    assert await _sent(rig, a) == ["offer", "booked", "offer_refreshed"]
    assert len(fake.applied) == 1
    async with rig.c.db.reading() as s:
        intent = (
            await s.scalars(select(PnrChangeRow).where(PnrChangeRow.option_id == target.id))
        ).one()
    assert [seg["status"] for seg in intent.change["cancel"]] == ["HX"]
    assert intent.change["version"] == 2, "the version the PSS gave the first change"

    await pump.drain()
    await rig.c.dispatcher.drain()

    assert len(fake.applied) == 2
    by_number = {f.id: f.number for f in [rig.disrupted, *rig.alternatives]}
    assert _pss_segments(fake, a) == [
        (rig.disrupted.number, "HX"),
        (by_number[first], "HX"),
        (by_number[new], "HK"),
    ]
    conv = await rig.conversation(a)
    assert (conv.status, conv.booked_option_id) == (Status.BOOKED, target.id)
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (first, "HX"), (new, "HK")]
    assert await _sent(rig, a) == ["offer", "booked", "offer_refreshed", "booked"]
    inventory = await rig.inventory()
    assert inventory[first] == (0, 0) and inventory[new] == (1, 0)
    assert await _counted(rig, "confirmed") == 2
    async with rig.c.db.reading() as s:
        version = await s.scalar(select(Booking.version).where(Booking.id == a.booking_id))
    assert version == 3
    await _counters_match(rig)

    await pump.drain()
    await rig.reply("sms", a, str(target.rank))
    await pump.drain()
    await rig.c.dispatcher.drain()
    assert len(fake.applied) == 2, "a second answer sends nothing more"


async def test_a_409_keeps_the_earlier_booking_and_brings_fresh_options(
    rig: Rig, fake: FakePss, pump: PnrChangePump  # noqa: F811
) -> None:
    a, first, target = await _booked_then_chooses_again(rig, fake, pump)
    fake.bump(a.locator)  # changed at the airline meanwhile

    await pump.drain()
    await rig.c.dispatcher.drain()

    assert ("modify", 409) in fake.requests
    assert await _counted(rig, "refused") == 1
    assert len(fake.applied) == 1
    by_number = {f.id: f.number for f in [rig.disrupted, *rig.alternatives]}
    assert _pss_segments(fake, a) == [(rig.disrupted.number, "HX"), (by_number[first], "HK")]
    conv = await rig.conversation(a)
    assert conv.status == Status.BOOKED and conv.booked_option_id not in (None, target.id)
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (first, "HK")]
    sent = await _sent(rig, a)
    assert sent[:3] == ["offer", "booked", "offer_refreshed"] and len(sent) == 4
    assert sent[3] == "offer_seat_gone", "told the change did not happen, with fresh options"
    assert (await rig.inventory())[first] == (1, 0)
    await _counters_match(rig)


async def test_a_timeout_after_the_pss_applied_the_change_is_asked_and_booked_then(
    rig: Rig, fake: FakePss, pump: PnrChangePump  # noqa: F811
) -> None:
    a, first, target = await _booked_then_chooses_again(rig, fake, pump)
    new = int(target.flight_ids[0])
    fake.stall_next(STALL_S, op="modify", apply=True)

    await pump.drain()
    await rig.c.dispatcher.drain()
    assert len(fake.applied) == 2, "the PSS did it; the answer was lost"
    assert await _counted(rig, "no_answer") == 1
    assert (await rig.conversation(a)).booked_option_id != target.id
    assert await _sent(rig, a) == ["offer", "booked", "offer_refreshed"]

    rig.clock.advance(seconds=2)
    await pump.drain()
    await rig.c.dispatcher.drain()

    assert ("status", 200) in fake.requests
    assert len(fake.applied) == 2, "asked, never sent again"
    assert (await rig.conversation(a)).booked_option_id == target.id
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (first, "HX"), (new, "HK")]
    assert await _sent(rig, a) == ["offer", "booked", "offer_refreshed", "booked"]
    assert (await rig.inventory())[new] == (1, 0)
    await _counters_match(rig)


async def test_the_same_answer_again_while_the_change_is_with_the_pss_records_no_second_change(
    rig: Rig, fake: FakePss, pump: PnrChangePump  # noqa: F811
) -> None:
    a, _, target = await _booked_then_chooses_again(rig, fake, pump)
    await rig.reply("sms", a, str(target.rank))
    async with rig.c.db.reading() as s:
        intents = (await s.scalars(select(PnrChangeRow.id))).all()
    assert len(intents) == 2, "the first booking's and this change's, no third"
    await pump.drain()
    await rig.c.dispatcher.drain()
    assert len(fake.applied) == 2
    assert (await _sent(rig, a)).count("booked") == 2


async def test_a_pss_that_never_answers_leaves_the_earlier_booking_and_calls_the_desk(
    rig: Rig, fake: FakePss, pump: PnrChangePump  # noqa: F811
) -> None:
    a, first, target = await _booked_then_chooses_again(rig, fake, pump)
    fake.fail_next(503, n=50)

    for _ in range(8):  # max_attempts 6, 2 s apart
        await pump.drain()
        rig.clock.advance(seconds=2)
    await rig.c.dispatcher.drain()

    assert await _counted(rig, "escalated") == 1
    conv = await rig.conversation(a)
    assert conv.status == Status.ESCALATED and conv.escalation_reason == "pss_unconfirmed"
    assert conv.booked_option_id != target.id
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (first, "HK")]
    assert (await _sent(rig, a))[-1] == "escalated_agent"
    assert len(fake.applied) == 1
