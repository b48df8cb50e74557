"""Wires provider pacing from settings: Redis buckets shared by all workers when Redis is set."""

from __future__ import annotations

from collections.abc import Iterable

from conversations.outbox.pacing import LocalBuckets, Pacer
from conversations.outbox.ports import BucketStore, ChannelPace, Limit, Pacing
from gateway.settings import ChannelPacing, Settings
from infra.ratelimit import RedisBuckets
from rebooking_core.types import PUSH_SERVICES

#: Channels whose lanes are services with limits of their own: push's `apns` and `fcm` lanes are paced by
#: REBOOK_PACING__APNS__* and REBOOK_PACING__FCM__*, not by one push-wide bucket.
SERVICE_LANES: dict[str, tuple[str, ...]] = {"push": tuple(PUSH_SERVICES.values())}
#: A service that publishes no rate is sent unpaced; its bucket only exists so a 429's Retry-After can close the lane.
OPEN_LANE = Limit(1_000_000.0, 1_000_000.0)


def _limit(rate: float, burst: float | None, reserve: float = 0.0) -> Limit | None:
    """Without a burst of its own a bucket holds a second's worth, and always the reserve and two more: a wave's
    turn then comes before the bucket is full, so no refill is lost at the brim."""
    return Limit(rate, burst if burst is not None else max(rate, 2.0 + reserve)) if rate > 0 else None


def channel_pace(name: str, pacing: ChannelPacing, settings: Settings) -> ChannelPace:
    """The sender is the provider's own rate-limit scope: WhatsApp phone number id, Twilio number."""
    own = {"whatsapp": settings.whatsapp.phone_number_id, "sms": settings.twilio.from_number}.get(name)
    return ChannelPace(
        sender_id=pacing.sender or own or "default",
        per_sender=_limit(pacing.rate, pacing.burst, pacing.reserve),
        per_recipient=_limit(pacing.recipient_rate, pacing.recipient_burst),
        count_segments=name == "sms",
        recipient_codes=frozenset(pacing.recipient_limit_codes),
        reserve=pacing.reserve if pacing.rate > 0 else 0.0,
    )


def service_pace(service: str, pacing: ChannelPacing) -> ChannelPace:
    """One service's lane (the sender is the service): its configured rate, else open until a 429 closes it."""
    return ChannelPace(
        sender_id=service,
        per_sender=_limit(pacing.rate, pacing.burst, pacing.reserve) or OPEN_LANE,
        per_recipient=_limit(pacing.recipient_rate, pacing.recipient_burst),
        recipient_codes=frozenset(pacing.recipient_limit_codes),
        reserve=pacing.reserve if pacing.rate > 0 else 0.0,
    )


def build_pacer(settings: Settings, channels: Iterable[str]) -> Pacer:
    """The sandbox has no provider limits to respect, so it is not paced."""
    if settings.sandbox:
        return Pacer({})
    names = list(channels)
    paces = {name: channel_pace(name, settings.pacing.for_channel(name), settings) for name in names}
    for name in names:
        for service in SERVICE_LANES.get(name, ()):
            paces[f"{name}:{service}"] = service_pace(service, settings.pacing.for_channel(service))
    store: BucketStore = RedisBuckets.from_url(settings.redis_url) if settings.redis_url else LocalBuckets()
    return Pacer(paces, store)


async def close_pacer(pacer: Pacing) -> None:
    store = getattr(pacer, "store", None)
    if isinstance(store, RedisBuckets):
        await store.aclose()
