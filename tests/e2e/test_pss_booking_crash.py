"""A worker killed between the PSS's booking and its commit: one PSS booking, the passenger told once.

The database is migrated and the choice made in this process (the gateway's side: the intent is
recorded with it). Then a real `rebook worker` process, aimed at the contract-keeping fake PSS,
claims the change and sends it; the fake applies it and holds the answer. While the worker waits,
it is SIGKILLed. A fresh worker starts: once the dead one's lease runs out it asks the PSS what
became of the change (`change_status`), finds it confirmed and books the held seats locally, and
its dispatcher sends "booked". On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from channels.sandbox import Sandbox
from conversations.engine import Status
from conversations.pnr_changes.models import PnrChangeRow
from gateway.container import build
from gateway.migrate import upgrade_async
from gateway.settings import Settings
from rebooking_core.airline.ports import FlightKey
from rebooking_core.models import Booking, Flight, Inventory, SeatHold, Segment
from tests.conversations.conftest import Clock, Pax, Rig, _network
from tests.fakes.pss import TOKEN, FakePss
from tests.fakes.server import LocalServer

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
#: Seconds a worker holds a claimed change; the fresh worker takes it over after this.
LEASE_S = 2
WAIT_S = 60.0


def _key(f: Flight) -> FlightKey:
    return FlightKey(f.carrier, f.number, f.service_date)


@dataclass
class Workers:
    """`rebook worker` processes on the test's database and fake PSS; killed with SIGKILL, nothing else is."""

    env: dict[str, str]
    logs: Path
    procs: list[subprocess.Popen[bytes]]

    def start(self) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{len(self.procs) + 1}.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli.main", "worker"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def sigkill(self, proc: subprocess.Popen[bytes]) -> None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)

    def tails(self) -> str:
        return "\n".join(
            f"--- {p.name} ---\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.logs.glob("*.log"))
        )


@pytest.fixture
def fake() -> FakePss:
    return FakePss()


@pytest.fixture
def pss_url(fake: FakePss) -> Iterator[str]:
    with LocalServer(fake.app) as srv:
        yield srv.url


@pytest.fixture
async def rig(empty_db_url: str, pss_url: str, fake: FakePss) -> AsyncIterator[Rig]:
    await upgrade_async(empty_db_url)
    settings = Settings(  # type: ignore[call-arg]
        sandbox=True,
        database_url=empty_db_url,
        pss={"adapter": "http", "base_url": pss_url, "token": TOKEN},
        _env_file=None,
    )
    clock = Clock()
    sandbox = Sandbox()
    c = build(settings, clock=clock, sandbox=sandbox)
    await c.start()
    try:
        disrupted, alternatives = await _network(c, clock)
        for f in [disrupted, *alternatives]:
            fake.add_flight(_key(f), {"Y": 100})
        yield Rig(c, sandbox, clock, disrupted, alternatives)
    finally:
        await c.aclose()


@pytest.fixture
def workers(empty_db_url: str, pss_url: str, tmp_path: Path) -> Iterator[Workers]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REBOOK_")},
        "REBOOK_DATABASE_URL": empty_db_url,
        "REBOOK_SANDBOX": "true",
        "REBOOK_PSS__ADAPTER": "http",
        "REBOOK_PSS__BASE_URL": pss_url,
        "REBOOK_PSS__TOKEN": TOKEN,
        # The first worker waits on the held answer (it is killed first); the second asks and is answered at once.
        "REBOOK_PSS__READ_TIMEOUT_S": "30",
        "REBOOK_PSS_BOOKING__LEASE_S": str(LEASE_S),
        "REBOOK_PSS_BOOKING__EVERY_S": "0.2",
        "REBOOK_WORKER_METRICS_PORT": "0",
        "PYTHONUNBUFFERED": "1",
    }
    w = Workers(env, tmp_path, [])
    try:
        yield w
    finally:
        w.stop()


