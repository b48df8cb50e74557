"""Renders care-voucher rows of no conversation (care below the delay threshold); every other such row goes to the next renderer (broadcasts)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from conversations.care_message import care_body
from conversations.engine import MessageKind
from conversations.models import OutboxMessage
from conversations.outbox.dispatcher import NoticeRenderer
from conversations.outbox.rendering import Branding, flight_code
from conversations.ports import OutboundMessage
from infra.sql import padded
from rebooking_core.models import ContactPoint, Flight, Passenger

__all__ = ["CareNotices"]


class CareNotices:
    """The care message in the passenger's language for their chosen contact, in a few queries for the lot."""

    def __init__(self, branding: Branding, others: NoticeRenderer) -> None:
        self.branding = branding
        self.others = others

    async def render(self, s: AsyncSession, rows: list[tuple[OutboxMessage, ContactPoint]]) -> dict[int, OutboundMessage]:
        care = [(row, contact) for row, contact in rows if row.key == MessageKind.CARE_VOUCHER.value]
        rest = [(row, contact) for row, contact in rows if row.key != MessageKind.CARE_VOUCHER.value]
        out = await self.others.render(s, rest) if rest else {}
        if not care:
            return out
        people = {
            p.id: p
            for p in await s.scalars(
                select(Passenger).where(Passenger.id.in_(padded({row.passenger_id or 0 for row, _ in care})))
            )
        }
        flights = {
            f.id: f
            for f in await s.scalars(
                select(Flight).where(Flight.id.in_(padded({int(row.params.get("flight_id", 0)) for row, _ in care})))
            )
        }
        for row, contact in care:
            person = people.get(row.passenger_id or 0)
            flight = flights.get(int(row.params.get("flight_id", 0)))
            if person is None or flight is None:
                continue
            loc = locales.negotiate(person.language)
            body = care_body(
                list(row.params.get("vouchers", ())), loc, airline=self.branding.airline, flight=flight_code(flight)
            )
            out[row.id] = OutboundMessage(idempotency_key=row.idempotency_key, to=contact.address or "", locale=loc, body=body)
        return out
