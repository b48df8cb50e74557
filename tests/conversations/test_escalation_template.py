"""A WhatsApp-only passenger whose booking goes to an agent hears about it, even outside the 24 h window."""

from __future__ import annotations

from sqlalchemy import select, update

from conversations.engine import Status
from conversations.intake.fanout import FanOut
from conversations.models import Conversation
from rebooking_core.models import Inventory
from tests.conversations.conftest import Rig


async def test_no_options_on_whatsapp_only_goes_out_as_the_escalation_template(rig: Rig) -> None:
    who = await rig.add_pax(("whatsapp",))
    async with rig.c.db.transaction() as s:
        await s.execute(update(Inventory).where(Inventory.flight_id != rig.disrupted.id).values(capacity=Inventory.sold))
    ids = await rig.disrupt()
    async with rig.c.db.reading() as s:
        disruption_id = int((await s.scalars(select(Conversation.disruption_id))).first() or 0)
    assert await FanOut(rig.c.service).offer_batch(disruption_id, ids) == 1
    assert (await rig.conversation(who)).status == Status.ESCALATED
    await rig.c.dispatcher.drain()
    [message] = rig.inbox("whatsapp", who)
    assert message.kind == "template"
    [row] = await rig.outbox(who)
    assert (row.key, row.status, row.channel) == ("escalated_no_options", "sent", "whatsapp")
