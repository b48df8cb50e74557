"""Slack's HTTP endpoints, served by the slack-bolt app (which verifies every signature), and agent metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from channels.slack import SlackHttp
from conversations.agents import agent_stats, summary
from infra.db import Database

PATHS = ("/events", "/interactions", "/commands")


def router(slack: SlackHttp) -> APIRouter:
    """POST /slack/events, /slack/interactions, /slack/commands: bolt answers 401 to a bad or stale signature."""
    r = APIRouter(prefix="/slack", tags=["slack"])

    async def endpoint(request: Request) -> Response:
        return await slack.handle(request)

    for path in PATHS:
        r.add_api_route(path, endpoint, methods=["POST"], name=f"slack{path.replace('/', '_')}")
    return r


async def agent_metrics(db: Database) -> bytes:
    """Time to claim, time to resolution, escalations by reason, tier and status, in Prometheus text."""
    stats = await agent_stats(db)
    registry = CollectorRegistry()
    claim = Gauge("rebook_agent_time_to_claim_seconds", "Escalation created → taken by an agent", ["stat"], registry=registry)
    resolve = Gauge("rebook_agent_time_to_resolution_seconds", "Escalation created → returned to the bot", ["stat"], registry=registry)
    for gauge, values in ((claim, stats.claim_seconds), (resolve, stats.resolution_seconds)):
        count, mean, top = summary(values)
        gauge.labels("count").set(count)
        gauge.labels("mean").set(mean)
        gauge.labels("max").set(top)
    escalations = Gauge("rebook_escalations", "Escalations by reason, tier and status", ["reason", "tier", "status"], registry=registry)
    for reason, tier, status, n in stats.by_reason_tier_status:
        escalations.labels(reason, str(tier), status).set(n)
    return generate_latest(registry)
