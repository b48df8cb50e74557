"""`HttpPss`: the airline's Inventory, Reservations and Loyalty over the REST contract in docs/pss.openapi.yaml.

One pooled client per process (at most `pool_size` connections, built on first use inside the
running loop, closed by `aclose`). Every answer is mapped in one place (`_classify`):

| the PSS answers                          | rebook takes it as                                       |
|------------------------------------------|----------------------------------------------------------|
| timeout, refused connection, 5xx, 429    | `PssUnavailable`: outcome unknown, ask again (same key)  |
| 401 / 403                                | `PssUnavailable` too (nothing changed), logged as an error: fix the token |
| 200 confirmed / 202 accepted             | CONFIRMED (with the new version and ticket) / PENDING    |
| 409 version_conflict                     | REFUSED, reason version_conflict, `version` = the PSS's current one |
| 422, or 404 on a PNR                     | REFUSED with the PSS's reason: a fresh offer, never a booking |
| 400                                      | REFUSED "malformed" for a change or refund (nothing changed), logged as an error |

No locator, name or body is logged: only operations, status codes and reasons.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

import httpx

from infra.http import AiohttpTransport, ProviderClient
from rebooking_core.airline.ports import (
    Availability,
    FlightKey,
    LoyaltyProfile,
    PnrChange,
    PnrOutcome,
    PnrSegment,
    PnrState,
    PnrView,
    PssUnavailable,
    RefundOutcome,
    RefundRequest,
    RemoteHold,
)

__all__ = ["HttpPss", "PssConfig", "PssContractError"]

log = logging.getLogger(__name__)

#: The contract's modification states, as the port's.
_STATES = {
    "confirmed": PnrState.CONFIRMED,
    "pending": PnrState.PENDING,
    "refused": PnrState.REFUSED,
    "unknown": PnrState.UNKNOWN,
}
_REFUND_STATES = {"accepted": PnrState.CONFIRMED, "pending": PnrState.PENDING}


class PssContractError(Exception):
    """The PSS answered outside the contract (or refused a read as malformed): a bug on one side, not a refusal."""


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _parsed(
    operation: str,
) -> Callable[[Callable[_P, Coroutine[Any, Any, _R]]], Callable[_P, Coroutine[Any, Any, _R]]]:
    """An answer missing a field the contract requires, or mistyping one, is a PssContractError, not a KeyError."""

    def wrap(call: Callable[_P, Coroutine[Any, Any, _R]]) -> Callable[_P, Coroutine[Any, Any, _R]]:
        @functools.wraps(call)
        async def parsed(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return await call(*args, **kwargs)
            except (KeyError, TypeError, ValueError) as exc:
                raise PssContractError(
                    f"{operation}: the answer is outside the contract ({type(exc).__name__}: {exc})"
                ) from exc

        return parsed

    return wrap


@dataclass(frozen=True)
class PssConfig:
    base_url: str
    token: str
    pool_size: int = 16
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    pool_timeout_s: float = 5.0


#: Resolves rebook's passenger id to (locator, position in the PNR from 1): the PSS knows passengers by these.
PassengerInPnr = Callable[[int], Awaitable[tuple[str, int] | None]]


class HttpPss:
    """All three airline ports against a remote PSS; every call is one request (a change without a version reads first)."""

    def __init__(self, config: PssConfig, *, passenger_in_pnr: PassengerInPnr) -> None:
        self.config = config
        self.passenger_in_pnr = passenger_in_pnr
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The one pooled client, made on first use inside the running loop (its sessions bind to it)."""
        if self._client is None:
            c = self.config
            self._client = ProviderClient(
                base_url=c.base_url.rstrip("/") + "/",
                headers={"Authorization": f"Bearer {c.token}", "Accept": "application/json"},
                timeout=httpx.Timeout(
                    c.read_timeout_s, connect=c.connect_timeout_s, pool=c.pool_timeout_s
                ),
                transport=AiohttpTransport(c.pool_size),
                trust_env=False,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- Inventory ---------------------------------------------------------------------------

    @_parsed("availability")
    async def availability(self, flights: Sequence[FlightKey]) -> list[Availability]:
        if not flights:
            return []
        answer = await self._send(
            "availability", "POST", "availability", json={"flights": [_flight(f) for f in flights]}
        )
        _expect(answer, "availability", 200)
        return [
            Availability(_flight_key(row["flight"]), str(row["cabin"]), int(row["seats"]))
            for row in _body(answer, "availability")["availability"]
        ]

    @_parsed("hold")
    async def hold(
        self,
        flight: FlightKey,
        cabin: str,
        seats: int,
        *,
        expires_at: dt.datetime,
        idempotency_key: str,
    ) -> RemoteHold | None:
        body = {
            "flight": _flight(flight),
            "cabin": cabin,
            "seats": seats,
            "expires_at": expires_at.isoformat(),
        }
        answer = await self._send("hold", "POST", "holds", json=body, key=idempotency_key)
        if answer.status_code == 422:
            log.info("pss hold refused: %s", _reason(answer))
            return None
        _expect(answer, "hold", 201)
        got = _body(answer, "hold")
        return RemoteHold(
            str(got["reference"]),
            _flight_key(got["flight"]),
            str(got["cabin"]),
            int(got["seats"]),
            _instant(got["expires_at"]),
        )

    @_parsed("release")
    async def release(self, reference: str) -> None:
        answer = await self._send("release", "DELETE", f"holds/{_path(reference)}")
        if answer.status_code == 404:
            return  # never held, or long gone: nothing to give back
        _expect(answer, "release", 204)

    # -- Reservations ------------------------------------------------------------------------

    @_parsed("change")
    async def change(self, change: PnrChange, *, idempotency_key: str) -> PnrOutcome:
        version = change.version
        if version is None:  # "any version": the one the PSS has now
            current = await self.read(change.locator)
            if current is None:
                return PnrOutcome(PnrState.REFUSED, reason="unknown_pnr")
            version = current.version
        body = {
            "version": version,
            "cancel": [_segment(s) for s in change.cancel],
            "sell": [_segment(s) for s in change.sell],
            "passengers": change.passengers,
        }
        answer = await self._send(
            "change",
            "POST",
            f"pnrs/{_path(change.locator)}/modifications",
            json=body,
            key=idempotency_key,
        )
        refused = _refusal(answer, "change")
        if refused is not None:
            return refused
        _expect(answer, "change", 200, 202)
        return _modification(_body(answer, "change"))

    @_parsed("change_status")
    async def change_status(self, locator: str, idempotency_key: str) -> PnrOutcome:
        answer = await self._send(
            "change_status", "GET", f"pnrs/{_path(locator)}/modifications/{_path(idempotency_key)}"
        )
        _expect(answer, "change_status", 200)
        return _modification(_body(answer, "change_status"))

    @_parsed("refund")
    async def refund(self, request: RefundRequest, *, idempotency_key: str) -> RefundOutcome:
        body = {
            "segments": [_segment(s) for s in request.segments],
            "basis": request.basis,
            "passengers": request.passengers,
        }
        answer = await self._send(
            "refund",
            "POST",
            f"pnrs/{_path(request.locator)}/refunds",
            json=body,
            key=idempotency_key,
        )
        refused = _refusal(answer, "refund")
        if refused is not None:
            return RefundOutcome(PnrState.REFUSED, reason=refused.reason)
        _expect(answer, "refund", 201)
        got = _body(answer, "refund")
        state = _REFUND_STATES.get(str(got.get("status")))
        if state is None:
            raise PssContractError(f"refund: status {got.get('status')!r} is not in the contract")
        return RefundOutcome(state, reference=str(got["reference"]))

    @_parsed("read")
    async def read(self, locator: str) -> PnrView | None:
        answer = await self._send("read", "GET", f"pnrs/{_path(locator)}")
        if answer.status_code == 404:
            return None
        _expect(answer, "read", 200)
        got = _body(answer, "read")
        ticket = got.get("ticket")
        return PnrView(
            str(got["locator"]),
            int(got["version"]),
            tuple(_segment_of(s) for s in got["segments"]),
            int(got["passengers"]),
            ticket=str(ticket["status"]) if isinstance(ticket, Mapping) else None,
        )

    @_parsed("ticket")
    async def ticket(self, locator: str) -> str | None:
        """The ticket status of a PNR (reissued, pending, not_required, not_reissuable); None for an unknown PNR."""
        answer = await self._send("ticket", "GET", f"pnrs/{_path(locator)}/ticket")
        if answer.status_code == 404:
            return None
        _expect(answer, "ticket", 200)
        return str(_body(answer, "ticket")["status"])

    # -- Loyalty -----------------------------------------------------------------------------

    @_parsed("profile")
    async def profile(self, passenger_id: int) -> LoyaltyProfile | None:
        where = await self.passenger_in_pnr(passenger_id)
        if where is None:
            return None
        locator, number = where
        answer = await self._send(
            "loyalty", "GET", f"pnrs/{_path(locator)}/passengers/{number}/loyalty"
        )
        if answer.status_code == 404:
            return None
        _expect(answer, "loyalty", 200)
        got = _body(answer, "loyalty")
        prefs = got.get("preferences") or {}
        return LoyaltyProfile(
            tier=int(got["tier"]),
            status=None if got.get("status") is None else str(got["status"]),
            miles=None if got.get("miles") is None else int(got["miles"]),
            preferences={str(k): str(v) for k, v in prefs.items()},
        )

    # -- the one place answers are classified --------------------------------------------------

    async def _send(
        self, operation: str, method: str, path: str, *, json: Any = None, key: str | None = None
    ) -> httpx.Response:
        """One request; what cannot tell the outcome (no answer in time, no connection, 5xx, 429, 401/403) is PssUnavailable."""
        headers = {"Idempotency-Key": key} if key is not None else None
        try:
            answer = await self.client.request(method, path, json=json, headers=headers)
        except httpx.TimeoutException as exc:
            raise PssUnavailable(f"{operation}: no answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise PssUnavailable(f"{operation}: {type(exc).__name__}") from exc
        status = answer.status_code
        if status >= 500 or status == 429:
            raise PssUnavailable(f"{operation}: the PSS answered {status}")
        if status in (401, 403):
            log.error("pss %s: the PSS answered %d: check REBOOK_PSS__TOKEN", operation, status)
            raise PssUnavailable(f"{operation}: the PSS refused the token ({status})")
        return answer


def _refusal(answer: httpx.Response, operation: str) -> PnrOutcome | None:
    """A change or refund the PSS refused for good, as REFUSED with its reason; None for any other answer."""
    status = answer.status_code
    if status == 409:
        problem = _problem(answer)
        current = problem.get("current_version")
        return PnrOutcome(
            PnrState.REFUSED,
            version=int(current) if isinstance(current, int) else None,
            reason="version_conflict",
        )
    if status == 422:
        return PnrOutcome(PnrState.REFUSED, reason=_reason(answer))
    if status == 404:
        return PnrOutcome(PnrState.REFUSED, reason="unknown_pnr")
    if status == 400:
        log.error("pss %s: the PSS found the request malformed: %s", operation, _reason(answer))
        return PnrOutcome(PnrState.REFUSED, reason="malformed")
    return None


def _modification(got: Mapping[str, Any]) -> PnrOutcome:
    state = _STATES.get(str(got.get("status")))
    if state is None:
        raise PssContractError(f"modification: status {got.get('status')!r} is not in the contract")
    version = got.get("version")
    ticket = got.get("ticket")
    return PnrOutcome(
        state,
        version=int(version) if isinstance(version, int) else None,
        ticket=str(ticket["status"]) if isinstance(ticket, Mapping) else None,
        reason=None if got.get("reason") is None else str(got["reason"]),
    )


def _expect(answer: httpx.Response, operation: str, *statuses: int) -> None:
    if answer.status_code not in statuses:
        raise PssContractError(
            f"{operation}: the PSS answered {answer.status_code} ({_reason(answer)})"
        )


def _body(answer: httpx.Response, operation: str) -> dict[str, Any]:
    try:
        got = answer.json()
    except ValueError as exc:
        raise PssContractError(f"{operation}: the answer is not JSON") from exc
    if not isinstance(got, dict):
        raise PssContractError(f"{operation}: the answer is not a JSON object")
    return got


def _problem(answer: httpx.Response) -> dict[str, Any]:
    try:
        got = answer.json()
    except ValueError:
        return {}
    return got if isinstance(got, dict) else {}


def _reason(answer: httpx.Response) -> str:
    reason = _problem(answer).get("reason")
    return str(reason) if isinstance(reason, str) and reason else f"http_{answer.status_code}"


def _path(part: str) -> str:
    """One path segment, percent-encoded (a locator or key never adds a path level)."""
    return quote(part, safe="")


def _flight(key: FlightKey) -> dict[str, str]:
    return {"carrier": key.carrier, "number": key.number, "date": key.date.isoformat()}


def _flight_key(raw: Mapping[str, Any]) -> FlightKey:
    return FlightKey(
        str(raw["carrier"]), str(raw["number"]), dt.date.fromisoformat(str(raw["date"]))
    )


def _segment(seg: PnrSegment) -> dict[str, Any]:
    return {"flight": _flight(seg.flight), "cabin": seg.cabin, "status": seg.status}


def _segment_of(raw: Mapping[str, Any]) -> PnrSegment:
    return PnrSegment(_flight_key(raw["flight"]), str(raw["cabin"]), str(raw.get("status", "HK")))


def _instant(raw: Any) -> dt.datetime:
    value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise PssContractError("hold: expires_at has no time zone")
    return value
