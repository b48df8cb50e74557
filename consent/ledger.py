"""Read and change consent, always appending the change to the history with its provenance."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from consent import audit
from consent.models import ConsentEvent, ConsentState
from infra import event_log
from infra.event_log import EventType

GRANTED = "granted"
WITHDRAWN = "withdrawn"
SERVICE = "service"
MARKETING = "marketing"


async def granted_channels(
    session: AsyncSession, *, passenger_id: int, channels: Iterable[str], purpose: str = SERVICE
) -> set[str]:
    """The channels this passenger has agreed to be contacted on, read right before a send."""
    granted = await granted_by_passenger(session, [passenger_id], purpose, channels=channels)
    return granted.get(passenger_id, set())


async def granted_by_passenger(
    session: AsyncSession,
    passenger_ids: Iterable[int],
    purpose: str = SERVICE,
    *,
    channels: Iterable[str] | None = None,
) -> dict[int, set[str]]:
    """Granted channels of many passengers in one query, so a batch reads consent as late as one message."""
    people = list(passenger_ids)  # as given: a caller may pad them to keep the statement's text stable
    wanted = None if channels is None else sorted(set(channels))
    if not people or wanted == []:
        return {}
    query = select(ConsentState.passenger_id, ConsentState.channel).where(
        ConsentState.passenger_id.in_(people),
        ConsentState.purpose == purpose,
        ConsentState.state == GRANTED,
    )
    if wanted is not None:
        query = query.where(ConsentState.channel.in_(wanted))
    granted: dict[int, set[str]] = {}
    for passenger_id, channel in await session.execute(query):
        granted.setdefault(passenger_id, set()).add(channel)
    return granted


async def record(
    session: AsyncSession,
    *,
    passenger_id: int,
    channel: str,
    purpose: str,
    granted: bool,
    source: str,
    at: dt.datetime,
    evidence: str | None = None,
    legal_basis: str = "contract",
    actor: str | None = None,
    reason: str | None = None,
) -> bool:
    """Set the current state and append history and an audit entry; returns whether anything changed."""
    state = GRANTED if granted else WITHDRAWN
    current = await session.get(ConsentState, (passenger_id, channel, purpose))
    if current is not None and current.state == state:
        return False
    if current is None:
        session.add(ConsentState(passenger_id=passenger_id, channel=channel, purpose=purpose, state=state, updated_at=at))
    else:
        current.state = state
        current.updated_at = at
    session.add(
        ConsentEvent(
            passenger_id=passenger_id,
            channel=channel,
            purpose=purpose,
            state=state,
            source=source,
            evidence=evidence,
            legal_basis=legal_basis,
            at=at,
        )
    )
    audit.append(
        session,
        actor=actor or source,
        action=f"consent.{state}",
        subject=f"passenger:{passenger_id}",
        passenger_id=passenger_id,
        reason=reason,
        details={"channel": channel, "purpose": purpose, "source": source, "legal_basis": legal_basis},
        at=at,
    )
    event_log.record(
        session,
        EventType.CONSENT_CHANGED,
        at=at,
        key=f"passenger:{passenger_id}",
        passenger_id=passenger_id,
        data={"passenger_id": passenger_id, "channel": channel, "purpose": purpose, "state": state, "source": source},
    )
    return True
