"""Wires the agent desk (Slack) and ops broadcasts; without a Slack token and secret agents work through the API only."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from channels.slack import SlackDesk, SlackHttp
from conversations.broadcasts.broadcaster import Broadcaster
from conversations.desk.agents import AgentWorkflow, DeskConfig, RouteRule
from conversations.service import ConversationService
from gateway.settings import Settings
from infra.db import Database

log = logging.getLogger(__name__)


@dataclass
class DeskParts:
    broadcaster: Broadcaster
    desk: SlackDesk | None = None
    agents: AgentWorkflow | None = None
    slack: SlackHttp | None = None

    async def aclose(self) -> None:
        """Let acknowledged Slack work finish before the database goes away."""
        if self.slack is not None:
            await self.slack.settle()
        if self.desk is not None:
            await self.desk.aclose()


def desk_config(settings: Settings) -> DeskConfig:
    sl = settings.slack
    return DeskConfig(
        default_route=sl.escalation_channel,
        rules=tuple(
            RouteRule(
                channel=r.channel,
                airports=frozenset(a.upper() for a in r.airports),
                tiers=frozenset(r.tiers),
                languages=frozenset(r.languages),
            )
            for r in sl.routes
        ),
        always_push_tiers=frozenset(sl.always_push_tiers),
        debounce=dt.timedelta(seconds=sl.card_debounce_seconds),
        voucher_amount=sl.voucher_amount,
        voucher_currency=sl.voucher_currency,
    )


def build_desk(
    settings: Settings,
    *,
    db: Database,
    service: ConversationService,
    clock: Callable[[], dt.datetime],
    wake: Callable[[], None],
) -> DeskParts:
    """Broadcasts are outbox rows: the dispatcher sends them (consent, pacing, fallback) like every message."""
    sl = settings.slack
    log.info("channel slack: %s", sl.report())
    desk = (
        SlackDesk(
            token=sl.bot_token.get_secret_value(),
            api_base=sl.api_base,
            locale=sl.locale,
            max_connections=sl.max_connections,
        )
        if sl.enabled and sl.bot_token
        else None
    )
    broadcaster = Broadcaster(db, clock=clock, board=desk, on_start=wake)
    if desk is None or sl.signing_secret is None:
        # Agents still work through the ops API (/v1/escalations); nothing is posted to Slack.
        return DeskParts(broadcaster=broadcaster, desk=desk, agents=AgentWorkflow(db, service, None, config=desk_config(settings), clock=clock))
    agents = AgentWorkflow(db, service, desk, config=desk_config(settings), clock=clock)
    slack = SlackHttp(
        signing_secret=sl.signing_secret.get_secret_value(), desk=desk, sink=agents, broadcasts=broadcaster, locale=sl.locale
    )
    return DeskParts(broadcaster=broadcaster, desk=desk, agents=agents, slack=slack)
