"""`rebook demo`: a whole disruption on the embedded default, with simulated passengers answering."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.sandbox import Sandbox, SandboxMessage
from consent.models import ConsentEvent
from conversations.app.actions import AppEvents
from conversations.models import Conversation, Escalation, InboundMessage, OutboxMessage
from conversations.optin.chats import ChatOptIn
from conversations.optin.ports import ChatLinked, LinkOutcome
from gateway.container import Container, build
from gateway.http.app import create_app
from gateway.migrate import upgrade_async
from gateway.settings import DEV_OPS_KEY, Settings
from gateway.worker.process import Worker
from rebooking_core.generate import generate
from rebooking_core.importer import import_bookings, import_schedule
from rebooking_core.models import Disruption, Flight, Inventory, OfferOption, Passenger, Segment

_PAGE_LINK = re.compile(r"/p/([0-9A-Za-z]{22})")
_DEEP_LINK = re.compile(r"https://t\.me/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]+)")
#: The demo's bot: the page and confirmations link it, the sandbox plays Telegram.
DEMO_BOT = "RebookDemoBot"

PERSONAS = (
    ("tap", 0.32),
    # Opens the page an offer links, follows its Telegram deep link, and taps a button there.
    ("telegram", 0.10),
    ("second", 0.10),
    ("agent", 0.08),
    ("stop", 0.05),
    ("silent", 0.15),
    ("confused", 0.07),
    ("double", 0.05),
    ("late", 0.08),
)
#: A passenger answers this many messages at most, then gives up, as a person would when each choice comes back
#: as another offer (today a booking two disruptions hit re-offers its second conversation after every tap).
MAX_ANSWERS = 5


@dataclass(frozen=True)
class DemoOptions:
    passengers: int = 1000
    seed: int = 7
    disruptions: int = 3
    as_json: bool = False
    workdir: Path = Path(".rebook")


class SimClock:
    """Real time plus an offset the demo moves forward to reach reminders and deadlines."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, delta: dt.timedelta) -> None:
        self.offset += delta


@dataclass
class Passengers:
    """Simulated passengers: each phone number gets a persona and answers what it receives."""

    container: Container
    sandbox: Sandbox
    rng: random.Random
    clock: SimClock
    personas: dict[str, str] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    late: list[SandboxMessage] = field(default_factory=list)
    #: The app's passenger pages (the deep link is read off them) and the Telegram webhook's opt-in.
    pages: httpx.AsyncClient | None = None
    links: ChatOptIn | None = None
    chats: dict[str, str] = field(default_factory=dict)

    def persona(self, to: str) -> str:
        if to not in self.personas:
            roll, acc = self.rng.random(), 0.0
            self.personas[to] = "tap"
            for name, share in PERSONAS:
                acc += share
                if roll < acc:
                    self.personas[to] = name
                    break
        return self.personas[to]

    def on_message(self, message: SandboxMessage) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, message: SandboxMessage, *, text: str | None = None, token: str | None = None) -> None:
        await self.container.inbound.accept([self.sandbox.reply(message.channel, message.to, text, token=token)])

    async def _choose(self, message: SandboxMessage, index: int) -> None:
        options = [t for t in message.tokens if t.startswith("opt:")] if message.channel == "whatsapp" else list(message.tokens)
        options = [t for t in options if t not in message.own]  # these personas pick flights, never a refund or another date
        if not options:
            return
        pick = options[min(index, len(options) - 1)]
        if message.channel == "push":
            await self._tap_push(message, pick)
            return
        if message.channel in ("whatsapp", "telegram"):  # a tapped button carries its token
            await self._send(message, token=pick)
        else:
            await self._send(message, text=pick)

    async def _tap_push(self, message: SandboxMessage, option: str) -> None:
        """An app user taps an action on the push: the app posts it with the payload's action token."""
        await AppEvents(self.container.service, self.container.inbound).act(message.action_token, option, now=self.clock())

    async def _answer(self, message: SandboxMessage) -> None:
        if not message.tokens:
            return
        persona = self.persona(message.to)
        if persona == "telegram" and message.channel != "telegram" and await self._join_telegram(message):
            return  # the offer comes again on Telegram, where they tap
        step = self.steps.get(message.to, 0)
        if step >= MAX_ANSWERS:
            return
        self.steps[message.to] = step + 1
        await asyncio.sleep(self.rng.uniform(0, 0.02))
        if message.kind == "template":
            if persona not in ("silent", "stop"):
                await self._send(message, token=message.tokens[0])
            elif persona == "stop":
                await self._send(message, text="STOP")
            return
        if persona == "silent":
            return
        if persona == "stop":
            await self._send(message, text="STOP")
        elif persona == "agent" and step < 2:
            await self._send(message, text="agent")
        elif persona == "confused" and step < 2:
            await self._send(message, text="which one is faster?")
        elif persona == "late" and step < 2:
            self.late.append(message)
        elif persona == "double":
            await self._choose(message, 0)
            await self._choose(message, 0)
        else:
            await self._choose(message, 1 if persona == "second" else 0)

    async def _join_telegram(self, message: SandboxMessage) -> bool:
        """Open the page the message links, follow its t.me link: Telegram's /start reaches the opt-in."""
        page = _PAGE_LINK.search(message.text)
        if page is None or self.pages is None or self.links is None or message.to in self.chats:
            return False
        shown = await self.pages.get(f"/p/{page.group(1)}")
        deep = _DEEP_LINK.search(shown.text)
        if deep is None:
            return False
        chat = self.chats[message.to] = str(700_000_000 + len(self.chats))
        self.personas[chat] = "tap"
        event = ChatLinked("sandbox", self.sandbox.next_id("tg"), "telegram", chat, deep.group(1), self.clock())
        return await self.links.link(event) is LinkOutcome.LINKED

    async def answer_late(self) -> None:
        """Late passengers answer the offer they got long ago, after it expired."""
        late, self.late = self.late, []
        for message in late:
            await self._choose(message, 0)

    async def idle(self) -> None:
        while self.tasks:
            await asyncio.gather(*list(self.tasks))


