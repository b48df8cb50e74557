"""Drive the passenger page in Debian's Chromium through Playwright: a served app, passengers with links.

Used by tests/e2e/test_page_browser.py and by `make screens`. No browser is downloaded: Playwright
launches the Chromium that `apt-get install chromium` put on the machine (`executable_path`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import socket
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import uvicorn
from sqlalchemy import select

from conversations.engine import Status
from conversations.models import Conversation
from conversations.page import actions, links
from conversations.page.models import PageLink
from gateway.http.app import create_app
from rebooking_core.generate import generate
from tests.gateway.conftest import Gateway, World, running

#: Where Debian's `chromium` package puts the browser (the /usr/bin one is a wrapper script).
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")
#: Set by .ci/run: without a browser the browser tests fail instead of skipping.
REQUIRE_ENV = "REBOOK_TEST_REQUIRE_BROWSER"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def chromium() -> str | None:
    """The Chromium binary to launch: REBOOK_TEST_CHROMIUM, else Debian's."""
    named = os.environ.get("REBOOK_TEST_CHROMIUM")
    for candidate in ((named,) if named else ()) + CANDIDATES:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium")
    return found


def browser_required() -> bool:
    return bool(os.environ.get(REQUIRE_ENV)) or os.environ.get("CI", "").lower() in ("1", "true")


def small_world(seed: int = 5) -> World:
    """The gateway tests' world: a generated network cut to the bookings on its two busiest flights."""
    day = dt.date.today() + dt.timedelta(days=10)
    dataset = generate(seed=seed, start=day, days=2, passengers=3000)

    def keys(b):  # type: ignore[no-untyped-def]
        return {(s.carrier, s.number, s.date) for s in b.segments}

    busiest = Counter(k for b in dataset.bookings for k in keys(b) if k[2] == day).most_common(2)
    target, other = busiest[0][0], busiest[1][0]
    kept = [b for b in dataset.bookings if keys(b) & {target, other}]
    return World(schedule=dataset.schedule, bookings=kept, target=target, other=other)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """The app on a real loopback port, its passengers offered options."""

    g: Gateway
    base: str

    async def conversations(self) -> list[Conversation]:
        async with self.g.container.db.reading() as s:
            found = await s.scalars(
                select(Conversation)
                .where(Conversation.status == Status.OFFERED.value, Conversation.passenger_id.is_not(None))
                .order_by(Conversation.id)
            )
            return list(found)

    async def link(self, conv: Conversation, *, locale: str | None = None, expired: bool = False) -> str:
        """A page URL for the conversation (in `locale`), live or already expired."""
        now = self.g.container.clock()
        async with self.g.container.db.transaction() as s:
            token = links.mint(
                s,
                booking_id=conv.booking_id,
                disruption_id=conv.disruption_id,
                now=now - dt.timedelta(days=30) if expired else now,
                ttl=links.DEFAULT_TTL,
            )
        if locale is not None:
            async with self.g.container.db.reading() as s:
                link = (await s.scalars(select(PageLink).where(PageLink.token_hash == links.token_hash(token)))).one()
            await actions.set_language(self.g.container.service, link, locale)
        return f"{self.base}/p/{token}"


@contextlib.asynccontextmanager
async def served(db_url: str, world: World) -> AsyncIterator[Served]:
    """A disruption on the world's busiest flight, offers sent, and the app listening on 127.0.0.1."""
    async with running(db_url, world) as g:
        answer = await g.disrupt(world.target)
        if answer.status_code != 202:
            raise RuntimeError(f"disruption refused: {answer.status_code}")
        await g.settle()
        port = _free_port()
        # The container is already started by `running`: the served app must not start or close it again.
        server = uvicorn.Server(
            uvicorn.Config(create_app(g.container), host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        )
        task = asyncio.create_task(server.serve())
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as probe:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get(f"{base}/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.02)
        try:
            yield Served(g, base)
        finally:
            server.should_exit = True
            await task
