"""A delta import that changes a booking mid-conversation re-assesses it in the same transaction (both databases)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select, update

from conversations.booking_changes import AGENT_NOTE, upsert_and_reassess
from conversations.desk.models import DeskNote
from conversations.engine import AgentClaimed, Status
from conversations.lifecycles import EscalationStatus
from conversations.models import Escalation
from rebooking_core.booking_upsert import UpsertReport
from rebooking_core.importer import ImportFailed
from rebooking_core.models import Flight, Offer
from rebooking_core.records import BookingRecord
from tests.conversations.conftest import Pax, Rig


def _record(
    rig: Rig, who: Pax, version: int, *flights: Flight, phone: str | None = None, **over: Any
) -> BookingRecord:
    """The booking as the PSS now has it: the same passenger, on `flights`."""
    return BookingRecord.model_validate_json(
        json.dumps(
            {
                "locator": who.locator,
                "version": version,
                "passengers": [
                    {
                        "given_name": "Given0",
                        "family_name": "Family",
                        "language": "en",
                        "contacts": [
                            {
                                "channel": "sms",
                                "address": phone or who.phone,
                                "consent": {"service": True, "marketing": False},
                            }
                        ],
                    }
                ],
                "segments": [
                    {"carrier": f.carrier, "number": f.number, "date": f.service_date.isoformat()}
                    for f in flights
                ],
                **over,
            }
        )
    )


async def _upsert(rig: Rig, *records: BookingRecord) -> tuple[UpsertReport, int]:
    async with rig.c.db.transaction() as s:
        return await upsert_and_reassess(
            rig.c.service, s, list(records), actor="test", subject="test"
        )


async def test_rebooked_at_the_airport_closes_the_conversation_and_releases_its_holds(
    rig: Rig,
) -> None:
    ana, ben = await rig.add_pax(), await rig.add_pax()
    await rig.offered(ana, ben)
    before = await rig.inventory()
    held = sum(h for _, h in before.values())
    assert held > 0 and before[rig.disrupted.id] == (2, 0)
    offer_id = (await rig.conversation(ana)).offer_id

    later = rig.alternatives[2]  # a flight none of the offers hold seats on for Ana alone
    report, closed = await _upsert(rig, _record(rig, ana, 1, later))
    assert (report.changed, closed) == (1, 1)

    conv = await rig.conversation(ana)
    assert conv.status == Status.CLOSED
    async with rig.c.db.reading() as s:
        assert (await s.get(Offer, offer_id)).status == "superseded"  # type: ignore[union-attr]
    after = await rig.inventory()
    # Ana's seat left the disrupted flight for the one she took at the airport; her held seats went back; Ben's stay.
    assert after[rig.disrupted.id] == (1, 0)
    assert after[later.id][0] == before[later.id][0] + 1
    assert sum(h for _, h in after.values()) == held // 2
    assert (await rig.conversation(ben)).status == Status.OFFERED
    await rig.c.dispatcher.drain()
    assert "no longer has flight" in rig.last("sms", ana).text
    assert "no longer has flight" not in rig.last("sms", ben).text


async def test_a_change_that_keeps_the_disrupted_flight_leaves_the_conversation_alone(
    rig: Rig,
) -> None:
    ana = await rig.add_pax()
    await rig.offered(ana)
    before = await rig.inventory()
    conv = await rig.conversation(ana)
    report, closed = await _upsert(rig, _record(rig, ana, 1, rig.disrupted, phone="+447700900999"))
    assert (report.changed, closed) == (1, 0)
    after = await rig.conversation(ana)
    assert (after.status, after.offer_id) == (Status.OFFERED, conv.offer_id)
    assert await rig.inventory() == before


async def test_a_refused_file_leaves_the_conversation_and_seats_as_they_were(rig: Rig) -> None:
    ana = await rig.add_pax()
    await rig.offered(ana)
    before = await rig.inventory()
    moved = _record(rig, ana, 1, rig.alternatives[0])
    broken = BookingRecord.model_validate_json(
        json.dumps(
            {
                **_record(rig, ana, 1, rig.disrupted).model_dump(mode="json"),
                "locator": "ZZZZZ9",
                "segments": [{"carrier": "LH", "number": "999", "date": "2030-01-01"}],
            }
        )
    )
    with pytest.raises(ImportFailed) as err:
        await _upsert(rig, moved, broken)
    assert err.value.line == 2
    assert (await rig.conversation(ana)).status == Status.OFFERED
    assert await rig.inventory() == before
    assert await rig.segments(ana) == [(rig.disrupted.id, "HK")]


async def test_a_cancelled_booking_owned_by_an_agent_gets_a_desk_note_not_a_message(
    rig: Rig,
) -> None:
    ana = await rig.add_pax()
    await rig.offered(ana)
    await rig.reply("sms", ana, "AGENT")
    conv = await rig.conversation(ana)
    assert conv.status == Status.ESCALATED
    async with rig.c.db.transaction() as s:
        await s.execute(
            update(Escalation)
            .where(Escalation.conversation_id == conv.id)
            .values(status=EscalationStatus.CLAIMED, agent="U1")
        )
    await rig.c.service.handle(conv.id, AgentClaimed("U1"))
    await rig.c.dispatcher.drain()
    sent = len(rig.inbox("sms", ana))

    report, closed = await _upsert(rig, _record(rig, ana, 3, rig.disrupted, status="cancelled"))
    assert (report.cancelled, closed) == (1, 1)
    assert (await rig.conversation(ana)).status == Status.CLOSED
    await rig.c.dispatcher.drain()
    assert len(rig.inbox("sms", ana)) == sent
    async with rig.c.db.reading() as s:
        notes = list((await s.scalars(select(DeskNote))).all())
    assert [(n.key, n.once) for n in notes] == [(AGENT_NOTE, "booking-v3")]
    assert sum(h for _, h in (await rig.inventory()).values()) == 0
    assert (await rig.inventory())[rig.disrupted.id] == (0, 0)
