"""A whole gateway on the sandbox channels, over the `engine` database, with a clock the test moves."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.sandbox import Sandbox, SandboxMessage
from consent import ledger
from consent.models import ConsentState
from conversations.intake.ports import DisruptionRequest, FlightKey
from conversations.intake.workflow import assess, record_disruption
from conversations.models import Conversation, Delivery, Escalation, OutboxMessage
from gateway.container import Container, build
from gateway.settings import Settings
from infra import crypto
from rebooking_core.models import (
    Booking,
    ContactPoint,
    Flight,
    Inventory,
    OfferOption,
    Passenger,
    SeatHold,
    Segment,
)
from rebooking_core.types import DisruptionKind


class Clock:
    """Starts at the real time (the sandbox's WhatsApp window uses it) and moves only when told."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass(frozen=True)
class Pax:
    booking_id: int
    passenger_id: int
    phone: str
    locator: str


@dataclass
class Rig:
    """The gateway as `gateway.container.build` wires it, plus a small FRA-MAD network."""

    c: Container
    sandbox: Sandbox
    clock: Clock
    disrupted: Flight
    alternatives: list[Flight]
    _phones: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    # ---- data ----

    async def add_pax(
        self,
        channels: Sequence[str] = ("sms",),
        *,
        consent: Mapping[str, bool] | None = None,
        pax: int = 1,
    ) -> Pax:
        """A booking on the disrupted flight; its contact is reachable on `channels`, in that order."""
        n = next(self._phones)
        phone = f"+447700900{n:03d}"
        locator = f"RB{n:04d}"
        ring = crypto.keyring()
        async with self.c.db.transaction() as s:
            booking = Booking(locator=locator, created_at=self.clock())
            s.add(booking)
            await s.flush()
            people = [
                Passenger(booking_id=booking.id, given_name=f"Given{i}", family_name="Family", language="en", is_contact=i == 0)
                for i in range(pax)
            ]
            s.add_all(people)
            await s.flush()
            contact = people[0]
            for preference, channel in enumerate(channels):
                s.add(
                    ContactPoint(
                        passenger_id=contact.id,
                        channel=channel,
                        address=phone,
                        address_hash=ring.blind_index(phone),
                        preference=preference,
                    )
                )
                await ledger.record(
                    s,
                    passenger_id=contact.id,
                    channel=channel,
                    purpose=ledger.SERVICE,
                    granted=(consent or {}).get(channel, True),
                    source="booking_import",
                    at=self.clock(),
                )
            s.add(Segment(booking_id=booking.id, flight_id=self.disrupted.id, cabin="Y", seq=1, status="HK"))
            await s.execute(
                update(Inventory)
                .where(Inventory.flight_id == self.disrupted.id, Inventory.cabin == "Y")
                .values(sold=Inventory.sold + pax)
            )
        return Pax(booking.id, contact.id, phone, locator)

    async def withdraw(self, who: Pax, channel: str) -> None:
        """The passenger withdraws service consent on `channel` (as a STOP or the consent API would)."""
        async with self.c.db.transaction() as s:
            await ledger.record(
                s,
                passenger_id=who.passenger_id,
                channel=channel,
                purpose=ledger.SERVICE,
                granted=False,
                source="test",
                at=self.clock(),
            )

    async def disrupt(self) -> list[int]:
        """Cancel the flight and assess it: the pending conversation ids, best priority first."""
        f = self.disrupted
        recorded = await record_disruption(
            self.c.db,
            DisruptionRequest(flights=(FlightKey(f.carrier, f.number, f.service_date),), kind=DisruptionKind.CANCELLED),
            clock=self.clock,
        )
        batches = await assess(self.c.db, recorded.disruption_id, clock=self.clock)
        return [i for batch in batches for i in batch]

    async def offered(self, *people: Pax) -> None:
        """Disrupt, offer and send: every passenger holds an offer that has gone out."""
        ids = await self.disrupt()
        assert await self.c.service.offer_batch(ids) == len(people)
        await self.c.dispatcher.drain()

    # ---- passengers answering ----

    async def reply(self, channel: str, who: Pax, text: str | None = None, *, token: str | None = None) -> None:
        await self.c.inbound.accept([self.sandbox.reply(channel, who.phone, text, token=token)])

    def inbox(self, channel: str, who: Pax) -> list[SandboxMessage]:
        return self.sandbox.inbox(channel, who.phone)

    def last(self, channel: str, who: Pax) -> SandboxMessage:
        box = self.inbox(channel, who)
        assert box, f"nothing was sent on {channel}"
        return box[-1]

    # ---- reading the database ----

    async def conversation(self, who: Pax) -> Conversation:
        async with self.c.db.reading() as s:
            conv = (await s.scalars(select(Conversation).where(Conversation.booking_id == who.booking_id))).one()
            return conv

    async def outbox(self, who: Pax) -> list[OutboxMessage]:
        conv = await self.conversation(who)
        async with self.c.db.reading() as s:
            rows = await s.scalars(
                select(OutboxMessage).where(OutboxMessage.conversation_id == conv.id).order_by(OutboxMessage.id)
            )
            return list(rows.all())

    async def deliveries(self, who: Pax) -> list[Delivery]:
        conv = await self.conversation(who)
        async with self.c.db.reading() as s:
            rows = await s.scalars(select(Delivery).where(Delivery.conversation_id == conv.id).order_by(Delivery.id))
            return list(rows.all())

    async def escalations(self, who: Pax) -> list[Escalation]:
        conv = await self.conversation(who)
        async with self.c.db.reading() as s:
            rows = await s.scalars(select(Escalation).where(Escalation.conversation_id == conv.id))
            return list(rows.all())

    async def options(self, who: Pax) -> list[OfferOption]:
        """The options of the passenger's current offer, by rank."""
        conv = await self.conversation(who)
        async with self.c.db.reading() as s:
            rows = await s.scalars(
                select(OfferOption).where(OfferOption.offer_id == conv.offer_id).order_by(OfferOption.rank)
            )
            return list(rows.all())

    async def inventory(self) -> dict[int, tuple[int, int]]:
        """(sold, held) in Y of every flight of the network."""
        async with self.c.db.reading() as s:
            rows = await s.execute(select(Inventory.flight_id, Inventory.sold, Inventory.held).where(Inventory.cabin == "Y"))
            return {int(f): (int(sold), int(held)) for f, sold, held in rows}

    async def segments(self, who: Pax) -> list[tuple[int, str]]:
        """(flight id, status) of the booking's segments, by id."""
        async with self.c.db.reading() as s:
            rows = await s.execute(
                select(Segment.flight_id, Segment.status).where(Segment.booking_id == who.booking_id).order_by(Segment.id)
            )
            return [(int(f), str(st)) for f, st in rows]

    async def holds(self) -> dict[str, int]:
        async with self.c.db.reading() as s:
            rows = await s.execute(select(SeatHold.status, func.count()).group_by(SeatHold.status))
            return {str(st): int(n) for st, n in rows}

    async def consent(self, who: Pax, channel: str) -> str | None:
        async with self.c.db.reading() as s:
            row = await s.get(ConsentState, (who.passenger_id, channel, ledger.SERVICE))
            return row.state if row is not None else None

    async def count(self, model: Any) -> int:
        async with self.c.db.reading() as s:
            return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def _network(c: Container, clock: Clock) -> tuple[Flight, list[Flight]]:
    """LH100 FRA-MAD six hours from now (the one to cancel) and three later flights to rebook on."""
    t = clock() + dt.timedelta(hours=6)
    out: list[Flight] = []
    async with c.db.transaction() as s:
        for number, hours in (("100", 0), ("102", 2), ("104", 4), ("106", 8)):
            dep = t + dt.timedelta(hours=hours)
            flight = Flight(
                carrier="LH",
                number=number,
                service_date=dep.date(),
                origin="FRA",
                destination="MAD",
                dep_utc=dep,
                arr_utc=dep + dt.timedelta(minutes=150),
            )
            s.add(flight)
            await s.flush()
            s.add(Inventory(flight_id=flight.id, cabin="Y", capacity=100, sold=0, held=0))
            out.append(flight)
    return out[0], out[1:]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module (or with `@pytest.mark.parametrize`) to change engine policy."""
    return {}


@pytest.fixture
async def rig(engine: AsyncEngine, clock: Clock, settings_overrides: dict[str, Any]) -> AsyncIterator[Rig]:
    previous = crypto.keyring()
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(sandbox=True, database_url=url, _env_file=None, **settings_overrides)  # type: ignore[call-arg]
    sandbox = Sandbox()
    c = build(settings, clock=clock, sandbox=sandbox)
    await c.start()
    try:
        disrupted, alternatives = await _network(c, clock)
        yield Rig(c, sandbox, clock, disrupted, alternatives)
    finally:
        await c.aclose()
        crypto.configure(previous)
