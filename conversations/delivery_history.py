"""A delivery's history: when it was handed over, delivered, read or failed, recorded by the statement that applies each receipt.

Receipts arrive late, twice and out of order (a read before its delivered). The status only moves
forward and failure ends it; each state's time is written once, by the first receipt that says so,
and kept in order: a delivered never after the read already recorded, a read never before the
delivered, nothing before the hand-over (a provider's clock may run behind ours). A late receipt
that cannot move the status still records its time; a repeated one matches no row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Update, and_, case, func, literal, or_, update

from conversations.models import Delivery
from conversations.ports import DeliveryReceipt, DeliveryState
from infra.orm import UTCDateTime

_ORDER = [DeliveryState.QUEUED, DeliveryState.SENT, DeliveryState.DELIVERED, DeliveryState.READ]
#: A receipt only moves a delivery forward (receipts arrive out of order); failure ends it.
_EARLIER = {
    state: [s.value for s in _ORDER[: _ORDER.index(state)]] if state in _ORDER else [s.value for s in _ORDER]
    for state in DeliveryState
}
_FAILED = DeliveryState.FAILED.value


@dataclass(frozen=True)
class Reached:
    """One state of a delivery and when it got there."""

    state: str
    at: dt.datetime


def apply_receipt(r: DeliveryReceipt) -> Update:
    """The one UPDATE a receipt makes: the status moved on if it is behind, the state's time kept if not yet known.

    It returns each matched row's channel, hand-over time and status afterwards: the status equals
    the receipt's state only where the receipt moved it.
    """
    moves = Delivery.status.in_(_EARLIER[r.state])
    values: dict[str, Any] = {
        "status": case((moves, r.state.value), else_=Delivery.status),
        "error_code": case((moves, r.error_code), else_=Delivery.error_code),
        "reason_class": case((moves, r.reason_class), else_=Delivery.reason_class),
        "updated_at": case((moves, _at(r.at)), else_=Delivery.updated_at),
    }
    matches: ColumnElement[bool] = moves
    stamp = _stamp(r.state, _later(Delivery.created_at, _at(r.at)))
    if stamp is not None:
        column, when = stamp
        values[column.key] = func.coalesce(column, when)
        # Not yet known, and not after a failure: a late receipt records its time without moving the status.
        matches = or_(moves, and_(column.is_(None), Delivery.status != _FAILED))
    return (
        update(Delivery)
        .where(Delivery.provider == r.provider, Delivery.provider_message_id == r.provider_message_id, matches)
        .values(values)
        .returning(Delivery.channel, Delivery.created_at, Delivery.status)
        .execution_options(synchronize_session=False)
    )


def history(d: Delivery) -> tuple[Reached, ...]:
    """The states the delivery reached, in time order (a tie in the order they happen); a send refused at hand-over only failed."""
    refused = d.status == _FAILED and d.failed_at is None
    steps = [
        Reached(DeliveryState.SENT.value, d.created_at) if not refused else None,
        Reached(DeliveryState.DELIVERED.value, d.delivered_at) if d.delivered_at else None,
        Reached(DeliveryState.READ.value, d.read_at) if d.read_at else None,
        Reached(_FAILED, d.failed_at or d.created_at) if d.status == _FAILED else None,
    ]
    return tuple(sorted((s for s in steps if s is not None), key=lambda s: s.at))


def _stamp(state: DeliveryState, at: ColumnElement[dt.datetime]) -> tuple[Any, ColumnElement[dt.datetime]] | None:
    """The column a receipt of `state` fills, and the time it fills it with, kept in order with the others."""
    if state is DeliveryState.DELIVERED:
        return Delivery.delivered_at, _earlier(Delivery.read_at, at)
    if state is DeliveryState.READ:
        return Delivery.read_at, _later(Delivery.delivered_at, at)
    if state is DeliveryState.FAILED:
        return Delivery.failed_at, at
    return None


def _at(at: dt.datetime) -> ColumnElement[dt.datetime]:
    return literal(at, UTCDateTime())


def _later(column: Any, at: ColumnElement[dt.datetime]) -> ColumnElement[dt.datetime]:
    """`at`, or the column's time when that is later (a NULL column: `at`)."""
    return case((column > at, column), else_=at)


def _earlier(column: Any, at: ColumnElement[dt.datetime]) -> ColumnElement[dt.datetime]:
    """`at`, or the column's time when that is earlier (a NULL column: `at`)."""
    return case((column < at, column), else_=at)
