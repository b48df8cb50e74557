"""A passenger's devices: the app registers its push token, which becomes a contact point with consent on record.

A token is personal data like a phone number: encrypted, found by its blind index, deleted by
erasure and by the provider saying it is gone (APNs 410, FCM UNREGISTERED). One app install
belongs to one passenger at a time, so a token registered again for someone else moves to them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from consent import ledger
from infra import crypto
from rebooking_core.models import ContactPoint, Passenger
from rebooking_core.types import PUSH_SERVICES, ChannelName

PUSH = ChannelName.PUSH.value
#: Where a registration's consent comes from in the ledger.
LEDGER_SOURCE = "app"


class Registered(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    MOVED = "moved"  # the token was another passenger's (the app's user changed)


@dataclass(frozen=True)
class Device:
    """What the app says about one install."""

    token: str
    platform: str
    app_id: str
    locale: str | None = None
    #: The push permission the user gave (or took back) in the app.
    granted: bool = True
    #: Try push before the passenger's other channels.
    preferred: bool = False


async def register(
    s: AsyncSession, passenger: Passenger, device: Device, *, evidence: str, actor: str, at: dt.datetime
) -> tuple[Registered, bool]:
    """Upsert the device as the passenger's push contact and record consent; returns what happened and whether consent changed."""
    digest = crypto.keyring().blind_index(device.token)
    found = list(await s.scalars(select(ContactPoint).where(ContactPoint.channel == PUSH, ContactPoint.address_hash == digest)))
    mine = next((c for c in found if c.passenger_id == passenger.id), None)
    others = [c.id for c in found if c.passenger_id != passenger.id]
    if others:
        await s.execute(delete(ContactPoint).where(ContactPoint.id.in_(others)))
    if mine is None:
        last = await s.scalar(select(func.max(ContactPoint.preference)).where(ContactPoint.passenger_id == passenger.id))
        mine = ContactPoint(
            passenger_id=passenger.id, channel=PUSH, address=device.token, address_hash=digest, preference=(last or 0) + 1
        )
        s.add(mine)
        outcome = Registered.MOVED if others else Registered.CREATED
    else:
        outcome = Registered.UPDATED
    mine.platform, mine.app_id, mine.sender = device.platform, device.app_id, PUSH_SERVICES[device.platform]
    if device.preferred:
        await s.execute(
            update(ContactPoint)
            .where(ContactPoint.passenger_id == passenger.id, ContactPoint.channel != PUSH)
            .values(preference=ContactPoint.preference + 1)
            .execution_options(synchronize_session=False)
        )
        mine.preference = 0
    if device.locale:
        passenger.language = device.locale
    changed = await ledger.record(
        s,
        passenger_id=passenger.id,
        channel=PUSH,
        purpose=ledger.SERVICE,
        granted=device.granted,
        source=LEDGER_SOURCE,
        evidence=evidence,
        legal_basis="consent",
        actor=actor,
        at=at,
    )
    return outcome, changed
