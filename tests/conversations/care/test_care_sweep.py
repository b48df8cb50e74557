"""The care sweep (#21.3): vouchers issued once per passenger and threshold, hotel rooms never oversold, told on the channel and the page."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from conversations.care_sweep import Swept, sweep_care
from conversations.engine import MessageKind, Status
from conversations.intake.ports import DisruptionRequest, FlightKey
from conversations.intake.workflow import assess, record_disruption
from conversations.models import Conversation, OutboxMessage
from conversations.page import links
from gateway.http.app import create_app
from gateway.worker.process import Worker
from rebooking_core.care.hotels import Allotment, TableHotels
from rebooking_core.care.models import CareVoucher, HotelRoom
from rebooking_core.care.policy import CarePolicy
from rebooking_core.models import Claim, Flight, Inventory
from rebooking_core.types import DisruptionKind
from tests.conversations.conftest import Rig

H = dt.timedelta(hours=1)
#: Long enough that the rig's flight, six hours out, is within the issuing window.
POLICY = CarePolicy(lead=7 * H)


async def _delay(rig: Rig, new_departure: dt.datetime) -> int:
    """The rig's flight is delayed to `new_departure` and assessed: the disruption id."""
    f = rig.disrupted
    recorded = await record_disruption(
        rig.c.db,
        DisruptionRequest(
            flights=(FlightKey(f.carrier, f.number, f.service_date),),
            kind=DisruptionKind.DELAYED,
            new_departure=new_departure,
        ),
        clock=rig.clock,
    )
    await assess(rig.c.db, recorded.disruption_id, clock=rig.clock)
    return recorded.disruption_id


async def _sweep(rig: Rig, rooms: tuple[Allotment, ...] = ()) -> Swept:
    now = rig.clock()
    total = Swept()
    after: int | None = 0
    while after is not None:
        async with rig.c.db.transaction() as s:
            swept, after = await sweep_care(
                s,
                now=now,
                policy=POLICY,
                hotels=lambda s: TableHotels(s, rooms, now=now),
                after=after,
                limit=2,
            )
        total.passengers += swept.passengers
        total.vouchers += swept.vouchers
        total.messages += swept.messages
        total.at_desk.update(swept.at_desk)
    return total


async def _vouchers(rig: Rig) -> list[CareVoucher]:
    async with rig.c.db.reading() as s:
        return list(await s.scalars(select(CareVoucher).order_by(CareVoucher.id)))


async def _care_rows(rig: Rig) -> list[OutboxMessage]:
    async with rig.c.db.reading() as s:
        return list(
            await s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.key == MessageKind.CARE_VOUCHER.value)
                .order_by(OutboxMessage.id)
            )
        )


