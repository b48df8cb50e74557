"""Every first message carries the notice of rights (#21.4): protect first's and the no-options escalation too,
and only the first: answers after it do not repeat it. Sandbox channels, both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

import locales
from conversations.engine import MessageKind, Status
from conversations.intake.fanout import FanOut
from rebooking_core.models import Inventory
from tests.conversations.conftest import Rig

NOTICE = locales.render(
    "rights.notice.eu261.sms", "en"
)  # the rig's LH100 FRA-MAD is EU261 by departure
LINK = "/rights/eu261?lang=en"


@pytest.mark.parametrize("settings_overrides", [{"first_contact": "protect"}])
async def test_protect_firsts_first_message_carries_the_notice(
    rig: Rig, settings_overrides: dict[str, Any]
) -> None:
    pax = await rig.add_pax(("sms",))
    await rig.disrupt()
    fan = FanOut(rig.c.service, batch_size=100)
    while (await fan.offer_next((await rig.conversation(pax)).disruption_id)).more:
        pass
    await rig.c.dispatcher.drain()
    assert (await rig.conversation(pax)).status == Status.BOOKED
    assert [r.key for r in await rig.outbox(pax)] == [MessageKind.PROTECTED.value]
    first = rig.last("sms", pax).text
    assert NOTICE in first and LINK in first


async def test_the_no_options_escalation_carries_the_notice_and_later_answers_do_not(
    rig: Rig,
) -> None:
    async with (
        rig.c.db.transaction() as s
    ):  # no seat anywhere: nothing to offer, a person takes over
        await s.execute(
            update(Inventory)
            .where(Inventory.flight_id.in_([f.id for f in rig.alternatives]))
            .values(capacity=0)
        )
    pax = await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    await rig.c.service.offer_batch(ids)
    await rig.c.dispatcher.drain()
    assert [r.key for r in await rig.outbox(pax)] == [MessageKind.ESCALATED_NO_OPTIONS.value]
    first = rig.last("sms", pax).text
    assert NOTICE in first and LINK in first

    await rig.reply("sms", pax, "HELP")
    await rig.c.dispatcher.drain()
    later = rig.last("sms", pax).text
    assert later != first and LINK not in later
