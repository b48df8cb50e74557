"""A passenger service system on 127.0.0.1 that keeps the contract in docs/pss.openapi.yaml, and can misbehave on cue.

Serve it with `LocalServer(fake.app)`; aim `HttpPss` (or `REBOOK_PSS__BASE_URL`) at `server.url`.

It enforces the contract, so a client that breaks it fails here as it would against a real PSS:
the bearer token (401), an `Idempotency-Key` on every POST (400), request bodies validated
against the contract's own schemas (400 `malformed`), `version` on a modification (409
`version_conflict` with `current_version`), seats counted per flight and cabin (422 `no_seats`),
and one answer per key: the same key replays the first answer and never changes a PNR twice (a
different body under the same key is 422 `key_reused`).

Set up: `add_flight(FlightKey, {"Y": 10}, sold={"Y": 4})`, `add_pnr("ABC123", [(FlightKey, "Y")], passengers=2)`,
`add_member("ABC123", 1, tier=2, status="Gold", miles=5000)`; `bump("ABC123")` changes a PNR behind the client's back.

Script what happens next (each takes `n`, how many requests, and `op`, which operation: availability,
hold, release, read, modify, status, ticket, refund, loyalty; None: any):
- `stall_next(seconds, apply=True)`: answer only after `seconds` (past the client's read timeout).
  With `apply` the request takes effect first: the PSS did it, the answer was lost.
- `fail_next(status=503)`: answer 5xx without doing anything.
- `accept_next(polls=None)`: a modification answers 202 pending; it is confirmed by `confirm(locator, key)`
  (or refused by `refuse(locator, key, reason)`), or by itself on the `polls`-th status request.
- `refuse_next(reason)`: a modification answers 422 with `reason` (e.g. ticket_not_reissuable).

It checks its own answers against the contract's responses as well: any status or body the YAML
does not list is appended to `violations` (assert it empty).

Look: `applied` (one (locator, key) per change that took effect), `pnr(locator)`, `seats(flight, cabin)`,
`requests` ((operation, status) per answer), `connections` (client sockets seen: pooling shows here),
`peak_in_flight`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rebooking_core.airline.ports import FlightKey

SPEC = Path(__file__).resolve().parents[2] / "docs" / "pss.openapi.yaml"
TOKEN = "pss-test-token"
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_LOCATOR = re.compile(r"^[A-Z0-9]{5,8}$")
#: The contract's operationIds by the short names scripts use.
_OPERATIONS = {
    "searchAvailability": "availability",
    "holdSeats": "hold",
    "releaseHold": "release",
    "readPnr": "read",
    "modifyPnr": "modify",
    "modificationStatus": "status",
    "ticketStatus": "ticket",
    "requestRefund": "refund",
    "loyaltyProfile": "loyalty",
}
#: The operations that change something, so carry an Idempotency-Key (an availability search changes nothing).
_CHANGES = frozenset({"hold", "modify", "refund"})

Flight = tuple[str, str, str]  # carrier, number, ISO date


def _flight(raw: dict[str, Any]) -> Flight:
    return (raw["carrier"], raw["number"], raw["date"])


def _of(key: FlightKey) -> Flight:
    return (key.carrier, key.number, key.date.isoformat())


def _wire(flight: Flight) -> dict[str, str]:
    return {"carrier": flight[0], "number": flight[1], "date": flight[2]}


@dataclass
class Cabin:
    capacity: int
    sold: int = 0
    held: int = 0

    @property
    def free(self) -> int:
        return self.capacity - self.sold - self.held


@dataclass
class Pnr:
    locator: str
    version: int
    passengers: int
    #: [flight, cabin, status] in itinerary order.
    segments: list[list[Any]]
    ticket: str = "not_required"
    members: dict[int, dict[str, Any]] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        return {
            "locator": self.locator,
            "version": self.version,
            "passengers": self.passengers,
            "segments": [
                {"flight": _wire(f), "cabin": c, "status": s} for f, c, s in self.segments
            ],
            "ticket": {"status": self.ticket},
        }


@dataclass
class Modification:
    locator: str
    key: str
    body: dict[str, Any]
    status: str  # confirmed, pending, refused
    version: int | None = None
    reason: str | None = None
    polls_left: int | None = None

    def wire(self, ticket: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.version is not None:
            out["version"] = self.version
        if self.reason is not None:
            out["reason"] = self.reason
        if self.status == "confirmed" and ticket is not None:
            out["ticket"] = {"status": ticket}
        return out


@dataclass
class _Script:
    kind: str  # stall, fail, accept, refuse
    op: str | None
    seconds: float = 0.0
    apply: bool = True
    status: int = 503
    polls: int | None = None
    reason: str = ""


class _Problem(Exception):
    def __init__(self, status: int, reason: str, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or reason)
        self.status, self.reason, self.detail, self.extra = status, reason, detail, extra

    def body(self) -> dict[str, Any]:
        body = {
            "type": "about:blank",
            "title": self.reason,
            "status": self.status,
            "reason": self.reason,
            **self.extra,
        }
        if self.detail:
            body["detail"] = self.detail
        return body


class FakePss:
    """One PSS in memory behind the REST contract; its state is guarded by one lock (uvicorn runs it in a thread)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.flights: dict[Flight, dict[str, Cabin]] = {}
        self.pnrs: dict[str, Pnr] = {}
        self.holds: dict[str, dict[str, Any]] = {}
        self.modifications: dict[tuple[str, str], Modification] = {}
        self.applied: list[tuple[str, str]] = []
        self.requests: list[tuple[str, int]] = []
        self.connections: set[tuple[str, int]] = set()
        self.in_flight = 0
        self.peak_in_flight = 0
        self._answers: dict[tuple[str, str, str], tuple[str, int, dict[str, Any] | None]] = {}
        self._scripts: list[_Script] = []
        self._lock = threading.Lock()
        spec = yaml.safe_load(SPEC.read_text())
        self._components = spec["components"]
        self._responses = {
            _OPERATIONS[op["operationId"]]: op["responses"]
            for path in spec["paths"].values()
            for method, op in path.items()
            if method in ("get", "post", "delete")
        }
        #: Answers this fake gave outside the contract's responses (a bug in the fake or in the YAML): tests assert none.
        self.violations: list[str] = []
        self.app = Starlette(
            routes=[
                Route(
                    "/availability",
                    self._route("availability", self._availability),
                    methods=["POST"],
                ),
                Route("/holds", self._route("hold", self._hold), methods=["POST"]),
                Route(
                    "/holds/{reference}", self._route("release", self._release), methods=["DELETE"]
                ),
                Route("/pnrs/{locator}", self._route("read", self._read), methods=["GET"]),
                Route(
                    "/pnrs/{locator}/modifications",
                    self._route("modify", self._modify),
                    methods=["POST"],
                ),
                Route(
                    "/pnrs/{locator}/modifications/{key}",
                    self._route("status", self._status),
                    methods=["GET"],
                ),
                Route(
                    "/pnrs/{locator}/ticket", self._route("ticket", self._ticket), methods=["GET"]
                ),
                Route(
                    "/pnrs/{locator}/refunds", self._route("refund", self._refund), methods=["POST"]
                ),
                Route(
                    "/pnrs/{locator}/passengers/{number:int}/loyalty",
                    self._route("loyalty", self._loyalty),
                    methods=["GET"],
                ),
            ]
        )

    # -- set up and look ----------------------------------------------------------------------

    def add_flight(
        self, key: FlightKey, capacity: dict[str, int], *, sold: dict[str, int] | None = None
    ) -> None:
        self.flights[_of(key)] = {c: Cabin(n, (sold or {}).get(c, 0)) for c, n in capacity.items()}

    def add_pnr(
        self,
        locator: str,
        segments: list[tuple[FlightKey, str]],
        *,
        passengers: int = 1,
        version: int = 1,
        ticket: str = "not_required",
    ) -> None:
        self.pnrs[locator] = Pnr(
            locator, version, passengers, [[_of(f), c, "HK"] for f, c in segments], ticket
        )

    def add_member(
        self,
        locator: str,
        number: int,
        *,
        tier: int,
        status: str | None = None,
        miles: int | None = None,
        preferences: dict[str, str] | None = None,
    ) -> None:
        self.pnrs[locator].members[number] = {
            "tier": tier,
            "status": status,
            "miles": miles,
            "preferences": preferences or {},
        }

    def bump(self, locator: str) -> None:
        """Someone else changed the PNR (an agent, the airport): its version moves on."""
        with self._lock:
            self.pnrs[locator].version += 1

    def pnr(self, locator: str) -> Pnr:
        return self.pnrs[locator]

    def seats(self, key: FlightKey, cabin: str) -> Cabin:
        return self.flights[_of(key)][cabin]

    # -- scripting ----------------------------------------------------------------------------

    def stall_next(
        self, seconds: float, *, n: int = 1, op: str | None = None, apply: bool = True
    ) -> None:
        self._scripts += [_Script("stall", op, seconds=seconds, apply=apply) for _ in range(n)]

    def fail_next(self, status: int = 503, *, n: int = 1, op: str | None = None) -> None:
        self._scripts += [_Script("fail", op, status=status) for _ in range(n)]

    def accept_next(self, *, polls: int | None = None, n: int = 1) -> None:
        self._scripts += [_Script("accept", "modify", polls=polls) for _ in range(n)]

    def refuse_next(self, reason: str, *, n: int = 1) -> None:
        self._scripts += [_Script("refuse", "modify", reason=reason) for _ in range(n)]

    def confirm(self, locator: str, key: str) -> Modification:
        """The pending modification takes effect now (or is refused if it no longer fits)."""
        with self._lock:
            return self._settle(self.modifications[(locator, key)])

    def refuse(self, locator: str, key: str, reason: str) -> None:
        with self._lock:
            mod = self.modifications[(locator, key)]
            mod.status, mod.reason = "refused", reason

    # -- the contract -------------------------------------------------------------------------

    def _route(
        self,
        op: str,
        handler: Callable[[Request, dict[str, Any] | None], tuple[int, dict[str, Any] | None]],
    ) -> Any:
        async def endpoint(request: Request) -> Response:
            client = request.scope.get("client")
            with self._lock:
                if client:
                    self.connections.add((client[0], client[1]))
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                response = await self._answer(op, handler, request)
            finally:
                with self._lock:
                    self.in_flight -= 1
            self.requests.append((op, response.status_code))
            return response

        return endpoint

    async def _answer(self, op: str, handler: Any, request: Request) -> Response:
        script = self._take(op)
        try:
            if request.headers.get("authorization") != f"Bearer {self.token}":
                raise _Problem(401, "unauthorized")
            if script is not None and script.kind == "fail":
                raise _Problem(script.status, "unavailable")
            body = await self._validated(op, request)
            key = request.headers.get("idempotency-key")
            if op in _CHANGES and (key is None or not _KEY.match(key)):
                raise _Problem(
                    400,
                    "malformed",
                    "an Idempotency-Key header of 1-128 [A-Za-z0-9._:-] is required",
                )
            locator = request.path_params.get("locator")
            if locator is not None and not _LOCATOR.match(locator):
                raise _Problem(400, "malformed", "locator")
            with self._lock:
                status, payload = self._once(op, request, body, key, script, handler)
        except _Problem as problem:
            status, payload = problem.status, problem.body()
        self._check_answer(op, status, payload)
        if script is not None and script.kind == "stall":
            await asyncio.sleep(script.seconds)
        if status == 204:
            return Response(status_code=204)
        if status >= 400 and payload is not None:
            return JSONResponse(payload, status_code=status, media_type="application/problem+json")
        return JSONResponse(payload, status_code=status)

    def _check_answer(self, op: str, status: int, payload: dict[str, Any] | None) -> None:
        """Hold the fake to the contract's responses too: a status the operation lists, a body its schema allows."""
        responses = self._responses[op]
        answer = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        if answer is None:
            self.violations.append(f"{op}: status {status} is not in the contract")
            return
        if "$ref" in answer:
            answer = self._components["responses"][answer["$ref"].rsplit("/", 1)[1]]
        content = answer.get("content")
        if not content:
            return
        schema = next(iter(content.values()))["schema"]
        validator = Draft202012Validator(
            {**schema, "components": self._components},
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        for error in validator.iter_errors(payload):
            self.violations.append(
                f"{op} {status}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
            )

    def _take(self, op: str) -> _Script | None:
        with self._lock:
            for i, script in enumerate(self._scripts):
                if script.op in (None, op):
                    return self._scripts.pop(i)
        return None

    async def _validated(self, op: str, request: Request) -> dict[str, Any] | None:
        schema = {
            "availability": "AvailabilityQuery",
            "hold": "HoldRequest",
            "modify": "Modification",
            "refund": "RefundRequest",
        }.get(op)
        if schema is None:
            return None
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise _Problem(400, "malformed", "a JSON body is required")
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise _Problem(400, "malformed", "the body is not JSON") from None
        validator = Draft202012Validator(
            {"$ref": f"#/components/schemas/{schema}", "components": self._components},
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        error = next(iter(validator.iter_errors(body)), None)
        if error is not None:
            raise _Problem(
                400, "malformed", f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            )
        return body if isinstance(body, dict) else None

    def _once(
        self,
        op: str,
        request: Request,
        body: dict[str, Any] | None,
        key: str | None,
        script: _Script | None,
        handler: Any,
    ) -> tuple[int, dict[str, Any] | None]:
        """Run the handler, or replay the first answer to this key on this path (never a second change)."""
        if op not in _CHANGES or key is None:
            if script is not None and script.kind == "stall" and not script.apply:
                return 504, _Problem(504, "unavailable").body()
            return handler(request, body)  # type: ignore[no-any-return]
        slot = (op, request.url.path, key)
        canonical = json.dumps(body, sort_keys=True)
        first = self._answers.get(slot)
        if first is not None:
            if first[0] != canonical:
                raise _Problem(422, "key_reused", "this Idempotency-Key came with another body")
            status, payload = first[1], first[2]
            if (
                op == "modify"
            ):  # a pending modification may have settled since: answer what it is now
                mod = self.modifications.get((request.path_params["locator"], key))
                if mod is not None and mod.status != "pending":
                    return self._modification_answer(mod)
            return status, payload
        if script is not None and script.kind == "stall" and not script.apply:
            return 504, _Problem(504, "unavailable").body()
        try:
            if op == "modify" and script is not None and script.kind in ("accept", "refuse"):
                status, payload = self._scripted_modify(request, body or {}, key, script)
            else:
                status, payload = handler(request, body)
        except _Problem as problem:  # a refusal is an answer too: the same key gets it again
            status, payload = problem.status, problem.body()
        if status < 500:
            self._answers[slot] = (canonical, status, payload)
        return status, payload

    # -- operations (called under the lock) ------------------------------------------------------

    def _availability(
        self, request: Request, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any]]:
        rows = []
        for raw in (body or {})["flights"]:
            flight = _flight(raw)
            for cabin, seats in sorted(self.flights.get(flight, {}).items()):
                rows.append({"flight": _wire(flight), "cabin": cabin, "seats": max(0, seats.free)})
        return 200, {"availability": rows}

    def _hold(self, request: Request, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        assert body is not None
        cabins = self.flights.get(_flight(body["flight"]))
        if cabins is None or body["cabin"] not in cabins:
            raise _Problem(422, "unknown_flight")
        cabin = cabins[body["cabin"]]
        if cabin.free < body["seats"]:
            raise _Problem(422, "no_seats")
        cabin.held += body["seats"]
        reference = f"HD{uuid.uuid4().hex[:10].upper()}"
        self.holds[reference] = {**body, "reference": reference, "status": "held"}
        return 201, {k: body[k] for k in ("flight", "cabin", "seats", "expires_at")} | {
            "reference": reference
        }

    def _release(self, request: Request, body: dict[str, Any] | None) -> tuple[int, None]:
        hold = self.holds.get(request.path_params["reference"])
        if hold is None:
            raise _Problem(404, "not_found")
        if hold["status"] == "held":
            hold["status"] = "released"
            self.flights[_flight(hold["flight"])][hold["cabin"]].held -= hold["seats"]
        return 204, None

    def _read(self, request: Request, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        return 200, self._pnr(request).wire()

    def _ticket(self, request: Request, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        return 200, {"status": self._pnr(request).ticket}

    def _loyalty(self, request: Request, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        member = self._pnr(request).members.get(request.path_params["number"])
        if member is None:
            raise _Problem(404, "not_found")
        return 200, member

    def _refund(self, request: Request, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        pnr = self._pnr(request)
        held = {(tuple(f), c) for f, c, s in pnr.segments}
        if any((_flight(s["flight"]), s["cabin"]) not in held for s in (body or {})["segments"]):
            raise _Problem(422, "not_refundable", "a segment is not on the PNR")
        return 201, {"status": "accepted", "reference": f"RF{uuid.uuid4().hex[:10].upper()}"}

    def _modify(
        self, request: Request, body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any] | None]:
        locator, key = request.path_params["locator"], request.headers["idempotency-key"]
        self._pnr(request)
        mod = Modification(locator, key, body or {}, "pending")
        self.modifications[(locator, key)] = mod
        return self._modification_answer(self._settle(mod))

    def _scripted_modify(
        self, request: Request, body: dict[str, Any], key: str, script: _Script
    ) -> tuple[int, dict[str, Any] | None]:
        locator = request.path_params["locator"]
        self._pnr(request)
        mod = Modification(locator, key, body, "pending", polls_left=script.polls)
        self.modifications[(locator, key)] = mod
        if script.kind == "refuse":
            mod.status, mod.reason = "refused", script.reason
            return self._modification_answer(mod)
        return 202, mod.wire(None)

    def _status(self, request: Request, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
        mod = self.modifications.get((request.path_params["locator"], request.path_params["key"]))
        if mod is None:
            return 200, {"status": "unknown"}
        if mod.status == "pending" and mod.polls_left is not None:
            mod.polls_left -= 1
            if mod.polls_left <= 0:
                self._settle(mod)
        return 200, mod.wire(self.pnrs[mod.locator].ticket)

    def _settle(self, mod: Modification) -> Modification:
        """Apply a modification all or nothing: version, held segments, seats; then the PNR's version moves on."""
        if mod.status != "pending":
            return mod
        pnr, body = self.pnrs[mod.locator], mod.body
        if body["version"] != pnr.version:
            mod.status, mod.reason, mod.version = "refused", "version_conflict", pnr.version
            return mod
        active = {(tuple(f), c): i for i, (f, c, s) in enumerate(pnr.segments) if s == "HK"}
        cancel = [(_flight(s["flight"]), s["cabin"]) for s in body["cancel"]]
        if any(c not in active for c in cancel):
            mod.status, mod.reason = "refused", "segment_not_held"
            return mod
        sell = [(_flight(s["flight"]), s["cabin"]) for s in body["sell"]]
        n = body["passengers"]
        for flight, cabin in sell:
            seats = self.flights.get(flight, {}).get(cabin)
            if seats is None or seats.free < n:
                mod.status, mod.reason = "refused", "no_seats"
                return mod
        for flight, cabin in cancel:
            pnr.segments[active[(flight, cabin)]][2] = "HX"
            if cabin in self.flights.get(flight, {}):
                self.flights[flight][cabin].sold -= n
        for flight, cabin in sell:
            self.flights[flight][cabin].sold += n
            pnr.segments.append([flight, cabin, "HK"])
        pnr.version += 1
        pnr.ticket = "reissued"
        mod.status, mod.version = "confirmed", pnr.version
        self.applied.append((mod.locator, mod.key))
        return mod

    def _modification_answer(self, mod: Modification) -> tuple[int, dict[str, Any]]:
        if mod.status == "confirmed":
            return 200, mod.wire(self.pnrs[mod.locator].ticket)
        if mod.status == "pending":
            return 202, mod.wire(None)
        if mod.reason == "version_conflict":
            raise _Problem(409, "version_conflict", current_version=self.pnrs[mod.locator].version)
        raise _Problem(422, mod.reason or "refused")

    def _pnr(self, request: Request) -> Pnr:
        pnr = self.pnrs.get(request.path_params["locator"])
        if pnr is None:
            raise _Problem(404, "not_found")
        return pnr


def expires(minutes: float = 30) -> dt.datetime:
    """A hold expiry some minutes from now, as a client would ask."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