def _next_local_morning(rig: Rig) -> dt.datetime:
    """08:00 in Frankfurt the day after the flight's scheduled departure (a new departure on a later local day)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Berlin")
    day = rig.disrupted.dep_utc.astimezone(zone).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(8), zone).astimezone(dt.UTC)


async def test_a_delay_past_the_band_threshold_issues_one_meal_voucher_per_passenger_and_says_so_on_sms(
    rig: Rig,
) -> None:
    family = await rig.add_pax(("sms",), pax=3)
    alone = await rig.add_pax(("sms",))
    disruption = await _delay(rig, rig.disrupted.dep_utc + 3 * H)
    swept = await _sweep(rig)
    vouchers = await _vouchers(rig)
    # FRA-MAD is 1,418 km: EU261 Art. 6(1)(a), a meal once the delay reaches 2 h
    assert (swept.vouchers, swept.messages) == (4, 2)
    assert [(v.kind, v.threshold, v.regime, v.amount, v.currency, v.state) for v in vouchers] == [
        ("meal", "2h", "eu261", 15, "EUR", "issued")
    ] * 4
    assert {v.disruption_id for v in vouchers} == {disruption}
    assert all(
        v.valid_until == rig.disrupted.dep_utc + 3 * H
        and v.basis.startswith("Regulation (EC) No 261/2004 Art. 6(1)(a), 9")
        for v in vouchers
    )
    assert len({v.code for v in vouchers}) == 4 and all(len(v.code) == 14 for v in vouchers)

    await rig.c.dispatcher.drain()
    codes = {
        v.booking_id: [x.code for x in vouchers if x.booking_id == v.booking_id] for v in vouchers
    }
    for who in (family, alone):
        [message] = [m for m in rig.inbox("sms", who) if "voucher" in m.text]
        assert all(code in message.text for code in codes[who.booking_id])
        assert "€15" in message.text and "LH100" in message.text
    assert (
        sum(code in m.text for m in rig.sandbox.messages for v in vouchers for code in [v.code])
        == 4
    )


async def test_a_sweep_run_twice_in_a_row_or_twice_at_once_issues_and_tells_exactly_once(
    rig: Rig,
) -> None:
    people = [await rig.add_pax(("sms",), pax=2) for _ in range(3)]
    await _delay(rig, _next_local_morning(rig))
    rooms = (Allotment("FRA", "Airport Inn", 10),)
    first, second = await asyncio.gather(_sweep(rig, rooms), _sweep(rig, rooms))
    assert first.vouchers + second.vouchers == 6 * 3  # meal, hotel, transfer for six passengers
    assert first.messages + second.messages == 3  # one per booking
    again = await _sweep(rig, rooms)
    rig.clock.advance(minutes=30)  # a timer firing again later changes nothing either
    later = await _sweep(rig, rooms)
    assert (again.vouchers, again.messages, later.vouchers, later.messages) == (0, 0, 0, 0)
    vouchers = await _vouchers(rig)
    assert len(vouchers) == 18
    assert len({(v.passenger_id, v.kind, v.threshold) for v in vouchers}) == 18
    assert len(await _care_rows(rig)) == 3
    async with rig.c.db.reading() as s:
        taken = (await s.execute(select(HotelRoom.rooms, HotelRoom.taken))).all()
    assert taken == [(10, 6)]
    await rig.c.dispatcher.drain()
    for who in people:
        assert len([m for m in rig.inbox("sms", who) if "voucher" in m.text]) == 1


async def test_overnight_gives_hotel_and_transfer_and_the_desk_gets_those_no_room_is_left_for(
    rig: Rig,
) -> None:
    first = await rig.add_pax(("sms",), pax=2)
    last = await rig.add_pax(("sms",))
    await _delay(rig, _next_local_morning(rig))
    swept = await _sweep(
        rig, (Allotment("FRA", "Airport Inn", 1), Allotment("FRA", "Runway Lodge", 1))
    )
    vouchers = await _vouchers(rig)
    hotels = [v for v in vouchers if v.kind == "hotel"]
    assert [(v.threshold, v.amount) for v in hotels] == [("overnight", 150)] * 3
    assert [v.hotel for v in hotels] == ["Airport Inn", "Runway Lodge", None]
    assert [(v.kind, v.amount) for v in vouchers if v.kind == "transfer"] == [("transfer", 40)] * 3
    assert swept.at_desk == {"FRA": 1}
    metrics = rig.c.metrics
    await metrics.refresh(rig.c.db, now=rig.clock())
    assert 'rebook_care_hotels_at_desk{airport="FRA"} 1.0' in metrics.render().decode()
    async with rig.c.db.reading() as s:
        assert sorted(
            (await s.execute(select(HotelRoom.hotel, HotelRoom.rooms, HotelRoom.taken))).all()
        ) == [("Airport Inn", 1, 1), ("Runway Lodge", 1, 1)]
    await rig.c.dispatcher.drain()
    [told] = [m for m in rig.inbox("sms", last) if "voucher" in m.text]
    assert "ask at the Rebook Air desk" in told.text
    [family] = [m for m in rig.inbox("sms", first) if "voucher" in m.text]
    assert (
        "Airport Inn" in family.text
        and "Runway Lodge" in family.text
        and "Transfer to the hotel" in family.text
    )


async def test_a_cancelled_passenger_gets_care_once_they_book_a_rerouting_and_not_before(
    rig: Rig,
) -> None:
    who = await rig.add_pax(("sms",))
    await rig.offered(who)
    assert (await _sweep(rig)).vouchers == 0  # no end to the wait yet
    soonest = rig.alternatives[0]  # two hours after the cancelled one: the same evening
    [option] = [o for o in await rig.options(who) if o.flight_ids == [soonest.id]]
    await rig.reply("sms", who, str(option.rank))
    await rig.c.dispatcher.drain()
    conv = await rig.conversation(who)
    assert conv.status == Status.BOOKED and conv.booked_option_id is not None
    conv = await rig.conversation(who)
    assert (await _sweep(rig)).vouchers == 1
    [meal] = await _vouchers(rig)
    # Art. 5(1)(b): care at once on a cancellation, whatever the band
    assert (meal.kind, meal.threshold, meal.valid_until) == (
        "meal",
        "0h",
        rig.alternatives[0].dep_utc,
    )


async def test_no_care_out_of_scope_or_once_the_conversation_is_closed(rig: Rig) -> None:
    closed = await rig.add_pax(("sms",))
    async with rig.c.db.transaction() as s:
        # JFK-LAX on a carrier licensed nowhere covered: no EU261, UK261 or APPR
        far = Flight(
            carrier="ZZ",
            number="9",
            service_date=rig.disrupted.service_date,
            origin="JFK",
            destination="LAX",
            dep_utc=rig.disrupted.dep_utc,
            arr_utc=rig.disrupted.dep_utc + 5 * H,
        )
        s.add(far)
        await s.flush()
        s.add(Inventory(flight_id=far.id, cabin="Y", capacity=50, sold=0, held=0))
    in_scope = rig.disrupted
    rig.disrupted = far
    elsewhere = await rig.add_pax(("sms",))
    await _delay(rig, far.dep_utc + 6 * H)
    rig.disrupted = in_scope
    await _delay(rig, in_scope.dep_utc + 6 * H)
    async with rig.c.db.transaction() as s:
        await s.execute(
            update(Conversation)
            .where(Conversation.booking_id == closed.booking_id)
            .values(status=Status.CLOSED.value)
        )
    async with rig.c.db.reading() as s:
        regimes = {
            int(b): str(r) for b, r in await s.execute(select(Claim.booking_id, Claim.regime))
        }
    assert regimes == {elsewhere.booking_id: "none", closed.booking_id: "eu261"}
    assert (await rig.conversation(elsewhere)).status != Status.CLOSED
    assert (await _sweep(rig)).vouchers == 0
    assert await _vouchers(rig) == []
    async with rig.c.db.transaction() as s:
        await s.execute(
            update(Conversation)
            .where(Conversation.booking_id == closed.booking_id)
            .values(status=Status.OFFERED.value)
        )
    await _sweep(
        rig
    )  # the same passenger, while waiting, is owed a meal (and a hotel if 6 h ends after midnight)
    assert (
        {v.booking_id for v in await _vouchers(rig)}
        == {closed.booking_id}
        != {elsewhere.booking_id}
    )


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "care": {
                "lead_minutes": 420,
                "hotels": [{"airport": "FRA", "hotel": "Airport Inn", "rooms": 5}],
            }
        }
    ],
)
async def test_the_worker_sweeps_with_the_settings_and_the_page_shows_the_vouchers(
    rig: Rig, settings_overrides: dict[str, Any]
) -> None:
    who = await rig.add_pax(("sms",), pax=2)
    disruption = await _delay(rig, _next_local_morning(rig))
    assert await Worker(rig.c).care() == 6
    assert await Worker(rig.c).care() == 0
    vouchers = await _vouchers(rig)
    async with rig.c.db.transaction() as s:
        token = links.mint(
            s,
            booking_id=who.booking_id,
            disruption_id=disruption,
            now=rig.clock(),
            ttl=links.DEFAULT_TTL,
        )
    transport = httpx.ASGITransport(app=create_app(rig.c))
    async with httpx.AsyncClient(transport=transport, base_url="http://rebook.test") as client:
        page = await client.get(f"/p/{token}")
    assert page.status_code == 200, page.text
    assert "Care while you wait" in page.text
    assert all(v.code in page.text for v in vouchers)
    assert (
        page.text.count("One night at Airport Inn") == 2
        and page.text.count("Transfer to the hotel and back") == 2
    )
