"""A provider's verdict on an address: a hard bounce drops the contact point, a complaint withdraws consent.

A hard-bounced mailbox is treated like an unregistered push token (`DeviceUnregistered` in the
dispatcher): the contact point goes, consent stays as it was, and the message that bounced falls
back to the next channel through its failed delivery receipt. A complaint ("this is spam") is the
passenger withdrawing consent for the channel, recorded in the ledger with the provider's event as
evidence; nothing is sent to confirm it.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from consent import ledger
from conversations.clock import Clock
from conversations.dedupe import claim_event
from conversations.ports import AddressProblem, AddressRejected
from conversations.provider_values import event_id
from infra import crypto
from infra.db import Database
from rebooking_core.models import ContactPoint

#: The consent ledger's source for a complaint (the column holds 16 characters).
COMPLAINT_SOURCE = "complaint"


class AddressFeedback:
    """The AddressSink behind the SES webhook."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def reject(self, events: list[AddressRejected]) -> None:
        for e in events:
            async with self.db.transaction() as s:
                if not await claim_event(s, e.provider, event_id(e.event_id), at=self.clock()):
                    continue
                digest = crypto.keyring().blind_index(e.address)
                where = (ContactPoint.channel == e.channel, ContactPoint.address_hash == digest)
                if e.problem is AddressProblem.UNDELIVERABLE:
                    await s.execute(delete(ContactPoint).where(*where))
                    continue
                for passenger_id in set(await s.scalars(select(ContactPoint.passenger_id).where(*where))):
                    await ledger.record(
                        s,
                        passenger_id=passenger_id,
                        channel=e.channel,
                        purpose=ledger.SERVICE,
                        granted=False,
                        source=COMPLAINT_SOURCE,
                        evidence=event_id(e.event_id),
                        at=e.at,
                    )
