"""A booking changed at the PSS (a delta import) re-assesses its live conversations in the same transaction.

The upsert and this step commit together, so a crash leaves either the old booking with its
conversation or the new booking with the conversation closed, its offer superseded and its held
seats released; never one without the other. A conversation is closed only when the flight it is
about (the disrupted one) no longer holds a seat on the booking: the passenger rebooked themselves
at the airport, or the PNR was cancelled. A change that keeps that flight (a new phone number, a
passenger added) leaves the conversation as it is. Booked conversations are left alone: their
booking is the one rebook made.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent import audit
from conversations.desk.models import DeskNote
from conversations.engine import BookingChangedElsewhere, Status
from conversations.lifecycles import EscalationStatus
from conversations.models import Conversation, Escalation
from conversations.service import ConversationService
from infra.db import insert_ignore
from rebooking_core.booking_upsert import UpsertReport, describe, upsert_bookings
from rebooking_core.models import Booking, Segment
from rebooking_core.records import SEAT_TAKING_STATUSES, BookingRecord

#: The desk note an agent who owns the conversation gets instead of a message to the passenger.
AGENT_NOTE = "slack.booking_changed"
#: Conversations a booking change can still close: nothing booked yet, or an agent or STOP holds it.
LIVE = (Status.PENDING, Status.OFFERED, Status.ESCALATED, Status.AGENT, Status.OPTED_OUT)


async def upsert_and_reassess(
    service: ConversationService,
    s: AsyncSession,
    records: Sequence[BookingRecord],
    *,
    actor: str,
    subject: str,
) -> tuple[UpsertReport, int]:
    """The delta import and its conversations' re-assessment in the caller's transaction; the report and conversations closed.

    The audit chain records who loaded what (`subject`: a file's digest or the API route); per-row
    consent provenance is in consent_events, as with the insert path.
    """
    report = await upsert_bookings(s, records)
    closed = await reassess(service, s, report.changed_ids)
    audit.append(
        s,
        actor=actor,
        action="bookings.upserted",
        subject=subject,
        at=service.clock(),
        details={**dict(describe(report)), "conversations_closed": closed},
    )
    return report, closed


async def reassess(
    service: ConversationService, s: AsyncSession, booking_ids: Sequence[int]
) -> int:
    """Close the live conversations whose disrupted flight left their booking; how many closed.

    A narrow read first: most changes (a new phone number) close nothing, and only the
    conversations that do close are locked and loaded whole.
    """
    if not booking_ids:
        return 0
    live = [st.value for st in LIVE]
    found = (
        await s.execute(
            select(Conversation.id, Conversation.booking_id, Conversation.flight_id).where(
                Conversation.booking_id.in_(sorted(set(booking_ids))), Conversation.status.in_(live)
            )
        )
    ).all()
    if not found:
        return 0
    holding: dict[int, set[int]] = defaultdict(set)
    rows = await s.execute(
        select(Segment.booking_id, Segment.flight_id).where(
            Segment.booking_id.in_(sorted({b for _, b, _ in found})),
            Segment.status.in_(sorted(SEAT_TAKING_STATUSES)),
        )
    )
    for booking_id, flight_id in rows:
        holding[int(booking_id)].add(int(flight_id))
    gone_ids = sorted(
        conv_id for conv_id, booking_id, flight_id in found if flight_id not in holding[booking_id]
    )
    if not gone_ids:
        return 0
    query = (
        select(Conversation)
        .where(Conversation.id.in_(gone_ids), Conversation.status.in_(live))
        .order_by(Conversation.id)
    )
    if not service.db.is_sqlite:
        query = query.with_for_update()
    gone = list((await s.scalars(query)).all())
    agents = [c.id for c in gone if c.status == Status.AGENT.value]
    for conv in gone:
        await service.run(s, conv, BookingChangedElsewhere())
    await _tell_agents(s, agents, service=service)
    return len(gone)


async def _tell_agents(
    s: AsyncSession, conversation_ids: list[int], *, service: ConversationService
) -> None:
    """One note per claimed escalation and booking version: the agent learns why the case closed (no personal data)."""
    if not conversation_ids:
        return
    claimed = await s.execute(
        select(Escalation.id, Booking.version)
        .join(Conversation, Conversation.id == Escalation.conversation_id)
        .join(Booking, Booking.id == Conversation.booking_id)
        .where(
            Escalation.conversation_id.in_(conversation_ids),
            Escalation.status == EscalationStatus.CLAIMED,
        )
    )
    for escalation_id, version in claimed.all():
        row = {
            "escalation_id": escalation_id,
            "once": f"booking-v{version}",
            "key": AGENT_NOTE,
            "params": {},
            "status": "pending",
            "created_at": service.clock(),
        }
        await insert_ignore(s, DeskNote, row)
