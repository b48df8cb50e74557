"""The worker: jobs from the queue, the outbox dispatcher, timers, hold expiry and crash recovery."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import random
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from taskiq import InMemoryBroker
from taskiq.api import run_receiver_task

from conversations.app.fallback import fall_back_unseen
from conversations.care_below import sweep_care_below
from conversations.care_sweep import sweep_care
from conversations.claims_sweep import settle_booked
from conversations.engine import Status
from conversations.intake.story import finish_cut_off, settle_finished
from conversations.models import Conversation
from conversations.timers import fire_due_timers
from gateway.container import Container
from gateway.observability.metrics_server import Heartbeat, WorkerMetricsServer
from gateway.worker.flightstatus import poll_forever
from gateway.worker.privacy import run_purge, run_seal
from infra.heap import settle_heap_again
from infra.vacuum import tidy
from rebooking_core.care.hotels import Allotment, TableHotels
from rebooking_core.care.policy import CarePolicy
from rebooking_core.models import Disruption
from rebooking_core.offers import expire_offers
from rebooking_core.refunds import send_requested

log = logging.getLogger(__name__)

#: How often a worker renews the announcement of its fan-out, and how long one lasts (a worker that
#: dies mid-fan-out holds the others back no longer than this).
_FANOUT_POLL_S = 0.2
_FANOUT_ANNOUNCE_S = 1.0
#: How often a worker looks for tables a wave left full of dead rows (see `infra.vacuum`).
_TIDY_EVERY_S = 2.0
#: How often a worker decides again the claims of bookings confirmed since (reads of claims lag by this much).
_CLAIMS_EVERY_S = 5.0
#: How often a worker sends the refund requests passengers chose to the airline (they wait in `refund_requests`).
_REFUNDS_EVERY_S = 5.0
#: Batches of claims one sweep decides at most, so a backlog cannot hold a sweep forever.
_CLAIMS_BATCHES = 100


class Worker:
    def __init__(
        self,
        container: Container,
        *,
        poll_interval: float = 0.25,
        serve_metrics: bool = False,
        settle_after_waves: bool = False,
    ) -> None:
        """`settle_after_waves`: settle the heap once each wave is over (`settle_heap_again`), for a process that starts once."""
        self.c = container
        self.serve_metrics = serve_metrics
        self.settle_after_waves = settle_after_waves
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._full_round_at = float("-inf")
        self._sending_backlog = False
        self._wave_seen = False
        self._sealed_at = float("-inf")
        self.heartbeat = Heartbeat()
        container.listeners.append(self._wake.set)
        container.jobs.idle_listeners.append(self._wake.set)

    async def dispatch_forever(self) -> None:
        """Pass after pass over the lanes; sends run on in the background and are recorded as they complete.

        A pass routes what is new and lets every lane with turns claim. A full pass goes straight
        on once there is room for more sends; otherwise the loop waits for a ring, for a lane's
        bucket to have turns again, or for `poll_interval` (then it looks in every lane). After a
        ring the dispatcher waits `dispatch_linger_s` for more commits, and small passes take turns
        across workers (one per linger, through Redis): a worker that finds the turn taken waits
        for the next ring, since the pass it lost claims what is there. While options are being
        generated, passes carry answers only (see `_holding_back`).
        """
        linger = self.c.settings.dispatch_linger_s
        dispatcher = self.c.dispatcher
        dispatcher.on_wake = self._wake.set
        everywhere = True
        while True:
            self._wake.clear()  # before the pass: a ring during it means more to send
            answers_only = await self._holding_back()
            await dispatcher.pump(answers_only=answers_only, everywhere=everywhere)
            self.heartbeat.beat()
            if not answers_only:
                self._full_round_at = asyncio.get_running_loop().time()
            self._sending_backlog = dispatcher.backlogged or dispatcher.room() == 0
            if self._sending_backlog:
                await dispatcher.wait_for_room()
                everywhere = False
                continue
            while True:
                token_wait = dispatcher.next_try_in()
                timeout = self.poll_interval if token_wait is None else min(self.poll_interval, token_wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                rung = self._wake.is_set()
                everywhere = not rung and (token_wait is None or token_wait >= self.poll_interval)
                if not rung:
                    break
                await asyncio.sleep(linger)
                if await self._my_turn(linger):
                    break
                self._wake.clear()

    async def _my_turn(self, linger: float) -> bool:
        """True unless another worker started a small round within the last `linger` (needs Redis)."""
        bell = self.c.doorbell
        return bell is None or not linger or await bell.take_turn(linger)

    async def _holding_back(self) -> bool:
        """Options before first messages: while any worker generates options, send them at most one round every defer_s (10 s).

        Both compete for the same cores; a held seat protects a passenger from every other sales
        channel, a first message a second later costs nothing. The bound keeps messages flowing
        during a long run of disruptions. Answers (a booking confirmation, a reply to a keyword)
        are never held back. Other workers' fan-outs are seen through the doorbell's announcement.
        """
        return await self._options_first(since=self._full_round_at)

    async def _options_first(self, *, since: float) -> bool:
        """Whether work that can wait should: options are being generated and it last ran less than defer_s ago."""
        defer = self.c.settings.dispatch_defer_s
        if not defer or asyncio.get_running_loop().time() - since >= defer:
            return False
        return await self._fanout_anywhere()

    async def tidy(self) -> list[str]:
        """Once after each wave (options generated somewhere, then none, and no backlog left to send), vacuum what it churned.

        Outside waves autovacuum is enough, and a vacuum while replies come in would cost them.
        The process's own heap is settled at the same moment, if asked (`settle_after_waves`).
        """
        if self._sending_backlog or await self._fanout_anywhere() or not self._wave_seen:
            return []
        self._wave_seen = False
        if self.settle_after_waves:
            took = settle_heap_again()
            log.info("heap settled after a wave in %.0f ms (%d objects frozen)", 1000 * took, gc.get_freeze_count())
        return await tidy(self.c.db)

    async def _fanout_anywhere(self) -> bool:
        """Whether this or another worker generates options; seeing one marks a wave for `tidy`."""
        running = not self.c.jobs.fanout_idle.is_set() or (
            self.c.doorbell is not None and await self.c.doorbell.fanout_elsewhere()
        )
        self._wave_seen |= running
        return running

    async def announce_fanout(self) -> None:
        """While this process generates options, keep the doorbell's fan-out announcement alive."""
        if self.c.doorbell is not None and not self.c.jobs.fanout_idle.is_set():
            await self.c.doorbell.announce_fanout(_FANOUT_ANNOUNCE_S)

    async def every(self, seconds: float, step: Callable[[], Awaitable[object]]) -> None:
        """Run `step` now, then every `seconds`, the first pause a random share of the period.

        Workers started together would otherwise sweep in the same instant every second (timers,
        the audit seal, broadcasts): measured at 200 replies/s on two busy cores, those coinciding
        bursts were the seconds in which replies waited longest.
        """
        pause = seconds * random.random()
        while True:
            try:
                await step()
            except Exception:
                log.exception("periodic step failed; retrying next round")
            await asyncio.sleep(pause)
            pause = seconds

    async def timers(self) -> int:
        return await fire_due_timers(self.c.db, self.c.service, clock=self.c.clock)

    async def unseen_pushes(self) -> int:
        """Pushes nobody opened within PUSH__FALLBACK_AFTER_S go to the passenger's next channel."""
        if "push" not in self.c.channels:
            return 0
        after = dt.timedelta(seconds=self.c.settings.push.fallback_after_s)
        moved = await fall_back_unseen(self.c.db, clock=self.c.clock, after=after)
        if moved:
            self.c.wake()
        return moved

    async def expire_holds(self) -> int:
        async with self.c.db.transaction() as s:
            return await expire_offers(s, now=self.c.clock())

    async def seal_audit(self) -> int:
        """Chain the audit entries committed since the last round (writers never wait for the chain).

        While options are being generated it waits, up to `dispatch_defer_s` between rounds, like
        first messages: the chain can be a few seconds late, the seats cannot.
        """
        if await self._options_first(since=self._sealed_at):
            return 0
        self._sealed_at = asyncio.get_running_loop().time()
        return await run_seal(self.c.db, wait=False)

    async def purge(self) -> int:
        """Retention: delete what is past its period (REBOOK_RETENTION__*)."""
        report = await run_purge(self.c.db, self.c.settings.retention, clock=self.c.clock, dry_run=False)
        return report.total

    async def recover(self) -> int:
        """Re-drive work a crashed process left behind: unassessed disruptions, batches that stopped moving, cut-off flight updates.

        Batches are idempotent, so re-driving one that is merely slow costs work, not correctness.
        """
        cutoff = self.c.clock() - dt.timedelta(seconds=self.c.settings.recover_stall_s)
        async with self.c.db.reading() as s:
            stalled_disruptions = list(
                (await s.scalars(select(Disruption.id).where(Disruption.status == "received", Disruption.created_at < cutoff))).all()
            )
            last_progress = func.coalesce(Disruption.offered_at, Disruption.assessed_at)
            stalled = list(
                (
                    await s.scalars(
                        select(Conversation.disruption_id)
                        .join(Disruption, Disruption.id == Conversation.disruption_id)
                        .where(Conversation.status == Status.PENDING.value, last_progress < cutoff)
                        .distinct()
                    )
                ).all()
            )
        for disruption_id in {*stalled_disruptions, *stalled}:
            await self.c.jobs.disruption_recorded(disruption_id)
        cut_off = await finish_cut_off(self.c.service, before=cutoff)  # flight updates stopped between their batches
        return len(stalled_disruptions) + len(stalled) + cut_off

    async def deliver_events(self) -> int:
        """Route new outbound events to their subscriptions and send what is due (docs/webhooks.md)."""
        return await self.c.outbound.run_once() if self.c.outbound is not None else 0

    async def settle_disruptions(self) -> None:
        """Disruptions whose conversations are all over become `settled` (with their event) without waiting for an ops read."""
        async with self.c.db.transaction() as s:
            await settle_finished(s, self.c.clock())

    async def settle_claims(self) -> int:
        """Bookings confirmed on a new itinerary get their open claims decided again, a batch per transaction."""
        bookings = 0
        for _ in range(_CLAIMS_BATCHES):
            async with self.c.db.transaction() as s:
                batch = await settle_booked(s, now=self.c.clock())
            bookings += batch
            if not batch:
                break
        return bookings

    async def care(self) -> int:
        """Passengers whose wait has earned meal, hotel or transfer vouchers get them once, and are told (a page per transaction)."""
        settings = self.c.settings.care
        policy, allotments = settings.policy(), settings.allotments()
        now = self.c.clock()
        after: int | None = 0
        vouchers = 0
        while after is not None:
            async with self.c.db.transaction() as s:
                swept, after = await sweep_care(s, now=now, policy=policy, hotels=lambda s: TableHotels(s, allotments, now=now), after=after)
            vouchers += swept.vouchers
            if swept.messages:
                self.c.wake()
            for airport, count in swept.at_desk.items():
                log.warning("care: %d hotel voucher(s) at %s found no contracted room; the desk books them", count, airport)
        return vouchers + await self.care_below(policy, allotments, now)

    async def care_below(self, policy: CarePolicy, allotments: tuple[Allotment, ...], now: dt.datetime) -> int:
        """Care for passengers of a delay too short for a conversation (conversations/care_below), a page per transaction."""
        carriers = self.c.service.config.carriers
        after: int | None = 0
        vouchers = 0
        while after is not None:
            async with self.c.db.transaction() as s:
                swept, after = await sweep_care_below(
                    s, now=now, policy=policy, hotels=lambda s: TableHotels(s, allotments, now=now), carriers=carriers, after=after
                )
            vouchers += swept.vouchers
            if swept.messages:
                self.c.wake()
            for airport, count in swept.at_desk.items():
                log.warning("care: %d hotel voucher(s) at %s found no contracted room; the desk books them", count, airport)
        return vouchers

    async def send_pnr_changes(self) -> int:
        """Two-phase booking: send recorded PNR changes to the remote PSS and record its answers (conversations/pnr_changes)."""
        return await self.c.pnr_changes.run_once() if self.c.pnr_changes is not None else 0

    async def send_refunds(self) -> int:
        """Refunds passengers chose go to the airline's Reservations port, outside any transaction (rebooking_core/refunds.py)."""
        return await send_requested(self.c.db, self.c.pss, now=self.c.clock())

    async def desk_pump(self) -> int:
        """Route escalations, post due Slack cards and relays, refresh debounced queue cards."""
        if self.c.desk is None or self.c.desk.agents is None:
            return 0
        report = await self.c.desk.agents.pump()
        return report.cards_posted + report.relays + report.queue_posts + report.queue_updates

    async def broadcast(self) -> int:
        """Finish broadcasts the dispatcher has handled and show their progress (their rows are sent like any other)."""
        return await self.c.desk.broadcaster.follow() if self.c.desk is not None else 0

    async def run(self, *, consume_jobs: bool = True) -> None:
        loops = [
            self.dispatch_forever(),
            self.every(1.0, self.timers),
            self.every(5.0, self.unseen_pushes),
            self.every(_FANOUT_POLL_S, self.announce_fanout),
            self.every(_TIDY_EVERY_S, self.tidy),
            self.every(30.0, self.expire_holds),
            self.every(1.0, self.seal_audit),
            self.every(min(15.0, self.c.settings.recover_stall_s), self.recover),
            self.every(1.0, self.desk_pump),
            self.every(self.c.settings.pss_booking.every_s, self.send_pnr_changes),
            self.every(self.c.settings.webhooks.poll_s, self.deliver_events),
            self.every(5.0, self.settle_disruptions),
            self.every(_CLAIMS_EVERY_S, self.settle_claims),
            self.every(_REFUNDS_EVERY_S, self.send_refunds),
            self.every(self.c.settings.care.sweep_s, self.care),
            self.every(0.5, self.broadcast),
            self.every(self.c.settings.retention.purge_every_minutes * 60, self.purge),
        ]
        settings = self.c.settings
        if self.serve_metrics and settings.worker_metrics_port:
            server = WorkerMetricsServer(self.c, host=settings.worker_metrics_host, port=settings.worker_metrics_port, heartbeat=self.heartbeat)
            loops.append(server.run())
        if settings.flightstatus.poll_url:
            loops.append(poll_forever(self.c, settings.flightstatus, self.every))
        if self.c.doorbell is not None:
            loops.append(self.c.doorbell.listen(self._wake.set))
        if consume_jobs and not isinstance(self.c.jobs.broker, InMemoryBroker):
            loops.append(run_receiver_task(self.c.jobs.broker, max_async_tasks=settings.worker_jobs))
        await asyncio.gather(*loops)