async def _app_users(ops: httpx.AsyncClient, c: Container, rng: random.Random, share: float = 0.15) -> int:
    """Some passengers use the airline's app: its backend registers their phones, push first (iOS or Android)."""
    async with c.db.reading() as s:
        people = list(await s.scalars(select(Passenger.id).where(Passenger.is_contact.is_(True)).order_by(Passenger.id)))
    chosen = [p for p in people if rng.random() < share]
    for pid in chosen:
        platform = rng.choice(("ios", "android"))
        token = rng.randbytes(32).hex() if platform == "ios" else "demo-" + rng.randbytes(48).hex()
        body = {"platform": platform, "app_id": "com.rebookair.app", "preferred": True}
        (await ops.put(f"/v1/passengers/{pid}/devices/{token}", json=body)).raise_for_status()
    return len(chosen)


async def _settle(c: Container, people: Passengers) -> None:
    """Run jobs, sends and answers until nothing is left to do."""
    for _ in range(1000):
        await c.jobs.wait_idle()
        sent = await c.dispatcher.drain()
        await people.idle()
        if sent == 0 and not people.tasks:
            async with c.db.reading() as s:
                waiting = await s.scalar(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(["pending", "sending"]))
                )
            if not waiting:
                return


async def _pick_flights(c: Container, wanted: int, day: dt.date) -> list[tuple[Flight, int]]:
    async with c.db.reading() as s:
        rows = (
            await s.execute(
                select(Flight, func.sum(Inventory.sold))
                .join(Inventory, Inventory.flight_id == Flight.id)
                .where(Flight.service_date == day)
                .group_by(Flight.id)
                .order_by(Flight.dep_utc)
            )
        ).all()
    picked: list[tuple[Flight, int]] = []
    total = 0
    for flight, sold in rows[len(rows) // 4 :]:
        if total >= wanted:
            break
        picked.append((flight, int(sold or 0)))
        total += int(sold or 0)
    return picked


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _by_channel(s: AsyncSession, column: Any, *where: Any) -> dict[str, int]:
    """How many rows each channel carried (sent messages, passenger replies)."""
    rows = await s.execute(select(column, func.count()).where(column.is_not(None), *where).group_by(column).order_by(column))
    return {str(channel): int(n) for channel, n in rows.all()}


async def _booked_by_channel(s: AsyncSession) -> dict[str, int]:
    """Booked conversations by the channel their passenger chose on (a push action is `push`)."""
    rows = await s.execute(
        select(InboundMessage.channel, func.count(func.distinct(Conversation.id)))
        .join(Conversation, Conversation.id == InboundMessage.conversation_id)
        .where(Conversation.status == "booked", InboundMessage.interpreted_as == "OptionChosen")
        .group_by(InboundMessage.channel)
        .order_by(InboundMessage.channel)
    )
    return {str(channel): int(n) for channel, n in rows.all()}


async def summarize(c: Container, started: float) -> dict[str, Any]:
    async with c.db.reading() as s:
        def total(*conds: Any) -> Any:
            return select(func.coalesce(func.sum(Conversation.passengers), 0)).where(*conds)

        impacted = await s.scalar(select(func.coalesce(func.sum(Disruption.impacted_passengers), 0)))
        replied = select(InboundMessage.conversation_id).where(InboundMessage.conversation_id.is_not(None))
        rows = (
            await s.execute(
                select(Conversation.first_sent_at, Disruption.created_at)
                .join(Disruption, Disruption.id == Conversation.disruption_id)
                .where(Conversation.first_sent_at.is_not(None))
            )
        ).all()
        oversold = await s.scalar(
            select(func.coalesce(func.sum(Inventory.sold + Inventory.held - Inventory.capacity), 0)).where(
                Inventory.sold + Inventory.held > Inventory.capacity
            )
        )
        hk = (
            await s.execute(
                select(Segment.flight_id, Segment.cabin, func.count())
                .where(Segment.status == "HK")
                .group_by(Segment.flight_id, Segment.cabin)
            )
        ).all()
        summary = {
            "passengers_impacted": int(impacted or 0),
            "bookings_impacted": int(await s.scalar(select(func.count()).select_from(Conversation)) or 0),
            "messages_sent": int(
                await s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")) or 0
            ),
            "options_offered": int(await s.scalar(select(func.count()).select_from(OfferOption)) or 0),
            "accepted": int(await s.scalar(total(Conversation.chosen_at.is_not(None))) or 0),
            "booked": int(await s.scalar(total(Conversation.status == "booked")) or 0),
            "escalated": int(await s.scalar(total(Conversation.status.in_(["escalated", "agent"]))) or 0),
            "opted_out": int(await s.scalar(total(Conversation.status == "opted_out")) or 0),
            "no_answer": int(await s.scalar(total(Conversation.id.not_in(replied))) or 0),
            "escalations_by_reason": {
                reason: int(n)
                for reason, n in (
                    await s.execute(
                        select(Escalation.reason, func.sum(Conversation.passengers))
                        .join(Conversation, Conversation.id == Escalation.conversation_id)
                        .group_by(Escalation.reason)
                    )
                ).all()
            },
            "passengers_by_state": {
                state: int(n)
                for state, n in (
                    await s.execute(select(Conversation.status, func.sum(Conversation.passengers)).group_by(Conversation.status))
                ).all()
            },
            "bookings_unreachable": int(
                await s.scalar(
                    select(func.count(func.distinct(Escalation.conversation_id))).where(Escalation.reason == "unreachable")
                )
                or 0
            ),
            "oversold_seats": int(oversold or 0),
            "messages_by_channel": await _by_channel(s, OutboxMessage.channel, OutboxMessage.status == "sent"),
            "replies_by_channel": await _by_channel(s, InboundMessage.channel),
            "booked_by_channel": await _booked_by_channel(s),
            "telegram_opt_ins": int(
                await s.scalar(
                    select(func.count()).select_from(ConsentEvent).where(
                        ConsentEvent.channel == "telegram", ConsentEvent.state == "granted"
                    )
                )
                or 0
            ),
        }
    latencies = [(sent - created).total_seconds() * 1000 for sent, created in rows if sent is not None]
    summary["time_to_first_option_ms"] = {
        "p50": round(_percentile(latencies, 0.50), 1),
        "p95": round(_percentile(latencies, 0.95), 1),
    }
    summary["hk_segments_checked"] = len(hk)
    summary["elapsed_s"] = round(time.perf_counter() - started, 2)
    return summary


async def run_demo(options: DemoOptions) -> dict[str, Any]:
    """The disruption twice on the same data: the passenger chooses first (the summary), then protect first; both escalation rates."""
    console = Console(stderr=True, quiet=options.as_json)
    summary = await _run(options, console, first_contact="offer")
    protect = await _run(options, console, first_contact="protect")
    summary["escalation_rate"] = {"offer": escalation_rate(summary), "protect": escalation_rate(protect)}
    summary["protect_first"] = {key: protect[key] for key in PROTECT_KEYS}
    if not options.as_json:
        _print(console, summary)
    return summary


#: What the summary shows of the protect-first run beside its escalation rate.
PROTECT_KEYS = ("passengers_impacted", "booked", "accepted", "escalated", "escalations_by_reason", "oversold_seats", "elapsed_s")


def escalation_rate(summary: dict[str, Any]) -> float:
    """Passengers handed to an agent, per passenger impacted."""
    return round(summary["escalated"] / summary["passengers_impacted"], 3) if summary["passengers_impacted"] else 0.0


async def _run(options: DemoOptions, console: Console, *, first_contact: Literal["offer", "protect"]) -> dict[str, Any]:
    """One run of the demo under a first-contact policy, in its own database."""
    started = time.perf_counter()
    workdir = options.workdir / ("demo" if first_contact == "offer" else f"demo-{first_contact}")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{workdir / 'rebook.db'}"
    clock = SimClock()
    settings = Settings(sandbox=True, database_url=url, telegram={"bot_username": DEMO_BOT}, first_contact=first_contact, pss={"adapter": "sql"}, _env_file=None)  # type: ignore[call-arg, arg-type]
    sandbox = Sandbox()
    rng = random.Random(options.seed)
    await upgrade_async(url)
    c = build(settings, clock=clock, sandbox=sandbox)
    await c.start()
    people = Passengers(c, sandbox, rng, clock)
    sandbox.listeners.append(people.on_message)
    app = create_app(c)
    day = dt.date.today() + dt.timedelta(days=1)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console, transient=True
    ) as progress:
        step = progress.add_task("Building the network", total=6)
        dataset = generate(seed=options.seed, start=day, days=3, passengers=max(options.passengers * 12, 3000))
        async with c.db.transaction() as s:
            await import_schedule(s, dataset.schedule)
        async with c.db.transaction() as s:
            await import_bookings(s, dataset.bookings)
        progress.update(step, advance=1, description=f"Imported {len(dataset.schedule)} flights, {len(dataset.bookings)} bookings")
        flights = await _pick_flights(c, options.passengers, day)
        groups = [flights[i :: max(options.disruptions, 1)] for i in range(max(options.disruptions, 1))]
        worker = Worker(c)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://demo", headers={"Authorization": f"Bearer {DEV_OPS_KEY}"}
        ) as ops:
            people.pages, people.links = ops, ChatOptIn(c.db, c.service, clock=clock)
            app_users = await _app_users(ops, c, rng)
            for n, group in enumerate(g for g in groups if g):
                for k, (flight, _) in enumerate(group):
                    delayed = n == 1 and k == 0
                    body: dict[str, Any] = {
                        "flight": {"carrier": flight.carrier, "number": flight.number, "date": flight.service_date.isoformat()},
                        "kind": "delayed" if delayed else "cancelled",
                        "reason": "TECH" if n % 2 == 0 else "WEAT",
                        "idempotency_key": f"demo-{options.seed}-{flight.id}",
                    }
                    if delayed:
                        body["new_departure"] = (flight.dep_utc + dt.timedelta(hours=5)).isoformat()
                    response = await ops.post("/v1/disruptions", json=body)
                    response.raise_for_status()
            progress.update(step, advance=1, description="Finding impacted passengers and holding seats")
            await _settle(c, people)
            progress.update(step, advance=1, description="Passengers answering")
            await _settle(c, people)
            progress.update(step, advance=1, description="Reminders")
            clock.advance(settings_delta(settings.reminder_minutes + 1))
            await worker.timers()
            await _settle(c, people)
            progress.update(step, advance=1, description="Late answers and deadlines")
            clock.advance(settings_delta(settings.hold_minutes + 1))
            await worker.expire_holds()
            await people.answer_late()
            await _settle(c, people)
            clock.advance(settings_delta(settings.deadline_minutes + 1))
            while await worker.timers():
                await _settle(c, people)
            await _settle(c, people)
            progress.update(step, advance=1, description="Done")
    summary = await summarize(c, started)
    summary["disruptions"] = sum(1 for g in groups if g)
    summary["flights_disrupted"] = len(flights)
    summary["app_users"] = app_users
    await c.aclose()
    return summary


def settings_delta(minutes: float) -> dt.timedelta:
    return dt.timedelta(minutes=minutes)


def _print(console: Console, summary: dict[str, Any]) -> None:
    table = Table(title="rebook demo — disruption summary", show_header=True)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "—"
        table.add_row(key.replace("_", " "), str(value))
    Console().print(table)


__all__ = ["DemoOptions", "run_demo", "statistics"]
