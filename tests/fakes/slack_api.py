"""A local fake of the Slack Web API (auth.test, chat.postMessage/update/delete, conversations.replies) and of response_url."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T0REBOOK"
MAX_BLOCKS = 50
MAX_TEXT = 40_000


@dataclass(frozen=True)
class Call:
    method: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Hold:
    """A call the fake has received (`arrived`) and answers once `release` is set."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class FakeSlack:
    """Records every call; `fail_next(method, 429, retry_after=…)` scripts Slack's rate limit."""

    token: str = "xoxb-test-token"
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[tuple[int, str, str | None]]] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    held: dict[str, Hold] = field(default_factory=dict)

    def hold_next(self, method: str) -> Hold:
        """The next call of `method` is recorded, then answered only once the test releases it."""
        hold = Hold()
        self.held[method] = hold
        return hold

    def fail_next(self, method: str, status: int = 429, *, error: str = "ratelimited", retry_after: str | None = "0") -> None:
        self.failures.setdefault(method, []).append((status, error, retry_after))

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def human_reply(self, channel: str, thread_ts: str, user: str, text: str) -> str:
        """A person's message in a thread (Slack has it; a bot may not delete it)."""
        ts = f"1700000000.{next(self._ts):06d}"
        with self._lock:
            self.messages[(channel, ts)] = {"channel": channel, "text": text, "thread_ts": thread_ts, "user": user}
        return ts

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """The replies Slack still holds in a thread, oldest first."""
        with self._lock:
            return [b for (ch, ts), b in sorted(self.messages.items()) if ch == channel and b.get("thread_ts") == thread_ts and ts != thread_ts]

    def posts(self, *, thread_ts: str | None = None) -> list[dict[str, Any]]:
        return [c.body for c in self.of("chat.postMessage") if c.body.get("thread_ts") == thread_ts]

    @property
    def api_calls(self) -> int:
        """Web API calls that cost rate limit (auth.test is once per app)."""
        return len([c for c in self.calls if c.method != "auth.test"])

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.api_route("/api/{method}", methods=["GET", "POST"])
        async def call(method: str, request: Request) -> JSONResponse:
            raw = await request.body()
            if request.headers.get("content-type", "").startswith("application/json"):
                body: dict[str, Any] = json.loads(raw or b"{}")
            else:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            # Some methods (conversations.replies, chat.delete) send their arguments in the query string.
            body = {**dict(request.query_params), **body}
            if isinstance(body.get("blocks"), str):
                body["blocks"] = json.loads(body["blocks"])
            with self._lock:
                self.calls.append(Call(method, body))
                scripted = self.failures.get(method)
                failure = scripted.pop(0) if scripted else None
                hold = self.held.pop(method, None)
            if hold is not None:
                hold.arrived.set()
                await asyncio.to_thread(hold.release.wait, 30)
            if failure is not None:
                status, error, retry_after = failure
                headers = {"Retry-After": retry_after} if retry_after is not None else {}
                return JSONResponse({"ok": False, "error": error}, status_code=status, headers=headers)
            if request.headers.get("authorization") != f"Bearer {self.token}":
                return JSONResponse({"ok": False, "error": "invalid_auth"})
            return JSONResponse(self._answer(method, body))

        @api.post("/response/{key}")
        async def respond(key: str, request: Request) -> JSONResponse:
            with self._lock:
                self.responses.append({"key": key, **json.loads(await request.body())})
            return JSONResponse({"ok": True})

        return api

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://rebook.slack.test/", "team": "rebook", "user": "rebook", "team_id": TEAM,
                    "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}
        channel = str(body.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        blocks = body.get("blocks") or []
        if len(blocks) > MAX_BLOCKS:
            return {"ok": False, "error": "invalid_blocks"}
        if len(str(body.get("text") or "")) > MAX_TEXT:
            return {"ok": False, "error": "msg_too_long"}
        if method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            with self._lock:
                self.messages[(channel, ts)] = body
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": body.get("text"), "ts": ts}}
        if method == "chat.update":
            ts = str(body.get("ts") or "")
            with self._lock:
                if (channel, ts) not in self.messages:
                    return {"ok": False, "error": "message_not_found"}
                self.messages[(channel, ts)] = body
            return {"ok": True, "channel": channel, "ts": ts, "text": body.get("text")}
        if method == "chat.delete":
            ts = str(body.get("ts") or "")
            with self._lock:
                message = self.messages.get((channel, ts))
                if message is None:
                    return {"ok": False, "error": "message_not_found"}
                if "user" in message:
                    return {"ok": False, "error": "cant_delete_message"}
                del self.messages[(channel, ts)]
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "conversations.replies":
            return self._replies(channel, str(body.get("ts") or ""), int(body.get("limit") or 1000), int(body.get("cursor") or 0))
        return {"ok": False, "error": "unknown_method"}

    def _replies(self, channel: str, thread_ts: str, limit: int, start: int) -> dict[str, Any]:
        """The parent then its replies, `limit` a page, with Slack's cursor in response_metadata."""
        with self._lock:
            parent = self.messages.get((channel, thread_ts))
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            replies = [(ts, b) for (ch, ts), b in sorted(self.messages.items()) if ch == channel and b.get("thread_ts") == thread_ts]
        listed = [_listed(thread_ts, parent)] + [_listed(ts, b) for ts, b in replies]
        page = listed[start : start + limit]
        more = start + limit < len(listed)
        return {"ok": True, "messages": page, "has_more": more, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}


def _listed(ts: str, body: dict[str, Any]) -> dict[str, Any]:
    """A message as conversations.replies shows it: what a person wrote has a user, what we posted a bot_id."""
    author = {"user": body["user"]} if "user" in body else {"bot_id": BOT_ID, "user": BOT_USER}
    listed = {"ts": ts, "text": body.get("text"), **author}
    if body.get("thread_ts"):
        listed["thread_ts"] = body["thread_ts"]
    return listed
