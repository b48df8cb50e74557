"""`rebook import KIND FILE --mode upsert`: a delta file applied in one transaction, with its conversations re-assessed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from gateway.container import engine_config
from gateway.settings import Settings


async def upsert_file(
    settings: Settings, kind: str, records: Sequence[object], raw: bytes
) -> list[tuple[str, int]]:
    """Apply the whole file or nothing; the counts per outcome (no personal data) for the summary table."""
    from conversations.booking_changes import upsert_and_reassess
    from conversations.service import ConversationService
    from infra.db import Database
    from rebooking_core.booking_upsert import describe
    from rebooking_core.records import BookingRecord, ScheduleRecord
    from rebooking_core.schedule_upsert import upsert_schedule

    db = Database(settings.database_url)
    try:
        async with db.transaction() as s:
            if kind == "schedule":
                flights = await upsert_schedule(
                    s, [r for r in records if isinstance(r, ScheduleRecord)]
                )
                return [
                    (name, getattr(flights, name))
                    for name in ("added", "changed", "removed", "unchanged")
                ]
            # Messages the re-assessment writes wait in the outbox for the worker's next sweep.
            service = ConversationService(db, config=engine_config(settings))
            bookings = [r for r in records if isinstance(r, BookingRecord)]
            subject = f"file:{hashlib.sha256(raw).hexdigest()[:32]}"
            report, closed = await upsert_and_reassess(
                service, s, bookings, actor="cli:import", subject=subject
            )
            return [*describe(report), ("conversations closed", closed)]
    finally:
        await db.dispose()
