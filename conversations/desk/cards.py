"""What an agent sees: queue and passenger cards as neutral views, read from the database."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.desk.ports import (
    LoyaltyView,
    OptionView,
    PassengerCardView,
    QueueCardView,
    TranscriptLine,
)
from conversations.engine import MessageKind
from conversations.models import Conversation, Escalation, InboundMessage, OutboxMessage
from infra import crypto
from rebooking_core.models import (
    Booking,
    Disruption,
    DisruptionFlight,
    Flight,
    Inventory,
    OfferOption,
    Passenger,
    SeatHold,
)

#: How much of the conversation a passenger card shows (Block Kit caps a section at 3,000 characters).
TRANSCRIPT_LINES = 12


async def disruption_title(s: AsyncSession, disruption_id: int) -> str:
    d = await s.get(Disruption, disruption_id)
    flights = (
        await s.scalars(
            select(Flight).join(DisruptionFlight, DisruptionFlight.flight_id == Flight.id).where(DisruptionFlight.disruption_id == disruption_id)
        )
    ).all()
    legs = ", ".join(f"{f.carrier}{f.number} {f.origin}-{f.destination} {f.service_date.isoformat()}" for f in flights)
    return f"{legs} {d.kind if d else ''}".strip()


async def queue_card(s: AsyncSession, disruption_id: int, route: str) -> QueueCardView:
    mine = (Escalation.disruption_id == disruption_id, Escalation.route == route)
    by_status = dict((await s.execute(select(Escalation.status, func.count()).where(*mine).group_by(Escalation.status))).all())
    open_rows = (*mine, Escalation.status == "open")
    by_reason = (await s.execute(select(Escalation.reason, func.count()).where(*open_rows).group_by(Escalation.reason))).all()
    by_tier = (await s.execute(select(Escalation.tier, func.count()).where(*open_rows).group_by(Escalation.tier))).all()
    return QueueCardView(
        disruption_id=disruption_id,
        route=route,
        title=await disruption_title(s, disruption_id),
        open=int(by_status.get("open", 0)),
        claimed=int(by_status.get("claimed", 0)),
        resolved=int(by_status.get("resolved", 0)) + int(by_status.get("withdrawn", 0)),
        by_reason=tuple(sorted((str(r), int(n)) for r, n in by_reason)),
        by_tier=tuple(sorted(((int(t), int(n)) for t, n in by_tier), reverse=True)),
    )


async def passenger_card(s: AsyncSession, esc: Escalation) -> PassengerCardView:
    conv = await s.get(Conversation, esc.conversation_id)
    if conv is None:
        raise LookupError(f"escalation {esc.id} names a missing conversation")
    booking = await s.get(Booking, conv.booking_id)
    person = await s.get(Passenger, conv.passenger_id) if conv.passenger_id is not None else None
    known = person if person is not None and person.erased_at is None else None
    first_name = (known.given_name or "") if known is not None else ""
    return PassengerCardView(
        escalation_id=esc.id,
        route=esc.route or "",
        first_name=first_name,
        tier=esc.tier,
        locator=booking.locator if booking is not None else "",
        language=conv.locale,
        channel=conv.channel,
        disruption=await disruption_title(s, conv.disruption_id),
        reason=esc.reason,
        conversation_status=conv.status,
        escalation_status=esc.status,
        owner=esc.agent,
        resolution=esc.resolution,
        options=await _options(s, conv),
        transcript=await _transcript(s, conv),
        loyalty=_loyalty(known),
    )


def _loyalty(person: Passenger | None) -> LoyaltyView | None:
    """The programme's status, miles and preferences; None for an erased passenger (erasure clears them too) or none known."""
    if person is None or (person.loyalty_status is None and person.miles is None and not person.preferences):
        return None
    return LoyaltyView(
        status=person.loyalty_status,
        miles=person.miles,
        preferences=tuple(sorted((str(k), str(v)) for k, v in (person.preferences or {}).items())),
    )


async def _options(s: AsyncSession, conv: Conversation) -> tuple[OptionView, ...]:
    if conv.offer_id is None:
        return ()
    options = (await s.scalars(select(OfferOption).where(OfferOption.offer_id == conv.offer_id).order_by(OfferOption.rank))).all()
    flight_ids = {fid for o in options for fid in o.flight_ids}
    flights = {f.id: f for f in (await s.scalars(select(Flight).where(Flight.id.in_(flight_ids)))).all()}
    views = []
    for o in options:
        holds = (await s.scalars(select(SeatHold.status).where(SeatHold.option_id == o.id))).all()
        seat_status = "booked" if conv.booked_option_id == o.id else (holds[0] if holds else "not held")
        left = 0
        if o.flight_ids:
            inv = await s.get(Inventory, (o.flight_ids[0], o.cabin))
            left = inv.capacity - inv.sold - inv.held if inv is not None else 0
        views.append(
            OptionView(
                number=o.rank,
                option_id=o.id,
                flights="+".join(f"{flights[f].carrier}{flights[f].number}" for f in o.flight_ids if f in flights),
                departs_utc=o.dep_utc,
                arrives_utc=o.arr_utc,
                seat_status=seat_status,
                seats_left=left,
            )
        )
    return tuple(views)


async def _transcript(s: AsyncSession, conv: Conversation) -> tuple[TranscriptLine, ...]:
    inbound = (
        await s.scalars(
            select(InboundMessage)
            .where(InboundMessage.conversation_id == conv.id)
            .order_by(InboundMessage.id.desc())
            .limit(TRANSCRIPT_LINES)
        )
    ).all()
    outbound = (
        await s.scalars(
            select(OutboxMessage).where(OutboxMessage.conversation_id == conv.id).order_by(OutboxMessage.id.desc()).limit(TRANSCRIPT_LINES)
        )
    ).all()
    lines = [TranscriptLine(m.received_at, "passenger", m.text or "") for m in inbound]
    for row in outbound:
        if row.key == MessageKind.AGENT_TEXT.value:
            # Erasure empties the parameters: the line stays, the words go.
            sealed = row.params.get("text")
            lines.append(TranscriptLine(row.created_at, "agent", crypto.keyring().decrypt(str(sealed)) if sealed else ""))
        else:
            lines.append(TranscriptLine(row.created_at, "bot", f"[{row.key}]"))
    lines.sort(key=lambda line: line.at)
    return tuple(lines[-TRANSCRIPT_LINES:])
