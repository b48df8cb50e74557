"""Erasure in Redis: every key, of every type, that names the passenger or holds one of their identifiers."""

from __future__ import annotations

import re
from collections.abc import Iterable

from redis.asyncio import Redis

from infra.db import CONNECT_TIMEOUT_S


def needles(identifiers: Iterable[str]) -> list[bytes]:
    """What to look for: each identifier as given, and phone numbers also as bare digits."""
    found: set[bytes] = set()
    for value in identifiers:
        if len(value) >= 3:
            found.add(value.encode())
        digits = "".join(ch for ch in value if ch.isdigit())
        if len(digits) >= 6 and not any(ch.isalpha() for ch in value):
            found.add(digits.encode())
    return sorted(found)


def _holds(value: bytes | str, wanted: list[bytes]) -> bool:
    raw = value.encode() if isinstance(value, str) else value
    return any(w in raw for w in wanted)


async def scrub(url: str, *, passenger_id: int, identifiers: Iterable[str]) -> int:
    """Delete keys named for the passenger and remove entries mentioning them; returns what was removed."""
    wanted = needles(identifiers)
    named = re.compile(rb"(^|:)pax:" + str(passenger_id).encode() + rb"(:|$)")
    client: Redis = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S)
    removed = 0
    try:
        async for key in client.scan_iter(count=500):
            if named.search(key):
                removed += int(await client.delete(key))
                continue
            if wanted:
                removed += await _scrub_key(client, key, wanted)
    finally:
        await client.aclose()
    return removed


async def _scrub_key(client: Redis, key: bytes, wanted: list[bytes]) -> int:
    kind = await client.type(key)
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if kind == "string":
        value = await client.get(key)
        return int(await client.delete(key)) if value is not None and _holds(value, wanted) else 0
    if kind == "hash":
        fields = [f for f, v in (await client.hgetall(key)).items() if _holds(f, wanted) or _holds(v, wanted)]
        return int(await client.hdel(key, *fields)) if fields else 0
    if kind == "list":
        n = 0
        for item in set(await client.lrange(key, 0, -1)):
            if _holds(item, wanted):
                n += int(await client.lrem(key, 0, item))  # type: ignore[arg-type]
        return n
    if kind == "set":
        members = [m for m in await client.smembers(key) if _holds(m, wanted)]
        return int(await client.srem(key, *members)) if members else 0
    if kind == "zset":
        members = [m for m in await client.zrange(key, 0, -1) if isinstance(m, bytes | str) and _holds(m, wanted)]
        return int(await client.zrem(key, *members)) if members else 0
    if kind == "stream":
        return await _scrub_stream(client, key, wanted)
    return 0


async def _scrub_stream(client: Redis, key: bytes, wanted: list[bytes]) -> int:
    n = 0
    start = "-"
    while True:
        entries = await client.xrange(key, min=start, max="+", count=500)
        if not entries:
            return n
        doomed = [
            entry_id
            for entry_id, fields in entries
            if entry_id is not None and any(_holds(k, wanted) or _holds(v, wanted) for k, v in (fields or {}).items())
        ]
        if doomed:
            n += int(await client.xdel(key, *doomed))
        last = entries[-1][0]
        start = "(" + (last.decode() if isinstance(last, bytes) else str(last))