async def _until(what: str, check: Callable[[], Awaitable[bool]], workers: Workers) -> None:
    deadline = time.monotonic() + WAIT_S
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{workers.tails()}")
        await asyncio.sleep(0.1)


async def _passenger(rig: Rig, fake: FakePss) -> Pax:
    who = await rig.add_pax(("sms",))
    fake.add_pnr(who.locator, [(_key(rig.disrupted), "Y")], version=1)
    async with rig.c.db.transaction() as s:
        booking = await s.get(Booking, who.booking_id)
        assert booking is not None
        booking.version = 1
    return who


async def _intent(rig: Rig) -> PnrChangeRow:
    async with rig.c.db.reading() as s:
        return (await s.scalars(select(PnrChangeRow))).one()


async def _counters_match(rig: Rig) -> None:
    async with rig.c.db.reading() as s:
        sold: dict[Any, Any] = dict(
            (
                await s.execute(
                    select(Segment.flight_id, func.count())
                    .where(Segment.status == "HK")
                    .group_by(Segment.flight_id)
                )
            ).all()
        )
        held: dict[Any, Any] = dict(
            (
                await s.execute(
                    select(SeatHold.flight_id, func.sum(SeatHold.seats))
                    .where(SeatHold.status == "held")
                    .group_by(SeatHold.flight_id)
                )
            ).all()
        )
        for inv in (await s.scalars(select(Inventory))).all():
            assert (inv.sold, inv.held) == (
                sold.get(inv.flight_id, 0),
                held.get(inv.flight_id) or 0,
            ), f"flight {inv.flight_id}"


async def test_a_worker_killed_after_the_pss_booked_and_before_its_commit(
    rig: Rig, fake: FakePss, workers: Workers
) -> None:
    a = await _passenger(rig, fake)
    await rig.offered(a)
    [first, *_] = await rig.options(a)
    await rig.reply("sms", a, "1")
    assert (await rig.conversation(a)).status == Status.CONFIRMING
    fake.stall_next(
        WAIT_S * 2, op="modify", apply=True
    )  # the PSS books, and its answer never comes back

    doomed = workers.start()

    async def pss_booked() -> bool:
        assert doomed.poll() is None, workers.tails()
        return len(fake.applied) == 1

    await _until("the PSS to apply the change", pss_booked, workers)
    workers.sigkill(doomed)

    intent = await _intent(rig)
    assert (intent.state, intent.attempts) == ("sending", 1), "the answer was never committed"
    assert intent.lease_until is not None
    assert (await rig.conversation(a)).status == Status.CONFIRMING
    assert [m.key for m in await rig.outbox(a)] == ["offer"], (
        "not told: the PSS's answer never reached rebook"
    )

    workers.start()

    async def told() -> bool:
        rows = await rig.outbox(a)
        return any(m.key == "booked" and m.status == "sent" for m in rows)

    await _until("the fresh worker to book and tell the passenger", told, workers)

    assert len(fake.applied) == 1, "exactly one PSS booking"
    assert [r for r in fake.requests if r[0] == "modify"] in ([], [("modify", 200)]), (
        "the change was never sent again"
    )
    assert ("status", 200) in fake.requests, "the fresh worker asked the PSS first"
    assert [(seg[0][1], seg[2]) for seg in fake.pnr(a.locator).segments] == [
        (rig.disrupted.number, "HX"),
        (next(f.number for f in rig.alternatives if f.id == first.flight_ids[0]), "HK"),
    ]
    conv = await rig.conversation(a)
    assert conv.status == Status.BOOKED and conv.booked_option_id == first.id
    assert [m.key for m in await rig.outbox(a)] == ["offer", "booked"], "told once"
    intent = await _intent(rig)
    assert (intent.state, intent.attempts, intent.lease_until) == ("confirmed", 2, None)
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (first.flight_ids[0], "HK")]
    assert (await rig.inventory())[first.flight_ids[0]] == (1, 0)
    await _counters_match(rig)
