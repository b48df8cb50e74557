"""The one place where adapters are wired into services; tests build through it too."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from channels.registry import CHANNELS, Wiring
from channels.sandbox import Sandbox
from conversations.broadcasts.broadcaster import BroadcastNotices
from conversations.care_notices import CareNotices
from conversations.choices import ChoiceConfig
from conversations.clock import utcnow
from conversations.engine import Policy
from conversations.inbound import InboundRouter
from conversations.intake.fanout import FanOut
from conversations.intake.workflow import assess
from conversations.outbox.dispatcher import DispatchConfig, Dispatcher
from conversations.outbox.rendering import Branding, MessageRenderer
from conversations.pnr_changes.pump import PnrChangePump
from conversations.pnr_changes.record import record_intent
from conversations.ports import Channel
from conversations.service import ConversationService, EngineConfig
from gateway.desk import DeskParts, build_desk
from gateway.observability.metrics import JobTelemetry, Metrics
from gateway.observability.tracing import Tracing
from gateway.outbound.delivery import Deliverer, DeliveryConfig
from gateway.outbound.retries import RetryPolicy
from gateway.pacing import build_pacer, close_pacer
from gateway.pss.wiring import AirlinePorts, airline_ports
from gateway.settings import Settings
from gateway.worker.jobs import Jobs, make_broker
from infra import crypto
from infra.db import Database
from infra.doorbell import Doorbell
from rebooking_core import airports
from rebooking_core.airline.ports import Inventory, Loyalty, Reservations
from rebooking_core.loyalty_profiles import ProfileSource
from rebooking_core.ranking import LoyaltyWeights, RankingWeights
from rebooking_core.rights.carriers import Carriers
from rebooking_core.rights.facts import CarrierSize, Licence

log = logging.getLogger(__name__)


def configure_keyring(settings: Settings) -> crypto.Keyring:
    ring = crypto.Keyring.from_secrets(settings.pii_key_list, settings.blind_index_key.get_secret_value())
    crypto.configure(ring)
    return ring


def build_channels(settings: Settings, sandbox: Sandbox | None) -> dict[str, Channel]:
    """Every registered channel whose settings section is set up; under `settings.sandbox`, all of them, recording."""
    box = (sandbox or Sandbox(limit=settings.sandbox_buffer)) if settings.sandbox else None
    wiring = Wiring(public_base_url=settings.public_base_url)
    channels: dict[str, Channel] = {}
    for entry in CHANNELS:
        section = getattr(settings, entry.section)
        if box is not None:
            channels[entry.name] = entry.sandboxed(section, box)
        elif section.enabled:
            channels[entry.name] = entry.build(section, wiring)
    return channels


@dataclass
class Container:
    settings: Settings
    db: Database
    service: ConversationService
    dispatcher: Dispatcher
    inbound: InboundRouter
    jobs: Jobs
    channels: dict[str, Channel]
    sandbox: Sandbox | None
    clock: Callable[[], dt.datetime]
    metrics: Metrics
    tracing: Tracing
    listeners: list[Callable[[], None]] = field(default_factory=list)
    desk: DeskParts | None = None
    doorbell: Doorbell | None = None
    #: Signed outbound events to the airline's webhook subscriptions (routed and sent by the worker).
    outbound: Deliverer | None = None
    #: Against a remote PSS: sends the PNR changes choices recorded and feeds back its answers (the worker runs it).
    pnr_changes: PnrChangePump | None = None
    #: The airline's systems (`REBOOK_PSS__*`, docs/pss.md): the built-in tables by default, or `HttpPss`.
    airline: AirlinePorts | None = None

    @property
    def pss(self) -> Reservations:
        return self._airline().reservations

    @property
    def inventory_port(self) -> Inventory:
        return self._airline().inventory

    @property
    def loyalty(self) -> Loyalty:
        return self._airline().loyalty

    def _airline(self) -> AirlinePorts:
        if self.airline is None:
            raise RuntimeError("the airline ports are wired by build()")
        return self.airline

    def wake(self) -> None:
        for listener in self.listeners:
            listener()

    async def start(self) -> None:
        await self.jobs.broker.startup()
        airports.preload()  # now, not inside the first disruption's option search (~0.1 s of CSV a process)

    async def aclose(self) -> None:
        await self.jobs.shutdown()
        for channel in self.channels.values():
            await channel.aclose()
        await close_pacer(self.dispatcher.pacer)
        if self.desk is not None:
            await self.desk.aclose()
        if self.doorbell is not None:
            await self.doorbell.aclose()
        if self.outbound is not None:
            await self.outbound.aclose()
        if self.airline is not None and self.airline.remote is not None:
            await self.airline.remote.aclose()
        await self.db.dispose()
        self.tracing.shutdown()


def loyalty_profiles(settings: Settings, airline: AirlinePorts | None) -> ProfileSource | None:
    """A remote loyalty system is asked while assessing; the built-in store's columns are read with the passengers already."""
    if airline is None or airline.remote is None:
        return None
    return ProfileSource(airline.loyalty, concurrency=settings.ranking.loyalty_concurrency, timeout_s=settings.ranking.loyalty_timeout_s)


