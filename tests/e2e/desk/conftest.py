"""The gateway with Slack enabled against a local fake Slack, plus signed (or forged) Slack requests."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from conversations.desk.agents import AgentWorkflow
from gateway.http.app import create_app
from tests.conversations.conftest import Clock, Pax, Rig, clock, rig  # noqa: F401  (fixtures)
from tests.fakes.server import LocalServer
from tests.fakes.slack_api import TEAM, FakeSlack

SECRET = "slack-signing-secret"
ESC = "CESCALATE"


@pytest.fixture(scope="module")
def slack_server() -> Iterator[tuple[FakeSlack, str]]:
    fake = FakeSlack()
    with LocalServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
def fake(slack_server: tuple[FakeSlack, str]) -> FakeSlack:
    f = slack_server[0]
    f.calls.clear()
    f.responses.clear()
    f.failures.clear()
    return f


@pytest.fixture
def settings_overrides(slack_server: tuple[FakeSlack, str]) -> dict[str, Any]:
    return {
        "slack": {
            "bot_token": slack_server[0].token,
            "signing_secret": SECRET,
            "api_base": f"{slack_server[1]}/api/",
            "escalation_channel": ESC,
            "card_debounce_seconds": 5,
        }
    }


@dataclass
class Desk:
    rig: Rig
    http: httpx.AsyncClient
    fake: FakeSlack
    response_base: str

    @property
    def agents(self) -> AgentWorkflow:
        parts = self.rig.c.desk
        if parts is None or parts.agents is None:
            raise RuntimeError("slack settings enable the desk")
        return parts.agents

    async def settle(self) -> None:
        """Finish Slack background work, then what a worker does: send the outbox, pump the desk.

        Bolt runs an event's listener after acknowledging the request, so the work it starts may begin
        a little after the response: settle until a round finds nothing started and nothing to send.
        """
        parts = self.rig.c.desk
        quiet = 0
        for _ in range(200):
            await asyncio.sleep(0.005)
            busy = parts is not None and parts.slack is not None and bool(parts.slack._tasks)
            if busy and parts is not None and parts.slack is not None:
                await parts.slack.settle()
            sent = await self.rig.c.dispatcher.drain()
            quiet = 0 if busy or sent else quiet + 1
            if quiet >= 2:
                return

    async def post(self, path: str, body: str, content_type: str, *, secret: str = SECRET, age: int = 0,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        ts = str(int(time.time()) - age)
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        sent = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, "Content-Type": content_type}
        sent.update(headers or {})
        return await self.http.post(path, content=body.encode(), headers=sent)

    async def click(self, action_id: str, value: str, *, user: str = "UAGENT1", channel: str = ESC,
                    trigger: str | None = None, **kw: Any) -> httpx.Response:
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM},
            "user": {"id": user},
            "api_app_id": "AREBOOK",
            "trigger_id": trigger or f"trig-{time.monotonic_ns()}",
            "channel": {"id": channel},
            "container": {"type": "message", "channel_id": channel},
            "response_url": f"{self.response_base}/response/{user}",
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value,
                         "action_ts": str(time.time())}],
        }
        body = "payload=" + urllib.parse.quote(json.dumps(payload))
        return await self.post("/slack/interactions", body, "application/x-www-form-urlencoded", **kw)

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any) -> httpx.Response:
        body = json.dumps({
            "token": "unused", "team_id": TEAM, "api_app_id": "AREBOOK", "type": "event_callback",
            "event_id": event_id or f"Ev{time.monotonic_ns()}", "event_time": int(time.time()), "event": event,
        })
        return await self.post("/slack/events", body, "application/json", **kw)

    async def reply_in_thread(self, thread_ts: str, text: str, *, user: str = "UAGENT1", **kw: Any) -> httpx.Response:
        return await self.event({"type": "message", "channel": ESC, "user": user, "text": text,
                                 "ts": f"1800000000.{time.monotonic_ns() % 1_000_000:06d}", "thread_ts": thread_ts}, **kw)

    async def command(self, text: str, *, user: str = "UOPS", channel: str = "COPS", **kw: Any) -> httpx.Response:
        form = {"token": "unused", "team_id": TEAM, "channel_id": channel, "user_id": user, "command": "/rebook",
                "text": text, "response_url": f"{self.response_base}/response/cmd", "trigger_id": f"trig-{time.monotonic_ns()}"}
        return await self.post("/slack/commands", urllib.parse.urlencode(form), "application/x-www-form-urlencoded", **kw)


@pytest.fixture
async def desk(rig: Rig, fake: FakeSlack, slack_server: tuple[FakeSlack, str]) -> AsyncIterator[Desk]:  # noqa: F811
    transport = httpx.ASGITransport(app=create_app(rig.c))
    async with httpx.AsyncClient(transport=transport, base_url="http://rebook.test") as client:
        yield Desk(rig, client, fake, slack_server[1])


async def escalate(d: Desk, *people: Pax, channel: str = "whatsapp") -> None:
    """Offer, then every passenger writes "agent"."""
    await d.rig.offered(*people)
    for who in people:
        await d.rig.reply(channel, who, "agent")
    await d.rig.c.dispatcher.drain()
