"""A booking issues the same statements, in the same order, as it did before `rebooking_core.booking` was a package.

Each statement is a round trip (a reply's budget on PostgreSQL is one for the guard and the reads,
one for the rewrite, then the rows and the counters at commit). Changing the list is a performance
change: measure it before updating this test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from consent.models import AuditEntry
from infra.commit_rows import insert_at_commit
from rebooking_core.booking import BookingStatus, book_option
from tests.rebooking_core.test_offers_and_booking import NOW, offered

POSTGRESQL = [
    "SELECT offer_options.id, offer_options.offer_id,",  # the option and its offer
    "WITH accepted AS (UPDATE",  # the guard, the segments and the holds
    "WITH taken AS (UPDATE",  # holds marked, old segments HX, later ones moved up, new legs in
    "WITH rows_0 AS (INSERT",  # at commit: rows queued by the reply
    "WITH locked AS MATERIALIZED",  # at commit, last: every counter move
]
SQLITE = [
    "SELECT offer_options.id, offer_options.offer_id,",
    "UPDATE offers SET status=?,",
    "SELECT segments.id, segments.booking_id,",
    "UPDATE seat_holds SET status=CASE",
    "UPDATE inventory SET sold=(inventory.sold",  # the two replaced segments' seats back
    "UPDATE inventory SET sold=(inventory.sold",
    "UPDATE inventory SET sold=(inventory.sold",  # our hold committed
    "UPDATE inventory SET held=(inventory.held",  # the other options' holds released
    "UPDATE inventory SET held=(inventory.held",
    "UPDATE inventory SET held=(inventory.held",
    "UPDATE segments SET status=?,",
    "UPDATE segments SET seq=(segments.seq",
    "INSERT INTO segments (booking_id,",
    "INSERT INTO audit_log (at,",
]


@contextlib.contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_booking_s_statements_in_order(engine: AsyncEngine) -> None:
    sm, _, created = await offered(engine)
    audit = {"at": NOW, "actor": "test", "action": "booked", "subject": "s", "passenger_id": None, "reason": None, "details": {}}
    with _statements(engine) as statements:
        async with sm() as session, session.begin():
            insert_at_commit(session, AuditEntry.__table__, audit)  # type: ignore[arg-type]
            result = await book_option(session, option_id=created.options[0].option_id, now=NOW + dt.timedelta(minutes=1))
    assert result.status == BookingStatus.BOOKED
    expected = POSTGRESQL if engine.dialect.name == "postgresql" else SQLITE
    assert len(statements) == len(expected), statements
    assert [st[: len(start)] for st, start in zip(statements, expected, strict=True)] == expected
