"""A cross-process doorbell for the outbox: whoever commits a message rings, every worker wakes.

Without it a worker only sees rows written by other processes (the gateway's webhooks, another
worker's fan-out) when its poll interval comes round; with it a booking confirmation leaves
within milliseconds of the reply. Redis pub/sub loses rings while a subscriber is away, which is
harmless: the poll still finds every row, the bell only makes it sooner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from redis.asyncio import Redis

log = logging.getLogger(__name__)

CHANNEL = "rebook:outbox"


class Doorbell:
    def __init__(self, client: Redis, *, channel: str = CHANNEL, min_interval_s: float = 0.025) -> None:
        self.client = client
        self.channel = channel
        #: Rings within this long of a publish fold into one after it: a gateway committing 100
        #: replies a second rings 40 times, not 100, and dispatchers wait longer than this anyway.
        self.min_interval_s = min_interval_s
        self._ringing: asyncio.Task[None] | None = None
        self._again = False

    @classmethod
    def from_url(cls, url: str, *, min_interval_s: float = 0.025) -> Doorbell:
        return cls(Redis.from_url(url, socket_connect_timeout=2), min_interval_s=min_interval_s)

    def ring(self) -> None:
        """Publish once; rings while a publish is in flight, or within `min_interval_s` after it, fold into one more."""
        if self._ringing is not None and not self._ringing.done():
            self._again = True
            return
        try:
            self._ringing = asyncio.get_running_loop().create_task(self._publish())
        except RuntimeError:  # no running loop (a CLI tool): nobody to wake in this process either
            return

    async def _publish(self) -> None:
        while True:
            self._again = False
            try:
                await self.client.publish(self.channel, b"")
            except Exception as exc:  # the poll is the safety net; a lost ring only costs latency
                log.warning("outbox doorbell not rung: %s", type(exc).__name__)
                return
            await asyncio.sleep(self.min_interval_s)
            if not self._again:
                return

    async def listen(self, on_ring: Callable[[], None], *, retry_s: float = 1.0) -> None:
        """Call `on_ring` for every ring until cancelled; reconnects after Redis errors."""
        while True:
            try:
                async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    on_ring()  # rings missed while away: look once
                    async for _ in pubsub.listen():
                        on_ring()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox doorbell unreachable (%s); polling until it is back", type(exc).__name__)
                await asyncio.sleep(retry_s)

    async def take_turn(self, seconds: float) -> bool:
        """Claim the next small round for this process, if no worker started one in the last `seconds`.

        Trickling messages (a few booking replies a second) are cheapest sent by one worker in
        rounds of several: a round costs three transactions whatever it carries, and two workers
        each sending every round they find would halve every round. A backlog (a full batch) never asks. Without Redis
        every worker may go (the turn is an economy, not a lock).
        """
        try:
            return bool(await self.client.set(f"{self.channel}:turn", b"", nx=True, px=max(1, int(seconds * 1000))))
        except Exception as exc:
            log.warning("outbox turn not taken: %s", type(exc).__name__)
            return True

    async def announce_fanout(self, seconds: float) -> None:
        """Tell every worker that options are being generated somewhere for the next `seconds`."""
        try:
            await self.client.set(f"{self.channel}:fanout", b"", px=max(1, int(seconds * 1000)))
        except Exception as exc:
            log.warning("fan-out not announced: %s", type(exc).__name__)

    async def fanout_elsewhere(self) -> bool:
        """Whether some worker announced a fan-out that has not lapsed (False without Redis: send)."""
        try:
            return bool(await self.client.exists(f"{self.channel}:fanout"))
        except Exception as exc:
            log.warning("fan-out announcement unreadable: %s", type(exc).__name__)
            return False

    async def aclose(self) -> None:
        if self._ringing is not None:
            with contextlib.suppress(Exception):
                await self._ringing
        await self.client.aclose()
