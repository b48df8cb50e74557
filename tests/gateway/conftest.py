"""Gateway fixtures: a migrated database per test (SQLite and PostgreSQL), a generated world, the app."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from channels.sandbox import Sandbox, SandboxMessage
from gateway.container import Container, build
from gateway.http.app import create_app
from gateway.migrate import upgrade_async
from gateway.settings import Settings
from rebooking_core.generate import generate
from rebooking_core.importer import import_bookings, import_schedule
from rebooking_core.records import BookingRecord, ScheduleRecord

OPS_KEY = "k-test"
DAY = dt.date.today() + dt.timedelta(days=10)

FlightId = tuple[str, str, dt.date]


@dataclass(frozen=True)
class World:
    """A generated network cut down to the bookings on two busy flights, so imports stay fast."""

    schedule: list[ScheduleRecord]
    bookings: list[BookingRecord]
    target: FlightId
    other: FlightId

    def passengers_on(self, flight: FlightId) -> int:
        return sum(len(b.passengers) for b in self.bookings if flight in _keys(b))

    def bookings_on(self, flight: FlightId) -> int:
        return sum(1 for b in self.bookings if flight in _keys(b))


def _keys(booking: BookingRecord) -> set[FlightId]:
    return {(s.carrier, s.number, s.date) for s in booking.segments}


@pytest.fixture(scope="session")
def world() -> World:
    dataset = generate(seed=5, start=DAY, days=2, passengers=3000)
    busiest = Counter(k for b in dataset.bookings for k in _keys(b) if k[2] == DAY).most_common(2)
    target, other = busiest[0][0], busiest[1][0]
    kept = [b for b in dataset.bookings if _keys(b) & {target, other}]
    w = World(schedule=dataset.schedule, bookings=kept, target=target, other=other)
    if w.bookings_on(target) < 4:
        raise RuntimeError("the generated world changed: the target flight needs at least 4 bookings")
    return w


async def empty_schema(url: str) -> None:
    """Drop everything in a PostgreSQL database, Alembic's version table included."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path, pg_url: str) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """An empty database on each supported engine (PostgreSQL: the session's database, emptied)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}"
        return
    await empty_schema(pg_url)
    yield pg_url


def sandbox_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"sandbox": True, "database_url": database_url, "ops_api_keys": OPS_KEY}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@dataclass
class Gateway:
    container: Container
    client: httpx.AsyncClient
    world: World

    @property
    def sandbox(self) -> Sandbox:
        if self.container.sandbox is None:
            raise RuntimeError("sandbox settings build a sandbox")
        return self.container.sandbox

    async def settle(self) -> None:
        """Run every queued job, then send everything in the outbox."""
        await self.container.jobs.wait_idle()
        await self.container.dispatcher.drain()

    async def disrupt(self, flight: FlightId, **extra: object) -> httpx.Response:
        carrier, number, date = flight
        body: dict[str, object] = {"flight": {"carrier": carrier, "number": number, "date": date.isoformat()}, "kind": "cancelled"}
        body.update(extra)
        return await self.client.post("/v1/disruptions", json=body)

    async def say(self, message: SandboxMessage, text: str) -> None:
        """The passenger who got `message` answers it with `text` (a number picks that option)."""
        await self.container.inbound.accept([self.sandbox.reply(message.channel, message.to, text)])
        await self.settle()


@contextlib.asynccontextmanager
async def running(db_url: str, world: World, *, load: bool = True, **overrides: object) -> AsyncIterator[Gateway]:
    """The whole app as `rebook serve` wires it, on a migrated database (holding the world if `load`)."""
    await upgrade_async(db_url)
    container = build(sandbox_settings(db_url, **overrides))
    await container.start()
    try:
        if load:
            async with container.db.transaction() as s:
                await import_schedule(s, world.schedule)
            async with container.db.transaction() as s:
                await import_bookings(s, world.bookings)
        transport = httpx.ASGITransport(app=create_app(container))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://rebook.test", headers={"Authorization": f"Bearer {OPS_KEY}"}
        ) as client:
            yield Gateway(container, client, world)
    finally:
        await container.aclose()


@pytest.fixture
async def gateway(db_url: str, world: World) -> AsyncIterator[Gateway]:
    async with running(db_url, world) as g:
        yield g
