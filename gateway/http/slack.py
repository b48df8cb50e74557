"""Slack's HTTP endpoints: signature and shape screened on the raw body, then the slack-bolt app; agent metrics."""

from __future__ import annotations

import hashlib
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from channels.slack import SlackHttp
from channels.slack_screen import Screened, SlackScreen
from conversations.desk.agents import agent_stats, summary
from gateway.http.problems import problem
from infra.db import Database

log = logging.getLogger(__name__)

PATHS = ("/events", "/interactions", "/commands")


def router(slack: SlackHttp, screen: SlackScreen) -> APIRouter:
    """POST /slack/events, /slack/interactions, /slack/commands: 401 before bolt parses a forged or stale request."""
    r = APIRouter(prefix="/slack", tags=["slack"])

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        verdict = screen.screen(body, request.headers)
        if verdict is Screened.PASS:
            return await slack.handle(request)
        # Unauthenticated or unreadable: method, path, size and a hash, never the body.
        digest = hashlib.sha256(body).hexdigest()[:16]
        log.warning("slack request %s: %s %s (%d bytes, sha256 %s)", verdict, request.method, request.url.path, len(body), digest)
        if verdict is Screened.FORGED:
            return problem(401, "bad, missing or stale Slack signature")
        if verdict is Screened.MALFORMED:
            return problem(400, "signed, but not a Slack payload")
        return Response(status_code=200)

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
