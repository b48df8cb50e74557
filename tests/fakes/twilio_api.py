"""A local fake of Twilio's Messages API: real response shapes, real limits, scriptable failures."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import re
import secrets
import threading
from dataclasses import dataclass, field
from email.utils import format_datetime

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from channels.segments import count_segments

_E164 = re.compile(r"\+[1-9]\d{5,14}")


@dataclass(frozen=True)
class RecordedRequest:
    account_sid: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    retry_after: str | None


@dataclass
class FakeTwilio:
    """Serve `.app` with LocalServer; `.requests` records every POST (form and lower-cased headers)."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-auth-token"
    requests: list[RecordedRequest] = field(default_factory=list)
    _failures: list[_Failure] = field(default_factory=list)
    _hangs: int = 0
    _release: threading.Event = field(default_factory=threading.Event)

    def fail_next(
        self,
        count: int,
        *,
        status: int,
        code: int,
        message: str = "scripted failure",
        retry_after: str | None = None,
    ) -> None:
        """The next `count` authenticated requests answer with this Twilio error."""
        self._failures.extend(_Failure(status, code, message, retry_after) for _ in range(count))

    def hang_next(self, count: int) -> None:
        """The next `count` requests never answer (until `release()`): drives client timeouts."""
        self._hangs += count

    def release(self) -> None:
        self._release.set()

    @property
    def app(self) -> FastAPI:
        app = FastAPI()
        app.add_api_route(
            "/2010-04-01/Accounts/{sid}/Messages.json", self._create, methods=["POST"]
        )
        return app

    def _authorized(self, sid: str, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return sid == self.account_sid and secrets.compare_digest(header or "", f"Basic {expected}")

    async def _create(self, sid: str, request: Request) -> JSONResponse:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        self.requests.append(
            RecordedRequest(sid, form, {k.lower(): v for k, v in request.headers.items()})
        )
        if self._hangs:
            self._hangs -= 1
            await asyncio.to_thread(self._release.wait)
        if not self._authorized(sid, request.headers.get("authorization")):
            return _error(401, 20003, "Authenticate")
        if self._failures:
            failure = self._failures.pop(0)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            return _error(failure.status, failure.code, failure.message, headers)
        to = form.get("To", "")
        body = form.get("Body", "")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if not _E164.fullmatch(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        return JSONResponse(_message(sid, form), status_code=201)


def _error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    payload = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return JSONResponse(payload, status_code=status, headers=headers)


def _message(account_sid: str, form: dict[str, str]) -> dict[str, object]:
    """The 201 body Twilio answers for a created message (API version 2010-04-01)."""
    sid = "SM" + secrets.token_hex(16)
    now = format_datetime(dt.datetime.now(dt.UTC), usegmt=True).replace("GMT", "+0000")
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form["Body"],
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": str(count_segments(form["Body"])),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "accepted" if form.get("MessagingServiceSid") else "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": form["To"],
        "uri": f"{uri}.json",
    }
