"""A named lease that one holder at a time keeps by renewing it: one poller per cluster, whatever the worker count.

`hold()` takes the lease when it is free (or expired) and renews it when it is ours; a holder that
stops renewing (it died, it hangs) loses it after `ttl_s` and another takes over. With Redis the
lease is a key holding the holder's token (`SET NX PX`, renewed by a script that checks the token);
without Redis there is one process, and its holders share `LocalLease`'s table.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import ClassVar, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

#: Renew when ours, take when free; 1 when we hold it now.
_HOLD = """
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease(Protocol):
    async def hold(self) -> bool: ...

    async def release(self) -> None: ...


class RedisLease:
    """The lease as a Redis key shared by every process; a Redis error counts as not holding it."""

    def __init__(self, client: Redis, name: str, *, ttl_s: float, token: str | None = None) -> None:
        self.client = client
        self.key = f"rebook:lease:{name}"
        self.ttl_ms = max(int(ttl_s * 1000), 1)
        self.token = token or uuid.uuid4().hex

    async def hold(self) -> bool:
        try:
            return bool(await self.client.eval(_HOLD, 1, self.key, self.token, self.ttl_ms))  # type: ignore[misc]
        except RedisError as exc:
            log.warning("lease not renewed", extra={"lease": self.key, "error": type(exc).__name__})
            return False

    async def release(self) -> None:
        try:
            await self.client.eval(_RELEASE, 1, self.key, self.token)  # type: ignore[misc]
        except RedisError as exc:
            log.warning("lease not released (it expires)", extra={"lease": self.key, "error": type(exc).__name__})


class LocalLease:
    """The same lease among the holders of one process (the embedded setup has no Redis and one process)."""

    _held: ClassVar[dict[str, tuple[str, float]]] = {}

    def __init__(self, name: str, *, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.ttl_s = ttl_s
        self.clock = clock
        self.token = uuid.uuid4().hex

    async def hold(self) -> bool:
        now = self.clock()
        holder, until = self._held.get(self.name, ("", 0.0))
        if holder not in ("", self.token) and until > now:
            return False
        self._held[self.name] = (self.token, now + self.ttl_s)
        return True

    async def release(self) -> None:
        if self._held.get(self.name, ("", 0.0))[0] == self.token:
            del self._held[self.name]
