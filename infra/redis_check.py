"""Start-up check of REBOOK_REDIS_URL: one PING within the connect timeout, failures as one line naming the host."""

from __future__ import annotations

from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeout

from infra.db import CONNECT_TIMEOUT_S


class RedisUnreachable(ConnectionError):
    """Redis did not answer a PING; the message names HOST:PORT/DB, never the password."""


def where(url: str) -> str:
    """HOST:PORT/DB of a Redis URL (or the socket path), safe to print: no user, no password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix:{parts.path}"
    db = parts.path.strip("/") or "0"
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}/{db}"


async def require_redis(url: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise RedisUnreachable unless Redis answers a PING within `timeout_s` (connect and reply each)."""
    # A read timeout here only, for the probe: the long-lived clients keep none, as blocking reads
    # (stream XREADGROUP, pub/sub) legitimately wait longer than any connect should.
    client = Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        await client.ping()
    except (RedisTimeout, TimeoutError) as exc:
        raise RedisUnreachable(f"Redis at {where(url)} did not answer within {timeout_s:g} s (REBOOK_REDIS_URL)") from exc
    except (RedisError, OSError) as exc:
        raise RedisUnreachable(f"cannot use Redis at {where(url)} (REBOOK_REDIS_URL): {exc or type(exc).__name__}") from exc
    finally:
        await client.aclose()
