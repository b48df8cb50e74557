"""A flight-status provider on 127.0.0.1: a REST API that answers scripted statuses, and a pusher that signs them.

The REST side answers `GET /flights/<carrier><number>/<date>` with the next scripted document for
that flight (the last one again once the script is used up; 404 for a flight with no script) and
records every request with its Authorization header. `fail_next` makes the next answers 503.
The push side signs a document as `webhooks/flightstatus.py` expects and posts it to the app.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from webhooks.flightstatus import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


def status_doc(
    carrier: str,
    number: str,
    date: dt.date,
    status: str,
    *,
    updated_at: dt.datetime,
    scheduled: dt.datetime,
    estimated: dt.datetime | None = None,
    block: dt.timedelta = dt.timedelta(hours=2),
    event_id: str | None = None,
    seats: dict[str, int] | None = None,
    diverted_to: str | None = None,
    previous: dict[str, Any] | None = None,
    delay_codes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A document as the provider writes it (times in ISO 8601 with Z)."""

    def iso(value: dt.datetime | None) -> str | None:
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None

    doc: dict[str, Any] = {
        "flight": {"carrier": carrier, "number": number, "date": date.isoformat()},
        "status": status,
        "updated_at": iso(updated_at),
        "departure": {"scheduled": iso(scheduled), "estimated": iso(estimated or scheduled), "actual": None},
        "arrival": {"scheduled": iso(scheduled + block), "estimated": iso((estimated or scheduled) + block), "actual": None},
    }
    if event_id is not None:
        doc["id"] = event_id
    if seats is not None:
        doc["seats"] = seats
    if diverted_to is not None:
        doc["diverted_to"] = diverted_to
    if previous is not None:
        doc["previous"] = previous
    if delay_codes is not None:
        doc["delay_codes"] = delay_codes
    return doc


@dataclass
class FlightStatusApi:
    """The provider's REST API; script documents per flight key `RB391/2026-12-06`."""

    scripts: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    fail_next: int = 0

    def script(self, doc: dict[str, Any], times: int = 1) -> None:
        f = doc["flight"]
        self.scripts[f"{f['carrier']}{f['number']}/{f['date']}"].extend([doc] * times)

    def app(self) -> Starlette:
        async def flight(request: Request) -> JSONResponse:
            key = f"{request.path_params['flight']}/{request.path_params['date']}"
            self.requests.append((key, request.headers.get("authorization")))
            if self.fail_next:
                self.fail_next -= 1
                return JSONResponse({"error": "try later"}, status_code=503)
            script = self.scripts.get(key)
            if not script:
                return JSONResponse({"error": "unknown flight"}, status_code=404)
            doc = script.pop(0) if len(script) > 1 else script[0]
            return JSONResponse(doc)

        return Starlette(routes=[Route("/flights/{flight}/{date}", flight)])


@dataclass
class Pusher:
    """Posts signed documents to `/webhooks/flightstatus/<source>` as the provider would."""

    http: httpx.AsyncClient
    source: str
    secret: str
    now: dt.datetime

    async def push(self, body: dict[str, Any] | bytes, *, secret: str | None = None, at: dt.datetime | None = None, signature: str | None = None) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        timestamp = str(int((at or self.now).timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature if signature is not None else sign(secret or self.secret, timestamp, raw),
        }
        return await self.http.post(f"/webhooks/flightstatus/{self.source}", content=raw, headers=headers)
