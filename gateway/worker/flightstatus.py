"""Feeds into the flights' stories: the intake every feed hands its updates to, and the flight-status poller.

`StoryIntake` is the `UpdateSink` of the API's `/v1/feeds/*`, `rebook ingest`, the flight-status
webhook and the poller: one `apply_update` per update (its own transaction, once per source and
message id), then the fan-out job when the update opened a disruption or added bookings to one.

`Poller` asks a REST status API (`RestStatusSource`, httpx) every REBOOK_FLIGHTSTATUS__POLL_INTERVAL_S
for each flight with booked passengers whose departure is still ahead and within
REBOOK_FLIGHTSTATUS__HORIZON_HOURS. It remembers each flight's last status: the same status again, or
one older than the last (answers out of order), gives nothing; a change becomes updates against what
the flight was before (a cancelled flight flying again is a reinstatement). One worker of the cluster
polls: each round first takes or renews a lease (`infra.lease`: a Redis key with Redis, in-process
without), so every status is fetched once per interval however many workers run; when the holder
stops, another takes over once the lease (two intervals and a request timeout) has run out. A flight
is asked for by the UTC date of its scheduled departure, as status documents name it.

    GET <poll_url>/flights/RB391/2026-12-06      Authorization: Bearer <poll_api_key>
    200 {status document}  ·  404 the provider does not know the flight  ·  anything else: tried next round
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

import httpx
from redis.asyncio import Redis
from sqlalchemy import func, or_, select

from conversations.intake.ports import UnknownFlight
from conversations.intake.story import InvalidUpdate, apply_update
from gateway.container import Container
from gateway.settings import FlightStatusSettings
from infra.db import Database
from infra.lease import Lease, LocalLease, RedisLease
from rebooking_core.flight_updates import FlightRef, FlightUpdate
from rebooking_core.ingest.flightstatus import (
    FlightStatus,
    MalformedStatus,
    Previous,
    Status,
    parse_status,
    to_updates,
)
from rebooking_core.ingest.ports import FeedResult, StatusSource, UpdateSink
from rebooking_core.models import Flight, Inventory

log = logging.getLogger(__name__)


class StoryIntake:
    """Each update applied to its flight's story in the order given; refusals are results, not errors."""

    def __init__(self, c: Container) -> None:
        self.c = c

    async def accept(self, updates: Sequence[FlightUpdate]) -> list[FeedResult]:
        results = []
        for update in updates:
            try:
                applied = await apply_update(self.c.service, update)
            except UnknownFlight as exc:
                results.append(FeedResult(update, "unknown_flight", detail=str(exc)))
                continue
            except InvalidUpdate as exc:
                results.append(FeedResult(update, "invalid", detail=str(exc)))
                continue
            if applied.created and applied.disruption_id is not None:
                await self.c.tracing.remember(self.c.db, applied.disruption_id)
            if applied.needs_fanout and applied.disruption_id is not None:
                await self.c.jobs.disruption_recorded(applied.disruption_id)
            results.append(FeedResult(update, applied.outcome.value, applied.disruption_id))
        return results


class StatusUnavailable(Exception):
    """The status API answered neither a status nor 404 (or not at all): try again next round."""