def engine_config(settings: Settings) -> EngineConfig:
    return EngineConfig(
        policy=Policy(
            reminder_after=dt.timedelta(minutes=settings.reminder_minutes),
            deadline_after=dt.timedelta(minutes=settings.deadline_minutes),
            max_reminders=settings.max_reminders,
            on_deadline=settings.on_deadline,
            first_contact=settings.first_contact,
            change_cutoff=dt.timedelta(minutes=settings.change_cutoff_minutes),
        ),
        max_options=settings.max_options,
        hold_ttl=dt.timedelta(minutes=settings.hold_minutes),
        carrier_is_eu=settings.airline_carrier_is_eu,
        weights=RankingWeights(loyalty=LoyaltyWeights(**settings.ranking.loyalty_weights.model_dump())),
        delay_threshold=dt.timedelta(minutes=settings.delay_threshold_minutes),
        carriers=carriers(settings),
        choices=ChoiceConfig(
            enabled=settings.choices.enabled,
            refund_by_policy=settings.choices.refund_by_policy,
            later_days=settings.choices.later_days,
            later_tries=settings.choices.later_tries,
            carriers=carriers(settings),
        ),
    )


def carriers(settings: Settings) -> Carriers:
    """The operating carriers' licences and APPR size from REBOOK_RIGHTS__* (the default licence from AIRLINE_CARRIER_IS_EU)."""
    rights = settings.rights
    default = rights.licence or ("eu" if settings.airline_carrier_is_eu else "other")
    return Carriers(
        licence=Licence(default),
        size=CarrierSize(rights.carrier_size),
        by_code=MappingProxyType({code.upper(): Licence(licence) for code, licence in rights.carriers.items()}),
    )


