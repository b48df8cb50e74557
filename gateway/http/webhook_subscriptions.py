"""`/v1/webhooks`: the airline's endpoints for signed outbound events (scope `webhooks`; docs/webhooks.md).

`POST` answers with the subscription and its `secret`, shown this once (stored encrypted, never
listed again; an `Idempotency-Key` retry gets the same answer, kept encrypted like every stored answer).
`GET` lists them a page at a time, `DELETE` removes one with its queued deliveries,
`POST …/enable` closes an open circuit, `POST …/replay` queues kept events again.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response, status
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from gateway.auth import WEBHOOKS
from gateway.http.api import Wired, require_scope
from gateway.http.idempotency import IDEMPOTENT
from gateway.http.inputs import ID_MAX, ID_MIN, Line, PathId
from gateway.http.pagination import Page, PageRequest
from gateway.http.problems import responses
from gateway.outbound import subscriptions
from gateway.outbound.models import MAX_URL, WebhookSubscription
from gateway.outbound.payloads import message_id
from infra.event_log import EventType

#: Event ids one replay may name.
MAX_REPLAY_IDS = 1000
EVENT_ID = r"^evt_[0-9]{1,19}$"


class SubscriptionIn(BaseModel):
    url: Line = Field(max_length=MAX_URL, description="https URL the events are POSTed to (plain http only to loopback in the sandbox).")
    events: list[EventType] = Field(min_length=1, max_length=len(EventType), description="Event types to receive.")
    pii: bool = Field(default=False, description="true: payloads about a booking carry its `locator` too (personal data).")
    description: Line | None = Field(default=None, max_length=200)


class SubscriptionOut(BaseModel):
    id: int
    url: str
    events: list[str]
    pii: bool
    description: str | None
    enabled: bool
    disabled_at: dt.datetime | None
    disabled_reason: str | None = Field(description="`failing` (the circuit opened) or `gone` (the endpoint answered 410).")
    created_at: dt.datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="`whsec_…`: verify every delivery with it. Shown only in this answer.")


class SubscriptionPage(Page[SubscriptionOut]):
    """Subscriptions, oldest first; secrets are never listed."""


class ReplayIn(BaseModel):
    """Kept events of the subscription's types: in [since, until), or by id (`evt_…`, the `webhook-id` they were sent with)."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    event_ids: list[Annotated[str, Field(pattern=EVENT_ID)]] | None = Field(default=None, min_length=1, max_length=MAX_REPLAY_IDS)

    @model_validator(mode="after")
    def bounded(self) -> ReplayIn:
        if self.since is None and self.event_ids is None:
            raise ValueError("name `since` (and optionally `until`) or `event_ids`")
        for value in (self.since, self.until):
            if value is not None and value.tzinfo is None:
                raise ValueError("since and until must carry a time zone (e.g. …Z)")
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValueError("until must be after since")
        return self

    def ids(self) -> list[int] | None:
        if self.event_ids is None:
            return None
        found = [int(e.removeprefix("evt_")) for e in self.event_ids]
        if any(not ID_MIN <= i <= ID_MAX for i in found):
            raise HTTPException(422, "event_ids: not an event id")
        return found


class Replayed(BaseModel):
    replayed: int = Field(description="Deliveries queued; they go in event order, after anything already waiting for the same conversation.")
    first: str | None = Field(default=None, description="`webhook-id` of the first event queued.")


router = APIRouter(prefix="/v1/webhooks", dependencies=[Depends(require_scope(WEBHOOKS))], tags=["webhooks"], responses=responses(401, 403))


def _out(sub: WebhookSubscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.id,
        url=sub.url,
        events=list(sub.events),
        pii=sub.pii,
        description=sub.description,
        enabled=sub.disabled_at is None,
        disabled_at=sub.disabled_at,
        disabled_reason=sub.disabled_reason,
        created_at=sub.created_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated, responses=responses(409), dependencies=[IDEMPOTENT])
async def create_subscription(body: SubscriptionIn, c: Wired) -> SubscriptionCreated:
    allow_http = c.settings.sandbox or c.settings.webhooks.allow_http_loopback
    try:
        url = subscriptions.check_url(body.url, allow_http_loopback=allow_http)
    except subscriptions.BadEndpoint as exc:
        raise HTTPException(422, str(exc)) from exc
    async with c.db.transaction() as s:
        sub, secret = await subscriptions.create(s, url=url, events=body.events, pii=body.pii, description=body.description, now=c.clock())
    return SubscriptionCreated(**_out(sub).model_dump(), secret=secret)


@router.get("", response_model=SubscriptionPage)
async def list_subscriptions(c: Wired, page: PageRequest) -> SubscriptionPage:
    async with c.db.reading() as s:
        rows = list((await s.scalars(page.keyset(select(WebhookSubscription), WebhookSubscription.id))).all())
    shown, next_cursor = page.cut(rows, lambda sub: (sub.id,))
    return SubscriptionPage(items=[_out(sub) for sub in shown], next_cursor=next_cursor)


@router.get("/{subscription_id}", response_model=SubscriptionOut, responses=responses(404))
async def get_subscription(subscription_id: PathId, c: Wired) -> SubscriptionOut:
    async with c.db.reading() as s:
        sub = await s.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise HTTPException(404, f"no webhook subscription {subscription_id}")
    return _out(sub)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404))
async def delete_subscription(subscription_id: PathId, c: Wired) -> Response:
    async with c.db.transaction() as s:
        if not await subscriptions.remove(s, subscription_id):
            raise HTTPException(404, f"no webhook subscription {subscription_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{subscription_id}/enable", response_model=SubscriptionOut, responses=responses(404))
async def enable_subscription(subscription_id: PathId, c: Wired) -> SubscriptionOut:
    async with c.db.transaction() as s:
        sub = await subscriptions.enable(s, subscription_id, now=c.clock())
        if sub is None:
            raise HTTPException(404, f"no webhook subscription {subscription_id}")
        out = _out(sub)
    c.wake()
    return out


@router.post(
    "/{subscription_id}/replay", status_code=status.HTTP_202_ACCEPTED, response_model=Replayed, responses=responses(404, 409),
    dependencies=[IDEMPOTENT],
)
async def replay_events(subscription_id: PathId, body: ReplayIn, c: Wired) -> Replayed:
    ids = body.ids()
    async with c.db.transaction() as s:
        sub = await s.get(WebhookSubscription, subscription_id)
        if sub is None:
            raise HTTPException(404, f"no webhook subscription {subscription_id}")
        try:
            count, first = await subscriptions.replay(s, sub, since=body.since, until=body.until, event_ids=ids, now=c.clock())
        except subscriptions.TooManyEvents as exc:
            raise HTTPException(422, str(exc)) from exc
    c.wake()
    return Replayed(replayed=count, first=message_id(first) if first is not None else None)
