"""Token buckets in Redis, shared by every worker process: one Lua call per take is atomic, and
a provider's Retry-After blocks the bucket for the whole fleet, not just the worker that got it.

Keys carry a hash tag per bucket (`rebook:{bucket:whatsapp:<sender>}` and its `:blocked` twin)
so a script only touches keys of one slot, as Redis Cluster requires. Time is the Redis
server's clock (`TIME`) so workers on different hosts agree; tests may inject their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis

from infra.db import CONNECT_TIMEOUT_S

# KEYS[1] state hash {tokens, ts}, KEYS[2] blocked-until (seconds, expires by itself).
# ARGV: rate, burst, cost, mode ('take' | 'charge' | 'peek'), now ('' = server clock), floor (tokens a take
# must leave: the reserve for answers), debt (tokens a granted take owes on top: a long SMS's other segments).
# Returns {granted 0/1, wait in microseconds, now in microseconds}; 'peek' changes nothing and
# returns {tokens in microtokens, seconds blocked in microseconds, now}.
_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local floor = tonumber(ARGV[6] or '0') or 0
local debt = tonumber(ARGV[7] or '0') or 0
local now
if ARGV[5] ~= '' then
  now = tonumber(ARGV[5])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
  ts = now
end
local granted = 0
local wait = 0
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[4] == 'charge' then
  tokens = tokens - cost
  granted = 1
elseif ARGV[4] == 'peek' then
  return {math.floor(tokens * 1000000), math.ceil(math.max(blocked - now, 0) * 1000000), math.floor(now * 1000000)}
elseif blocked > now then
  wait = blocked - now
elseif tokens - cost >= floor then
  tokens = tokens - cost - debt
  granted = 1
else
  wait = (cost + floor - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(((burst - tokens) / rate + (ts - now)) * 1000) + 1000)
return {granted, math.ceil(wait * 1000000), math.floor(now * 1000000)}
"""

# KEYS as above. ARGV: rate, burst, seconds, now ('' = server clock). The bucket refills from
# empty once the block ends, so the fleet does not answer a 429 with a full burst.
_BLOCK = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local seconds = tonumber(ARGV[3])
local now
if ARGV[4] ~= '' then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local untl = now + seconds
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if untl <= current then
  return 0
end
redis.call('SET', KEYS[2], string.format('%.6f', untl), 'PX', math.ceil(seconds * 1000) + 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens')
local tokens = math.min(tonumber(state[1]) or 0, 0)
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', untl))
redis.call('PEXPIRE', KEYS[1], math.ceil((seconds + (burst - tokens) / rate) * 1000) + 1000)
return 1
"""


class _Limit(Protocol):
    """The shape of `conversations.outbox.ports.Limit` (infra sits below conversations)."""

    @property
    def rate(self) -> float: ...

    @property
    def burst(self) -> float: ...


@dataclass(frozen=True)
class Take:
    """One answer of the script: `at` is the bucket clock's time of the decision, in seconds."""

    granted: bool
    wait: float
    at: float


class RedisBuckets:
    """A `conversations.outbox.ports.BucketStore` in Redis; build one per process and `aclose` it."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "rebook",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self._clock = clock
        self._take: Any = redis.register_script(_TAKE)
        self._block: Any = redis.register_script(_BLOCK)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "rebook", clock: Callable[[], float] | None = None) -> RedisBuckets:
        return cls(Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S), prefix=prefix, clock=clock)

    def keys(self, bucket: str) -> list[str]:
        state = f"{self.prefix}:{{bucket:{bucket}}}"
        return [state, f"{state}:blocked"]

    def _now(self) -> str:
        return "" if self._clock is None else repr(self._clock())

    async def _script(
        self, bucket: str, limit: _Limit, cost: float, mode: str, floor: float = 0.0, debt: float = 0.0
    ) -> tuple[int, float, float]:
        granted, wait_us, now_us = await self._take(
            keys=self.keys(bucket),
            args=[repr(limit.rate), repr(limit.burst), repr(cost), mode, self._now(), repr(floor), repr(debt)],
        )
        return int(granted), int(wait_us) / 1_000_000, int(now_us) / 1_000_000

    async def take_timed(
        self, bucket: str, limit: _Limit, cost: float = 1.0, *, mode: str = "take", floor: float = 0.0, debt: float = 0.0
    ) -> Take:
        granted, wait, at = await self._script(bucket, limit, cost, mode, floor, debt)
        return Take(bool(granted), wait, at)

    async def peek(self, bucket: str, limit: _Limit) -> tuple[float, float]:
        tokens_u, blocked, _ = await self._script(bucket, limit, 0.0, "peek")
        return tokens_u / 1_000_000, blocked

    async def take(self, bucket: str, limit: _Limit, cost: float = 1.0, floor: float = 0.0, debt: float = 0.0) -> float:
        result = await self.take_timed(bucket, limit, cost, floor=floor, debt=debt)
        return 0.0 if result.granted else max(result.wait, 1e-6)

    async def charge(self, bucket: str, limit: _Limit, cost: float) -> None:
        await self.take_timed(bucket, limit, cost, mode="charge")

    async def block(self, bucket: str, limit: _Limit, seconds: float) -> None:
        await self._block(keys=self.keys(bucket), args=[repr(limit.rate), repr(limit.burst), repr(seconds), self._now()])

    async def aclose(self) -> None:
        await self.redis.aclose()
