"""A per-key and per-address request limit on /v1, so one caller (or one leaked key) cannot starve the others.

Fixed one-minute windows: a counter per (key or address, minute), in Redis when `REBOOK_REDIS_URL` is
set (shared by every gateway process), in the process otherwise. Over the limit the answer is 429 with
`Retry-After` (the seconds left in the window) as a problem. A key is counted by a hash of the token, so
no key is kept in memory or Redis; an unknown key still counts against its address.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any, Protocol

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.http.problems import problem

log = logging.getLogger(__name__)

WINDOW_S = 60
PREFIX = "/v1"
REDIS_PREFIX = "rebook:ratelimit:"


class Counter(Protocol):
    async def hit(self, bucket: str, window: int) -> int:
        """Count one request in `bucket` for this window; the count so far."""
        ...


class LocalCounter:
    """Counters of this process, the previous windows dropped as a new one starts."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, bucket: str, window: int) -> int:
        if window != self._window:
            self._window, self._counts = window, {}
        self._counts[bucket] = n = self._counts.get(bucket, 0) + 1
        return n


class RedisCounter:
    """`INCR` and `EXPIRE` in one round trip; the key lives one window past its own."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def hit(self, bucket: str, window: int) -> int:
        key = f"{REDIS_PREFIX}{bucket}:{window}"
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, 2 * WINDOW_S)
            count, _ = await pipe.execute()
        return int(count)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def key_bucket(scope: Scope) -> str | None:
    """`key:<hash>` for a bearer token (never the token itself), None without one."""
    auth = _header(scope, b"authorization")
    if not auth or auth[:7].lower() != b"bearer ":
        return None
    token = auth[7:].strip()
    return f"key:{hashlib.sha256(token).hexdigest()[:24]}" if token else None


def address_bucket(scope: Scope) -> str:
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


class RateLimiter:
    """The counting: per address first (before any key is looked at), then per key."""

    def __init__(self, *, per_key: int, per_address: int, redis_url: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.per_key = per_key
        self.per_address = per_address
        self.redis_url = redis_url
        self.clock = clock
        self.counter: Counter = LocalCounter()
        self._fallback = LocalCounter()
        self._client: Any = None
        self._warned = False

    async def start(self) -> None:
        """Share the counters through Redis when there is one (called from the app's lifespan)."""
        if self.redis_url and self._client is None:
            from redis.asyncio import Redis

            self._client = Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=2)
            self.counter = RedisCounter(self._client)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.counter = LocalCounter()

    async def refusal(self, scope: Scope) -> Response | None:
        """A 429 problem when this request is one too many, else None (and the request is counted)."""
        now = self.clock()
        window = int(now // WINDOW_S)
        checks = [(address_bucket(scope), self.per_address, "this address")]
        key = key_bucket(scope)
        if key is not None:
            checks.append((key, self.per_key, "this API key"))
        for bucket, limit, who in checks:
            if limit <= 0:
                continue
            try:
                count = await self.counter.hit(bucket, window)
            except Exception as exc:  # Redis down: counted in this process until it answers again
                if not self._warned:
                    log.warning("rate limit counters fell back to this process: Redis %s", type(exc).__name__)
                    self._warned = True
                count = await self._fallback.hit(bucket, window)
            if count > limit:
                retry = max(1, math.ceil((window + 1) * WINDOW_S - now))
                detail = f"more than {limit} requests a minute from {who}; retry in {retry} s"
                return problem(429, detail, headers={"Retry-After": str(retry)})
        return None


class RateLimit:
    """ASGI middleware: /v1 requests pass the limiter before anything else reads them."""

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == PREFIX or path.startswith(PREFIX + "/"):
            refused = await self.limiter.refusal(scope)
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