def build(
    settings: Settings,
    *,
    clock: Callable[[], dt.datetime] = utcnow,
    channels: Mapping[str, Channel] | None = None,
    sandbox: Sandbox | None = None,
    tracing: Tracing | None = None,
) -> Container:
    configure_keyring(settings)
    for name, state in settings.channel_report().items():
        log.info("channel %s: %s", name, state)
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    if settings.sandbox and sandbox is None:
        sandbox = Sandbox(limit=settings.sandbox_buffer)
    chans = dict(channels) if channels is not None else build_channels(settings, sandbox)
    tracing = tracing or Tracing(settings.tracing)
    metrics = Metrics(tracing, kpi_window=dt.timedelta(hours=settings.kpi_window_hours))
    holder: list[Container] = []
    service = ConversationService(
        db, config=engine_config(settings), clock=clock, on_outbox=lambda: holder[0].wake() if holder else None, telemetry=metrics
    )
    branding = Branding(
        airline=settings.airline_name,
        help_contact=settings.help_contact,
        # One page link is minted per message when a channel shows it: e-mail always, SMS and WhatsApp unless turned off.
        page_base_url=settings.public_base_url if _shows_page_links(settings, chans) else "",
        page_ttl=settings.page.token_ttl,
        telegram_bot=(settings.telegram.bot_username or "") if "telegram" in chans else "",
        telegram_link_ttl=settings.telegram.link_ttl,
        rights_base_url=settings.public_base_url,
    )
    renderer = MessageRenderer(branding, clock=clock, carriers=carriers(settings))
    renderer.choices = service.config.choices
    dispatcher = Dispatcher(
        db,
        channels=chans,
        renderer=renderer,
        notices=CareNotices(branding, BroadcastNotices(branding)),
        service=service,
        clock=clock,
        pacer=build_pacer(settings, chans),
        config=DispatchConfig(
            claim_ttl=dt.timedelta(seconds=settings.outbox_claim_ttl_s),
            lane_horizon_s=settings.dispatch_lane_horizon_s,
            concurrency=settings.dispatch_concurrency,
            batch=settings.dispatch_batch,
            record_batch=settings.dispatch_record_batch,
        ),
    )
    inbound = InboundRouter(db, service, clock=clock)

    async def _assess(disruption_id: int) -> list[list[int]]:
        return await assess(
            db,
            disruption_id,
            clock=clock,
            batch_size=settings.batch_size,
            delay_threshold=service.config.delay_threshold,
            carriers=service.config.carriers,
            profiles=loyalty_profiles(settings, container.airline),
        )

    fanout = FanOut(service, batch_size=settings.batch_size)

    broker = make_broker(settings.redis_url, idle_timeout_ms=int(settings.job_idle_timeout_s * 1000))
    jobs = Jobs(broker, assess=_assess, offer_next=fanout.offer_next, observer=JobTelemetry(metrics, db, clock))
    container = Container(
        settings=settings,
        db=db,
        service=service,
        dispatcher=dispatcher,
        inbound=inbound,
        jobs=jobs,
        channels=chans,
        sandbox=sandbox,
        clock=clock,
        metrics=metrics,
        tracing=tracing,
    )
    container.desk = build_desk(settings, db=db, service=service, clock=clock, wake=container.wake)
    container.airline = airline_ports(settings.pss, db, clock=clock)
    if settings.pss.adapter != "sql":
        container.pnr_changes = pnr_change_pump(settings, service, container.pss, clock=clock, metrics=metrics)
    container.outbound = Deliverer(
        db, config=delivery_config(settings), clock=clock, on_outcome=lambda outcome: metrics.event_deliveries.labels(outcome).inc()
    )
    if settings.redis_url:
        container.doorbell = Doorbell.from_url(settings.redis_url)
        container.listeners.append(container.doorbell.ring)
    holder.append(container)
    return container


def pnr_change_pump(
    settings: Settings, service: ConversationService, pss: Reservations, *, clock: Callable[[], dt.datetime], metrics: Metrics
) -> PnrChangePump:
    """Two-phase booking (docs/booking-two-phase.md): a choice records the change, the worker's pump asks the PSS."""
    service.commands.record_intent = record_intent
    booking = settings.pss_booking
    return PnrChangePump(
        service,
        pss,
        policy=booking.policy(),
        clock=clock,
        batch=booking.batch,
        concurrency=booking.concurrency,
        on_outcome=lambda outcome: metrics.pnr_changes.labels(outcome).inc(),
    )


def delivery_config(settings: Settings) -> DeliveryConfig:
    """Outbound webhook delivery as `REBOOK_WEBHOOKS__*` sets it."""
    hooks = settings.webhooks
    return DeliveryConfig(
        policy=RetryPolicy(
            schedule=hooks.schedule,
            jitter=hooks.jitter,
            failures=hooks.circuit_failures,
            period=dt.timedelta(seconds=hooks.circuit_period_s),
        ),
        timeout_s=hooks.timeout_s,
        connect_timeout_s=hooks.connect_timeout_s,
        concurrency=hooks.concurrency,
    )


def _shows_page_links(settings: Settings, chans: Mapping[str, Channel]) -> bool:
    """E-mail's options are buttons on the page; SMS and WhatsApp carry the link unless `PAGE__IN_TEXTS` is off."""
    texts = settings.page.in_texts and bool(chans.keys() & {"sms", "whatsapp"})
    return texts or (settings.email.enabled and "email" in chans)
