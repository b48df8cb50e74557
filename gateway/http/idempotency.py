"""The `Idempotency-Key` header of every creating POST (and PUT): a retry gets the first answer, never a second run.

A route takes part by listing `IDEMPOTENT` in its dependencies (which also documents the header).
With a key, the request is fingerprinted (method, path, query, body; JSON bodies canonicalised)
and the key claimed in `idempotent_answers` before the handler runs:

- first use: the handler runs; a 2xx answer is stored before its last byte is sent, anything
  else releases the key (a failed request may be retried with the same key);
- same key, same request, answered: the stored status and body, with `Idempotent-Replayed: true`;
- same key, another request: 422 problem; same key while the first request still runs: 409
  problem with `Retry-After`.

Keys belong to the credentials that sent them (a hash of the bearer token) and are kept 24 hours
(`ANSWERS_KEPT`); list `IDEMPOTENT` after the route's scope check, so only an authorised request
claims or replays. The middleware `KeepAnswers` stores or releases the claim once the handler has
answered.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Annotated, Final

from fastapi import Depends, Header, HTTPException, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conversations.idempotent_answers import Answer, Outcome, claim, keep, release
from gateway.container import Container

HEADER: Final = "Idempotency-Key"
REPLAYED: Final = "Idempotent-Replayed"
#: Printable ASCII without spaces, as the IETF draft's examples and Stripe's UUIDs are.
KEY_PATTERN: Final = r"^[\x21-\x7e]+$"
MAX_KEY: Final = 255
#: Seconds a client waits before retrying a key whose first request is still running.
RETRY_RUNNING_S: Final = 1
#: Where `KeepAnswers` leaves its `Pending` for the dependency to fill.
SCOPE_KEY: Final = "rebook.idempotency"


@dataclass
class Pending:
    """The claim this request holds, if any, and the answer seen so far."""

    row_id: int | None = None
    status: int = 0
    media_type: str = ""
    chunks: list[bytes] = field(default_factory=list)


class Replay(Exception):
    """Raised by the dependency to answer with a stored answer (`install` turns it into the response)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("replayed")
        self.answer = answer


def fingerprint(method: str, path: str, query: bytes, body: bytes, media_type: str) -> str:
    """The request as a hash; JSON bodies compare by value, so key order and spacing do not matter."""
    if media_type == "application/json":
        with contextlib.suppress(ValueError):
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def key_hash(authorization: str, key: str) -> str:
    """The key as stored: one client's keys never meet another's."""
    return hashlib.sha256(f"{authorization}\n{key}".encode()).hexdigest()


async def idempotency_key(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=MAX_KEY,
            pattern=KEY_PATTERN,
            description="A client-chosen unique key (e.g. a UUID): a retry with the same key and body gets the "
            "first answer without running again; the same key with another body is 422. Kept 24 hours.",
        ),
    ] = None,
) -> None:
    """Claim the key for this request, or answer from the stored one (see the module)."""
    if idempotency_key is None:
        return
    pending = request.scope.get(SCOPE_KEY)
    if not isinstance(pending, Pending):
        raise RuntimeError("Idempotency-Key needs the KeepAnswers middleware")
    c: Container = request.app.state.container
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    seen = fingerprint(request.method, request.url.path, request.scope.get("query_string", b""), await request.body(), media_type)
    stored_as = key_hash(request.headers.get("authorization", ""), idempotency_key)
    async with c.db.transaction() as s:
        found = await claim(s, key_hash=stored_as, fingerprint=seen, now=c.clock())
    if found.outcome is Outcome.MINE:
        pending.row_id = found.row_id
    elif found.outcome is Outcome.ANSWERED and found.answer is not None:
        raise Replay(found.answer)
    elif found.outcome is Outcome.CONFLICT:
        raise HTTPException(422, f"this {HEADER} was used with another request; use a new key for a new request")
    else:
        raise HTTPException(
            409, f"a request with this {HEADER} is still running; retry later", headers={"Retry-After": str(RETRY_RUNNING_S)}
        )


#: The dependency of every creating POST.
IDEMPOTENT = Depends(idempotency_key)


async def replay(request: Request, exc: Exception) -> Response:
    """The stored answer, byte for byte, marked as a replay."""
    if not isinstance(exc, Replay):
        raise exc
    a = exc.answer
    return Response(a.body.encode(), status_code=a.status, media_type=a.media_type, headers={REPLAYED: "true"})


class KeepAnswers:
    """ASGI middleware: once a claiming request has answered, store a 2xx answer (before its last byte goes) or release the key."""

    def __init__(self, app: ASGIApp, *, container: Container) -> None:
        self.app = app
        self.c = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        pending = Pending()
        scope[SCOPE_KEY] = pending

        async def sent(message: Message) -> None:
            await self._watch(pending, message)
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            if pending.row_id is not None:
                # Not stored by `_watch`: no 2xx answer, an error, or a response cut short.
                await self._release(pending)

    async def _watch(self, pending: Pending, message: Message) -> None:
        row_id = pending.row_id
        if row_id is None:
            return
        if message["type"] == "http.response.start":
            pending.status = int(message["status"])
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])}
            pending.media_type = headers.get("content-type", "application/json")
            return
        if message["type"] != "http.response.body" or not 200 <= pending.status < 300:
            return
        pending.chunks.append(bytes(message.get("body", b"")))
        if message.get("more_body", False):
            return
        body = b"".join(pending.chunks)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return
        async with self.c.db.transaction() as s:
            await keep(s, row_id, Answer(pending.status, pending.media_type[:64], text))
        pending.row_id = None

    async def _release(self, pending: Pending) -> None:
        row_id, pending.row_id = pending.row_id, None
        if row_id is not None:
            async with self.c.db.transaction() as s:
                await release(s, row_id)
