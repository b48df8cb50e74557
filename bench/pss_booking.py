"""Two-phase booking against a remote PSS (#17.2): what a choice costs, and how fast the worker's pump drains changes.

N passengers on one cancelled flight choose their first option over SMS, on PostgreSQL, once with
the built-in store (booked in the reply's transaction) and once with `HttpPss` against the fake PSS
of tests/fakes/pss.py on loopback (the reply records the intent; the pump sends it). Prints, as
JSON: SQL statements per reply in each mode, and for the pump the wall time, changes confirmed per
second and statements per confirmed change (the claim, the answer, the local booking and the
engine's "booked"). In-process, no Redis; the fake answers at once, so the pump's rate is rebook's
own cost plus one loopback HTTP round trip per change (two without a PNR version: a read first).

    .venv/bin/python bench/pss_booking.py --passengers 200

Measured (2 cores, PostgreSQL 15, load ~3 with other engineers' tests running):

| --passengers | built-in store: statements per reply | two-phase: per reply | pump: confirmed/s | statements per change |
|---|---|---|---|---|
| 100 | 8.0 | 11.0 | 131 (0.76 s) | 13.3 |
| 400 | 8.0 | 11.0 | 93 (4.3 s)   | 13.3 |
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.disruption import _pg_create, _pg_drop  # noqa: E402
from channels.sandbox import Sandbox  # noqa: E402
from gateway.container import build  # noqa: E402
from gateway.migrate import upgrade_async  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from infra import crypto  # noqa: E402
from rebooking_core.airline.ports import FlightKey  # noqa: E402
from rebooking_core.models import Booking, Flight, Inventory  # noqa: E402
from tests.conversations.conftest import Clock, Rig, _network  # noqa: E402
from tests.fakes.pss import TOKEN, FakePss  # noqa: E402
from tests.fakes.server import LocalServer  # noqa: E402


def _key(f: Flight) -> FlightKey:
    return FlightKey(f.carrier, f.number, f.service_date)


class Statements:
    """Counts the SQL statements an engine sends (executemany counts once)."""

    def __init__(self, engine: Any) -> None:
        self.n = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *args: Any) -> None:
        self.n += 1


async def _run(passengers: int, remote: bool, pss_url: str, fake: FakePss) -> dict[str, Any]:
    name, url = await _pg_create()
    try:
        await upgrade_async(url)
        extra: dict[str, Any] = (
            {"pss": {"adapter": "http", "base_url": pss_url, "token": TOKEN}} if remote else {}
        )
        settings = Settings(sandbox=True, database_url=url, _env_file=None, **extra)  # type: ignore[call-arg]
        clock = Clock()
        c = build(settings, clock=clock, sandbox=Sandbox(limit=passengers * 4))
        await c.start()
        try:
            disrupted, alternatives = await _network(c, clock)
            async with c.db.transaction() as s:  # room for everyone on the first alternative
                await s.execute(update(Inventory).values(capacity=passengers + 10))
            rig = Rig(c, c.sandbox or Sandbox(), clock, disrupted, alternatives)
            for f in [disrupted, *alternatives]:
                fake.add_flight(_key(f), {"Y": passengers * 2})
            people = [await rig.add_pax(("sms",)) for _ in range(passengers)]
            async with c.db.transaction() as s:
                for who in people:
                    fake.add_pnr(who.locator, [(_key(disrupted), "Y")], version=1)
                    booking = await s.get(Booking, who.booking_id)
                    assert booking is not None
                    booking.version = 1
            await rig.offered(*people)
            counted = Statements(c.db.engine)
            started = time.perf_counter()
            for who in people:
                await rig.reply("sms", who, "1")
            replies_s = time.perf_counter() - started
            per_reply = counted.n / passengers
            result: dict[str, Any] = {
                "mode": "remote PSS (two-phase)" if remote else "built-in store",
                "replies": passengers,
                "statements_per_reply": round(per_reply, 2),
                "replies_s": round(replies_s, 2),
            }
            if remote:
                assert c.pnr_changes is not None
                counted.n = 0
                started = time.perf_counter()
                done = await c.pnr_changes.drain(rounds=passengers)
                took = time.perf_counter() - started
                result |= {
                    "changes_confirmed": len(fake.applied),
                    "pump_passes_claimed": done,
                    "pump_s": round(took, 2),
                    "changes_per_s": round(len(fake.applied) / took, 1) if took else None,
                    "statements_per_change": round(counted.n / max(len(fake.applied), 1), 2),
                }
            return result
        finally:
            await c.aclose()
    finally:
        await _pg_drop(name)


async def _main(passengers: int) -> list[dict[str, Any]]:
    crypto.configure(crypto.Keyring.from_secrets([("k1", "bench-pii-key")], "bench-blind-key"))
    results = []
    for remote in (False, True):
        fake = FakePss()
        with LocalServer(fake.app) as srv:
            results.append(await _run(passengers, remote, srv.url, fake))
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--passengers", type=int, default=200)
    args = p.parse_args()
    print(json.dumps(asyncio.run(_main(args.passengers)), indent=2))


if __name__ == "__main__":
    main()
