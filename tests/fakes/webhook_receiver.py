"""An airline's webhook endpoint on 127.0.0.1 that verifies every delivery with the `standardwebhooks` package.

The verifier is the PyPI reference implementation of Standard Webhooks, not rebook's signing code:
a delivery counts as received only if it verifies (and its timestamp is within the package's five
minutes). `fail_next(n, status)` answers the next n requests with `status` (only those whose body holds
`matching`, when given: deliveries run concurrently, so "the next" alone is a race); `always(status)` until
told otherwise. Everything is recorded: `received` (verified bodies with their `webhook-id`),
`rejected` (why), and `requests` (every answer given).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass(frozen=True)
class Received:
    msg_id: str
    timestamp: int
    type: str
    data: dict[str, Any]
    body: bytes
    headers: dict[str, str]


@dataclass
class WebhookReceiver:
    """Secrets by path (`/hooks/<name>`), so several subscriptions can share one server."""

    secrets: dict[str, str] = field(default_factory=dict)
    received: list[tuple[str, Received]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    answers: list[tuple[str, int]] = field(default_factory=list)
    _script: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    _always: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, name: str, count: int, status: int = 500, matching: str = "") -> None:
        with self._lock:
            self._script.setdefault(name, []).extend([(status, matching.encode())] * count)

    def always(self, name: str, status: int | None) -> None:
        with self._lock:
            if status is None:
                self._always.pop(name, None)
            else:
                self._always[name] = status

    def got(self, name: str) -> list[Received]:
        with self._lock:
            return [r for n, r in self.received if n == name]

    def types(self, name: str) -> list[str]:
        return [r.type for r in self.got(name)]

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hooks/{name}", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await request.body()
        headers = dict(request.headers)
        with self._lock:
            scripted = self._script.get(name, [])
            hit = next((i for i, (_, matching) in enumerate(scripted) if matching in body), None)
            status = scripted.pop(hit)[0] if hit is not None else self._always.get(name)
        if status is not None:
            with self._lock:
                self.answers.append((name, status))
            return Response(status_code=status, headers={"retry-after": "1"} if status == 429 else None)
        secret = self.secrets.get(name)
        if secret is None:
            return Response(status_code=404)
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError as exc:
            with self._lock:
                self.rejected.append((name, str(exc)))
                self.answers.append((name, 401))
            return Response(status_code=401)
        payload = json.loads(body)
        item = Received(headers["webhook-id"], int(headers["webhook-timestamp"]), payload["type"], payload["data"], body, headers)
        with self._lock:
            self.received.append((name, item))
            self.answers.append((name, 204))
        return Response(status_code=204)
