"""Flight-status providers against their fake on 127.0.0.1: the signed push webhook and the REST poller, on SQLite and PostgreSQL.

Both drive the whole app as `build()` wires it; a provider that sends the same status ten times and
out of order moves the flight's story once, in order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.worker.flightstatus import (
    Poller,
    RestStatusSource,
    StoryIntake,
    flights_to_watch,
    poll_forever,
)
from rebooking_core.ingest.flightstatus import parse_status, to_updates
from rebooking_core.models import Disruption, DisruptionUpdate, Flight
from tests.fakes.flightstatus_api import FlightStatusApi, Pusher, status_doc
from tests.fakes.server import LocalServer
from tests.gateway import conftest as gateway_fixtures
from tests.gateway.conftest import FlightId, Gateway, World, running
from webhooks.flightstatus import FORGED, sign

db_url = gateway_fixtures.db_url
world = gateway_fixtures.world

SECRET = "fs-secret-acme-3b7f0c1e9a2d4c5b8e6f"
OLD_SECRET = "fs-secret-acme-previous-7d1c2b3a4f5e"
SOURCES = {"acme": {"secret": f"{SECRET},{OLD_SECRET}"}, "mute": {"secret": ""}}


@contextlib.asynccontextmanager
async def gateway_with_sources(db_url: str, world: World) -> AsyncIterator[Gateway]:
    async with running(db_url, world, flightstatus={"sources": SOURCES, "replay_window_s": 300}) as g:
        yield g


async def flight_row(g: Gateway, flight: FlightId) -> Flight:
    carrier, number, date = flight
    async with g.container.db.reading() as s:
        return (await s.scalars(select(Flight).where(Flight.carrier == carrier, Flight.number == number, Flight.service_date == date))).one()


async def count(g: Gateway, model: type, *where: Any) -> int:
    async with g.container.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def doc(flight: Flight, status: str, *, at: dt.datetime, late: dt.timedelta = dt.timedelta(0), **more: Any) -> dict[str, Any]:
    return status_doc(
        flight.carrier, flight.number, flight.dep_utc.date(), status,
        updated_at=at, scheduled=flight.dep_utc, estimated=flight.dep_utc + late, **more,
    )


# --- the webhook -------------------------------------------------------------------------------


async def test_forged_stale_or_unknown_pushes_are_refused_alike(db_url: str, world: World) -> None:
    async with gateway_with_sources(db_url, world) as g:
        flight = await flight_row(g, world.target)
        now = dt.datetime.now(dt.UTC)
        body = json.dumps(doc(flight, "cancelled", at=now)).encode()
        acme = Pusher(g.client, "acme", SECRET, now)
        refused = [
            await acme.push(body, signature=""),
            await acme.push(body, secret="not-the-secret"),
            await acme.push(body, at=now - dt.timedelta(seconds=360)),
            await acme.push(body, at=now + dt.timedelta(seconds=360)),
            await acme.push(body, signature=sign(SECRET, str(int(now.timestamp())), body + b" ")),
            await Pusher(g.client, "mute", "", now).push(body),
            await Pusher(g.client, "nobody", SECRET, now).push(body),
        ]
        unsigned = await g.client.post("/webhooks/flightstatus/acme", content=body, headers={"Content-Type": "application/json"})
        for answer in (*refused, unsigned):
            assert answer.status_code == 403, answer.text
            assert answer.json()["detail"] == FORGED
        assert await count(g, DisruptionUpdate) == 0

        rotated = await acme.push(body, secret=OLD_SECRET)
        assert rotated.status_code == 200, rotated.text
        assert rotated.json() == {"statuses": 1, "updates": 1, "outcomes": {"applied": 1}}
        await g.settle()  # no job left running into teardown


async def test_a_signed_push_that_is_no_status_is_malformed(db_url: str, world: World) -> None:
    async with gateway_with_sources(db_url, world) as g:
        flight = await flight_row(g, world.target)
        now = dt.datetime.now(dt.UTC)
        acme = Pusher(g.client, "acme", SECRET, now)
        good = doc(flight, "delayed", at=now, late=dt.timedelta(hours=1))
        for body, words in (
            (b"{not json", "not JSON"),
            ({**good, "status": "vanished"}, "status"),
            ({**good, "updated_at": "2026-12-06T08:00:00"}, "updated_at"),
            ({**good, "flight": {"carrier": "RB", "number": "12345", "date": "2026-12-06"}}, "flight.number"),
            ({"events": []}, "events"),
            ({**good, "status": "diverted"}, "diverted_to"),
        ):
            answer = await acme.push(body)
            assert answer.status_code == 400, body
            assert words in answer.json()["detail"]
        assert await count(g, DisruptionUpdate) == 0


async def test_the_same_status_ten_times_and_out_of_order_moves_the_story_once_in_order(db_url: str, world: World) -> None:
    async with gateway_with_sources(db_url, world) as g:
        flight = await flight_row(g, world.target)
        t0 = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        acme = Pusher(g.client, "acme", SECRET, dt.datetime.now(dt.UTC))

        two_hours = doc(flight, "delayed", at=t0 + dt.timedelta(minutes=2), late=dt.timedelta(hours=2), event_id="evt-2",
                        delay_codes=[{"code": "93", "minutes": 120}])
        for _ in range(10):
            answer = await acme.push(two_hours)
            assert answer.status_code == 200
        await g.settle()
        sent = len(g.sandbox.messages)
        assert sent > 0
        assert await count(g, DisruptionUpdate) == 1
        assert await count(g, Disruption) == 1

        # The same status again under new event ids and times: recorded, nothing changes, nobody is told again.
        for i in range(10):
            again = doc(flight, "delayed", at=t0 + dt.timedelta(minutes=3, seconds=i), late=dt.timedelta(hours=2), event_id=f"evt-2-{i}")
            answer = await acme.push(again)
            assert answer.json()["outcomes"] == {"unchanged": 1}

        # An older status arriving late is ignored.
        one_hour = doc(flight, "delayed", at=t0 + dt.timedelta(minutes=1), late=dt.timedelta(hours=1), event_id="evt-1")
        answer = await acme.push(one_hour)
        assert answer.json()["outcomes"] == {"stale": 1}
        await g.settle()
        assert len(g.sandbox.messages) == sent
        row = await flight_row(g, world.target)
        assert row.est_dep_utc == flight.dep_utc + dt.timedelta(hours=2)

        # Cancelled, then flying again: the provider says what it was before, and it is a reinstatement.
        cancelled = doc(flight, "cancelled", at=t0 + dt.timedelta(minutes=4), event_id="evt-3")
        back = doc(flight, "scheduled", at=t0 + dt.timedelta(minutes=5), event_id="evt-4", previous={"status": "cancelled"})
        answer = await acme.push({"events": [cancelled, back]})
        assert answer.json() == {"statuses": 2, "updates": 2, "outcomes": {"applied": 2}}
        async with g.container.db.reading() as s:
            kinds = list((await s.scalars(select(DisruptionUpdate.kind).order_by(DisruptionUpdate.id))).all())
        assert kinds[-2:] == ["cancellation", "reinstatement"]
        assert (await flight_row(g, world.target)).status != "cancelled"
        assert await count(g, Disruption) == 1
        await g.settle()


# --- the poller --------------------------------------------------------------------------------


async def test_the_poller_watches_flights_with_passengers_in_the_horizon(db_url: str, world: World) -> None:
    async with running(db_url, world) as g:
        now = dt.datetime.now(dt.UTC)
        far = await flights_to_watch(g.container.db, now=now, horizon=dt.timedelta(days=13))
        carrier, number, date = world.target
        target = await flight_row(g, world.target)
        assert any((f.carrier, f.number, f.date) == (carrier, number, target.dep_utc.date()) for f in far)
        assert await flights_to_watch(g.container.db, now=now, horizon=dt.timedelta(hours=1)) == []
        async with g.container.db.reading() as s:
            empty = (await s.scalars(select(Flight).where(Flight.service_date == date).order_by(Flight.id))).all()
        booked = {(f.carrier, f.number) for f in far if f.date == date}
        assert len(booked) < len(empty)  # flights nobody is booked on are not watched


async def test_the_poller_against_a_provider_that_repeats_itself_and_answers_out_of_order(db_url: str, world: World) -> None:
    api = FlightStatusApi()
    async with running(db_url, world) as g:
        flight = await flight_row(g, world.target)
        t0 = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        api.script(doc(flight, "scheduled", at=t0))
        api.script(doc(flight, "delayed", at=t0 + dt.timedelta(minutes=1), late=dt.timedelta(hours=2)), times=10)
        api.script(doc(flight, "delayed", at=t0 + dt.timedelta(seconds=30), late=dt.timedelta(hours=1)))  # older: out of order
        api.script(doc(flight, "scheduled", at=t0 + dt.timedelta(minutes=2)))  # back on time
        api.script(doc(flight, "cancelled", at=t0 + dt.timedelta(minutes=3)))
        api.script(doc(flight, "scheduled", at=t0 + dt.timedelta(minutes=4)))  # flying again
        with LocalServer(api.app()) as server:
            source = RestStatusSource(server.url, api_key="poll-key")
            poller = Poller(
                g.container.db, source, StoryIntake(g.container),
                source_name="poll", horizon=dt.timedelta(days=13), clock=g.container.clock,
            )
            try:
                reports = []
                for _ in range(15):
                    reports.append(await poller.poll())
                    await g.settle()
            finally:
                await source.aclose()

        mine = [r for r in api.requests if r[0] == f"{flight.carrier}{flight.number}/{flight.dep_utc.date().isoformat()}"]
        assert len(mine) == 15
        assert {auth for _, auth in api.requests} == {"Bearer poll-key"}
        assert reports[0].unknown == reports[0].watched - 1  # only the target is scripted
        assert reports[0].updates == 0  # on time at first sight says nothing
        assert reports[1].outcomes == {"applied": 1}  # the delay
        assert sum(r.unchanged for r in reports[2:11]) == 9  # the same delay nine more times
        assert reports[11].out_of_order == 1
        assert [r.outcomes for r in reports[12:15]] == [{"applied": 1}, {"applied": 1}, {"applied": 1}]
        async with g.container.db.reading() as s:
            kinds = list((await s.scalars(select(DisruptionUpdate.kind).order_by(DisruptionUpdate.id))).all())
        assert kinds == ["delay", "delay_reduced", "cancellation", "reinstatement"]
        assert await count(g, Disruption, Disruption.status != "settled") <= 1  # one live disruption at a time
        assert (await flight_row(g, world.target)).status != "cancelled"


async def test_a_provider_outage_is_tried_again_next_round(db_url: str, world: World) -> None:
    api = FlightStatusApi(fail_next=1000)
    async with running(db_url, world) as g:
        flight = await flight_row(g, world.target)
        api.script(doc(flight, "cancelled", at=dt.datetime.now(dt.UTC)))
        with LocalServer(api.app()) as server:
            source = RestStatusSource(server.url)
            poller = Poller(g.container.db, source, StoryIntake(g.container), source_name="poll",
                            horizon=dt.timedelta(days=13), clock=g.container.clock)
            try:
                down = await poller.poll()
                api.fail_next = 0
                up = await poller.poll()
                await g.settle()
            finally:
                await source.aclose()
        assert down.failed == down.watched and down.updates == 0
        assert up.outcomes == {"applied": 1}
        assert (await flight_row(g, world.target)).status == "cancelled"


@pytest.mark.parametrize("status", ["landed", "departed"])
def test_statuses_after_departure_are_documents_too(status: str) -> None:
    from rebooking_core.ingest.flightstatus import parse_status

    now = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)
    parsed = parse_status(status_doc("RB", "0391", dt.date(2026, 12, 6), status, updated_at=now, scheduled=now))
    assert parsed.flight.number == "391"


async def test_the_worker_polls_with_its_settings(db_url: str, world: World) -> None:
    api = FlightStatusApi()
    with LocalServer(api.app()) as server:
        settings = {"poll_url": server.url + "/", "poll_api_key": "from-settings", "horizon_hours": 13 * 24, "poll_interval_s": 7}
        async with running(db_url, world, flightstatus=settings) as g:
            flight = await flight_row(g, world.target)
            api.script(doc(flight, "cancelled", at=dt.datetime.now(dt.UTC)))
            rounds: list[float] = []

            async def every(seconds: float, step: Callable[[], Awaitable[object]]) -> None:
                rounds.append(seconds)
                await step()

            await poll_forever(g.container, g.container.settings.flightstatus, every)
            await g.settle()
            assert rounds == [7]
            assert {auth for _, auth in api.requests} == {"Bearer from-settings"}
            assert (await flight_row(g, world.target)).status == "cancelled"
            await poll_forever(g.container, g.container.settings.flightstatus.model_copy(update={"poll_url": None}), every)
            assert rounds == [7]


async def test_a_poller_that_starts_afresh_reads_the_flight_as_it_is_here(db_url: str, world: World) -> None:
    api = FlightStatusApi()
    async with running(db_url, world) as g:
        flight = await flight_row(g, world.target)
        t0 = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
        intake = StoryIntake(g.container)
        with LocalServer(api.app()) as server:
            source = RestStatusSource(server.url)
            try:
                for here, there, expected in (
                    (doc(flight, "delayed", at=t0, late=dt.timedelta(hours=1)), doc(flight, "scheduled", at=t0 + dt.timedelta(minutes=1)), "delay_reduced"),
                    (doc(flight, "cancelled", at=t0 + dt.timedelta(minutes=2)), doc(flight, "scheduled", at=t0 + dt.timedelta(minutes=3)), "reinstatement"),
                ):
                    # What the flight is here, from another feed (another worker, before a restart).
                    assert [r.outcome for r in await intake.accept(to_updates(parse_status(here), source="other"))] == ["applied"]
                    await g.settle()
                    api.scripts.clear()
                    api.script(there)
                    fresh = Poller(g.container.db, source, intake, source_name="poll", horizon=dt.timedelta(days=13), clock=g.container.clock)
                    report = await fresh.poll()
                    assert report.outcomes == {"applied": 1}, expected
                    async with g.container.db.reading() as s:
                        last = (await s.scalars(select(DisruptionUpdate.kind).order_by(DisruptionUpdate.id.desc()).limit(1))).one()
                    assert last == expected
                    await g.settle()
            finally:
                await source.aclose()
