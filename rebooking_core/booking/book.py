"""Book a chosen option: idempotent, atomic in the caller's transaction, never double-booked.

The offer's guarded ``UPDATE offers SET status = 'accepted' ... WHERE status = 'open'`` decides
the winner when two choices race (a WhatsApp tap and an SMS "2"): the loser sees no row and
answers "already_booked". What the winner changes is decided by `rules`; the statements are the
database's `BookingStore`. Seat counters move in one pass in (flight, cabin) order, so two
bookings never wait on each other's rows in opposite orders. A leg whose hold was lost is sold
directly under the capacity guard; if that fails every counter this call moved is put back and
the offer reopens, so the caller's transaction stays consistent without a savepoint.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from rebooking_core.booking.postgres import PostgresBookingStore
from rebooking_core.booking.rules import (
    BookingResult,
    BookingStatus,
    Choice,
    plan_moves,
    plan_rewrite,
)
from rebooking_core.booking.sqlite import SqliteBookingStore
from rebooking_core.booking.statements import HEAD, already_booked, guard_lost, reopen, retire
from rebooking_core.booking.store import BookingStore
from rebooking_core.offers import OfferStatus

__all__ = ["book_option", "store_for"]

_POSTGRES = PostgresBookingStore()
_SQLITE = SqliteBookingStore()


def store_for(session: AsyncSession) -> BookingStore:
    """The statements for the session's database."""
    return _POSTGRES if session.get_bind().dialect.name == "postgresql" else _SQLITE


async def book_option(session: AsyncSession, *, option_id: int, now: dt.datetime, head: Any = None) -> BookingResult:
    """Move the booking onto the chosen option, once, whatever the number of calls.

    `head` is this option's `OPTION_HEAD` row if the caller just read it in this transaction.
    """
    if head is None or head.id != option_id:
        head = (await session.execute(HEAD, {"option_id": option_id})).one_or_none()
    if head is None:
        return BookingResult(BookingStatus.UNKNOWN, option_id=option_id)
    choice = Choice(head.booking_id, option_id, tuple(int(f) for f in head.flight_ids), head.cabin, int(head.seats))
    if head.status == OfferStatus.ACCEPTED.value:
        return await already_booked(session, head.offer_id, head.booking_id)
    if head.status != OfferStatus.OPEN.value or head.expires_at <= now:
        return _result(BookingStatus.EXPIRED, choice)
    return await _book(session, store_for(session), head, choice, now)


async def _book(session: AsyncSession, store: BookingStore, head: Any, choice: Choice, now: dt.datetime) -> BookingResult:
    """Win the guard, then rewrite the booking and move its counters (or give the offer back)."""
    current = await store.accept(session, head, choice, now)
    if current is None:
        return await guard_lost(session, head, choice)
    rewrite = plan_rewrite(choice, current)
    if rewrite is None:
        await retire(session, head.offer_id)
        return _result(BookingStatus.CHANGED, choice)
    holds = await store.take_holds(session, head, choice, current)
    if not await store.move(session, plan_moves(choice, holds, rewrite.replaced)):
        await store.keep_holds(session, holds)
        await reopen(session, head.offer_id)
        return _result(BookingStatus.UNAVAILABLE, choice)
    await store.rewrite(session, rewrite, holds)
    return _result(BookingStatus.BOOKED, choice)


def _result(status: BookingStatus, choice: Choice) -> BookingResult:
    return BookingResult(status, choice.booking_id, choice.option_id, choice.flight_ids)
