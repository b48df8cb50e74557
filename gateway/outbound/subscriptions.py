"""Subscriptions as the API changes them: create (with a fresh secret), read, delete, enable again, replay."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.outbound.delivery import PENDING
from gateway.outbound.models import MAX_URL, WebhookDelivery, WebhookSubscription
from gateway.outbound.signing import new_secret
from infra.event_log import EVENTS, EventType

#: Events one replay may queue; a wider range is refused (narrow it, or replay by ids).
MAX_REPLAY = 10_000


class BadEndpoint(ValueError):
    """The URL cannot be an endpoint: not https (http only to loopback where allowed), or not a plain URL."""


class TooManyEvents(ValueError):
    """A replay would queue more than MAX_REPLAY events."""


def check_url(url: str, *, allow_http_loopback: bool) -> str:
    """An absolute https URL without credentials or fragment; plain http only to a loopback host when allowed."""
    if len(url) > MAX_URL:
        raise BadEndpoint(f"url: at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadEndpoint("url: not a valid URL") from exc
    if not parts.hostname or parts.scheme not in ("http", "https"):
        raise BadEndpoint("url: must be an absolute https URL such as https://pss.example.com/rebook-events")
    if parts.username is not None or parts.password is not None:
        raise BadEndpoint("url: must not carry credentials (the signature authenticates each delivery)")
    if parts.fragment:
        raise BadEndpoint("url: must not carry a fragment")
    if port == 0:
        raise BadEndpoint("url: port 0 cannot be reached")
    if parts.scheme == "http" and not (allow_http_loopback and _loopback(parts.hostname)):
        where = "" if allow_http_loopback else " (and only to loopback in the sandbox, or with WEBHOOKS__ALLOW_HTTP_LOOPBACK)"
        raise BadEndpoint(f"url: must use https; plain http only to 127.0.0.1, ::1 or localhost{where}")
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def create(
    s: AsyncSession, *, url: str, events: Sequence[EventType], pii: bool, description: str | None, now: dt.datetime
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its secret (returned here once; stored encrypted)."""
    secret = new_secret()
    sub = WebhookSubscription(
        url=url,
        events=sorted({e.value for e in events}),
        pii=pii,
        description=description,
        secret=secret,
        created_at=now,
        failures=0,
    )
    s.add(sub)
    await s.flush()
    return sub, secret


async def remove(s: AsyncSession, subscription_id: int) -> bool:
    """Delete the subscription and its deliveries; whether it existed."""
    await s.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id))
    result = await s.execute(delete(WebhookSubscription).where(WebhookSubscription.id == subscription_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def enable(s: AsyncSession, subscription_id: int, *, now: dt.datetime) -> WebhookSubscription | None:
    """Close the circuit: the endpoint gets its waiting deliveries now, in order."""
    sub = await s.get(WebhookSubscription, subscription_id)
    if sub is None:
        return None
    sub.disabled_at = None
    sub.disabled_reason = None
    sub.failures = 0
    sub.failing_since = None
    await s.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == PENDING)
        .values(next_attempt_at=now)
    )
    return sub


async def replay(
    s: AsyncSession,
    sub: WebhookSubscription,
    *,
    since: dt.datetime | None,
    until: dt.datetime | None,
    event_ids: Sequence[int] | None,
    now: dt.datetime,
) -> tuple[int, int | None]:
    """Queue again the kept events of the subscription's types in [since, until) or with these ids: how many, and the first."""
    query = select(EVENTS.c.id, EVENTS.c.ordering_key).where(EVENTS.c.type.in_(sub.events))
    if event_ids is not None:
        query = query.where(EVENTS.c.id.in_(list(event_ids)))
    if since is not None:
        query = query.where(EVENTS.c.occurred_at >= since)
    if until is not None:
        query = query.where(EVENTS.c.occurred_at < until)
    count = int(await s.scalar(select(func.count()).select_from(query.subquery())) or 0)
    if count > MAX_REPLAY:
        raise TooManyEvents(f"{count} events match; replay at most {MAX_REPLAY} at a time (narrow since/until)")
    rows = [
        {
            "subscription_id": sub.id,
            "event_id": event_id,
            "ordering_key": key,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event_id, key in (await s.execute(query.order_by(EVENTS.c.id))).all()
    ]
    if rows:
        await s.execute(insert(WebhookDelivery), rows)
    return len(rows), (rows[0]["event_id"] if rows else None)