class RestStatusSource:
    """A REST flight-status API over httpx (its base URL and key from REBOOK_FLIGHTSTATUS__POLL_*)."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout_s: float = 10.0, max_connections: int = 8) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=timeout_s,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=max_connections),
        )

    async def status(self, flight: FlightRef) -> FlightStatus | None:
        try:
            answer = await self.client.get(f"/flights/{flight.carrier}{flight.number}/{flight.date.isoformat()}")
        except httpx.HTTPError as exc:
            raise StatusUnavailable(type(exc).__name__) from None
        if answer.status_code == 404:
            return None
        if answer.status_code != 200:
            raise StatusUnavailable(f"HTTP {answer.status_code}")
        try:
            return parse_status(answer.json())
        except (ValueError, MalformedStatus) as exc:
            raise StatusUnavailable(f"malformed status: {exc}") from None

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclass
class PollReport:
    #: False: another worker holds the poller's lease and this one asked nothing.
    led: bool = True
    watched: int = 0
    updates: int = 0
    unchanged: int = 0
    out_of_order: int = 0
    unknown: int = 0
    failed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


async def flights_to_watch(db: Database, *, now: dt.datetime, horizon: dt.timedelta) -> list[FlightRef]:
    """Flights with booked passengers whose departure (scheduled or estimated) is ahead and within the horizon."""
    return list(await _watched(db, now=now, horizon=horizon))


async def _watched(db: Database, *, now: dt.datetime, horizon: dt.timedelta) -> dict[FlightRef, str]:
    """The flights to watch and the status each has here."""
    async with db.reading() as s:
        rows = (
            await s.execute(
                select(Flight.carrier, Flight.number, Flight.dep_utc, Flight.status)
                .join(Inventory, Inventory.flight_id == Flight.id)
                .where(
                    Flight.dep_utc <= now + horizon,
                    or_(Flight.dep_utc >= now, Flight.est_dep_utc >= now),
                )
                .group_by(Flight.id, Flight.carrier, Flight.number, Flight.dep_utc, Flight.status)
                .having(func.sum(Inventory.sold) > 0)
                .order_by(Flight.id)
            )
        ).all()
    # Named as feeds name them: by the UTC date of the scheduled departure.
    return {FlightRef(carrier, number, dep.date()): status for carrier, number, dep, status in rows}


_AS_HERE = {"delayed": Previous(Status.DELAYED), "cancelled": Previous(Status.CANCELLED)}


class Poller:
    """One round at a time (`poll`); the worker runs it every interval."""

    def __init__(
        self,
        db: Database,
        source: StatusSource,
        sink: UpdateSink,
        *,
        source_name: str,
        horizon: dt.timedelta,
        clock: Callable[[], dt.datetime],
        concurrency: int = 8,
        lease: Lease | None = None,
    ) -> None:
        self.db = db
        self.lease = lease
        self.source = source
        self.sink = sink
        self.source_name = source_name
        self.horizon = horizon
        self.clock = clock
        self.concurrency = concurrency
        self.seen: dict[FlightRef, FlightStatus] = {}

    async def round(self) -> PollReport:
        """A poll round when this worker holds (or now takes) the lease; else nothing, and what it saw is forgotten."""
        if self.lease is not None and not await self.lease.hold():
            # Another worker polls; should this one take over later, the flights as they are here stand in.
            self.seen.clear()
            return PollReport(led=False)
        return await self.poll()

    async def poll(self) -> PollReport:
        watched = await _watched(self.db, now=self.clock(), horizon=self.horizon)
        flights = list(watched)
        report = PollReport(watched=len(flights))
        gate = asyncio.Semaphore(self.concurrency)

        async def fetch(flight: FlightRef) -> FlightStatus | None | Exception:
            async with gate:
                try:
                    return await self.source.status(flight)
                except StatusUnavailable as exc:
                    return exc

        answers = await asyncio.gather(*(fetch(f) for f in flights))
        updates: list[FlightUpdate] = []
        for flight, answer in zip(flights, answers, strict=True):
            if isinstance(answer, Exception):
                report.failed += 1
                log.warning("flight-status poll failed", extra={"flight": f"{flight.carrier}{flight.number}", "error": str(answer)})
                continue
            if answer is None:
                report.unknown += 1
                continue
            updates += self._changes(flight, answer, report, here=watched[flight])
        report.updates = len(updates)
        for result in await self.sink.accept(updates) if updates else []:
            report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
        # Watch only what is still watched: the memory stays as small as the horizon.
        self.seen = {f: s for f, s in self.seen.items() if f in watched}
        return report

    def _changes(self, flight: FlightRef, status: FlightStatus, report: PollReport, *, here: str) -> list[FlightUpdate]:
        before = self.seen.get(flight)
        if before is not None and status.updated_at < before.updated_at:
            report.out_of_order += 1
            return []
        if before is not None and status.fingerprint == before.fingerprint:
            report.unchanged += 1
            self.seen[flight] = status
            return []
        self.seen[flight] = status
        # Not seen since this process started: what the flight is here stands in (a delay that ended
        # while no worker polled is still a delay reduced; a cancelled flight flying, a reinstatement).
        previous = Previous(before.status, before.seats) if before is not None else _AS_HERE.get(here)
        # The flight as we asked for it: the provider's own date may be the local one.
        return to_updates(replace(status, flight=flight), source=self.source_name, previous=previous, quiet_when_unknown=True)


def poll_lease(settings: FlightStatusSettings, redis_url: str | None) -> tuple[Lease, Redis | None]:
    """The cluster's one poller lease (its Redis client to close, if any): outlives a round and a late request."""
    name = f"flightstatus-poller:{settings.poll_source}"
    ttl_s = 2 * settings.poll_interval_s + settings.poll_timeout_s
    if not redis_url:
        return LocalLease(name, ttl_s=ttl_s), None
    client = Redis.from_url(redis_url, socket_connect_timeout=2)
    return RedisLease(client, name, ttl_s=ttl_s), client


def build_poller(c: Container, settings: FlightStatusSettings, lease: Lease | None = None) -> tuple[Poller, RestStatusSource] | None:
    """The poller the worker runs, or None when REBOOK_FLIGHTSTATUS__POLL_URL is not set."""
    if not settings.poll_url:
        return None
    source = RestStatusSource(
        settings.poll_url,
        api_key=settings.poll_api_key.get_secret_value() if settings.poll_api_key else None,
        timeout_s=settings.poll_timeout_s,
        max_connections=settings.poll_concurrency,
    )
    poller = Poller(
        c.db,
        source,
        StoryIntake(c),
        source_name=settings.poll_source,
        horizon=dt.timedelta(hours=settings.horizon_hours),
        clock=c.clock,
        concurrency=settings.poll_concurrency,
        lease=lease,
    )
    return poller, source


async def poll_forever(
    c: Container, settings: FlightStatusSettings, every: Callable[[float, Callable[[], Awaitable[object]]], Awaitable[None]]
) -> None:
    """The worker's loop: a poll round every REBOOK_FLIGHTSTATUS__POLL_INTERVAL_S by the lease's holder (nothing without a poll URL)."""
    if not settings.poll_url:
        return
    lease, client = poll_lease(settings, c.settings.redis_url)
    built = build_poller(c, settings, lease)
    assert built is not None
    poller, source = built
    try:
        await every(settings.poll_interval_s, poller.round)
    finally:
        await lease.release()
        await source.aclose()
        if client is not None:
            await client.aclose()
