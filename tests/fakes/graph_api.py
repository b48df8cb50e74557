"""A local fake of Meta's Graph API messages endpoint that enforces what the real one rejects."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

#: A BSUID (`US.13491208655302741918`) or a parent BSUID (`US.ENT.11815799212886844830`).
_BSUID = re.compile(r"[A-Z]{2}(\.ENT)?\.[A-Za-z0-9]{1,128}")


@dataclass(frozen=True)
class RecordedRequest:
    version: str
    phone_number_id: str
    authorization: str | None
    body: Any


@dataclass(frozen=True)
class ScriptedFailure:
    status: int
    code: int
    message: str
    retry_after: str | None


class GraphError(Exception):
    """A Graph API error response, raised inside the fake's validation."""

    def __init__(self, code: int, message: str, *, status: int = 400, details: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details


def error_body(
    code: int, message: str, details: str = "", type_: str = "OAuthException"
) -> dict[str, Any]:
    """The JSON shape Graph returns for every failure."""
    error: dict[str, Any] = {
        "message": message,
        "type": type_,
        "code": code,
        "fbtrace_id": "A" + secrets.token_hex(8),
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


def _text_len(value: Any, lo: int, hi: int, what: str) -> str:
    if not isinstance(value, str) or not lo <= len(value) <= hi:
        raise GraphError(
            131009,
            "(#131009) Parameter value is not valid",
            details=f"{what} must be {lo}-{hi} characters",
        )
    return value


@dataclass
class FakeGraphAPI:
    """Answers `POST /v{version}/{phone_number_id}/messages` like Meta; scriptable to fail."""

    token: str = "test-token"
    phone_number_id: str = "1099000111"
    templates: dict[tuple[str, str], int] = field(
        default_factory=lambda: {
            (name, code): count
            for name, count in (("rebook_disruption_notice", 4), ("rebook_broadcast_notice", 2))
            for code in ("en_US", "es", "de", "fr", "ar")
        }
    )
    requests: list[RecordedRequest] = field(default_factory=list)
    _failures: list[ScriptedFailure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        count: int,
        *,
        status: int,
        code: int,
        message: str = "scripted failure",
        retry_after: str | None = None,
    ) -> None:
        """Make the next `count` authorised requests fail with this status and Graph error code."""
        with self._lock:
            self._failures.extend(
                ScriptedFailure(status, code, message, retry_after) for _ in range(count)
            )

    @property
    def bodies(self) -> list[Any]:
        return [r.body for r in self.requests]

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/{version}/{phone_number_id}/messages")
        async def messages(version: str, phone_number_id: str, request: Request) -> JSONResponse:
            try:
                body: Any = await request.json()
            except ValueError:
                body = None
            auth = request.headers.get("authorization")
            with self._lock:
                self.requests.append(RecordedRequest(version, phone_number_id, auth, body))
            return self._answer(version, phone_number_id, auth, body)

        return api

    def _answer(
        self, version: str, phone_number_id: str, auth: str | None, body: Any
    ) -> JSONResponse:
        if auth != f"Bearer {self.token}":
            return JSONResponse(
                error_body(190, "Invalid OAuth access token - Cannot parse access token"),
                status_code=401,
            )
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else None
            return JSONResponse(
                error_body(failure.code, failure.message),
                status_code=failure.status,
                headers=headers,
            )
        try:
            if not version.startswith("v") or phone_number_id != self.phone_number_id:
                raise GraphError(100, "Unsupported post request. Object does not exist")
            to = self._validate(body)
        except GraphError as err:
            return JSONResponse(
                error_body(err.code, err.message, err.details), status_code=err.status
            )
        # A send to a BSUID is answered with the user's id, never a number (the user may hide theirs).
        contact = {"input": to, "user_id": to} if _BSUID.fullmatch(to) else {"input": to, "wa_id": to.lstrip("+")}
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": "wamid." + secrets.token_urlsafe(24)}],
            }
        )

    @property
    def addressed(self) -> list[tuple[str, str]]:
        """(field, value) each recorded send named its user by: ("to", wa_id) or ("recipient", BSUID)."""
        out: list[tuple[str, str]] = []
        for body in self.bodies:
            if isinstance(body, dict):
                field_name = "recipient" if "recipient" in body else "to"
                out.append((field_name, str(body.get(field_name))))
        return out

    def _validate(self, body: Any) -> str:
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            raise GraphError(100, "(#100) The parameter messaging_product is required.")
        to, recipient = body.get("to"), body.get("recipient")
        if to is not None and recipient is not None:
            raise GraphError(100, "(#100) Invalid parameter", details="send either to or recipient, not both")
        if recipient is not None:
            # Business-scoped user ids go in `recipient` (Cloud API, 2026); a parent BSUID is one too.
            if not isinstance(recipient, str) or not _BSUID.fullmatch(recipient):
                raise GraphError(100, "(#100) Invalid parameter", details="recipient must be a BSUID")
            if body.get("recipient_type", "individual") != "individual":
                raise GraphError(100, "(#100) Invalid parameter", details="a BSUID is an individual")
            to = recipient
        elif not isinstance(to, str) or not to.lstrip("+").isdigit():
            raise GraphError(100, "(#100) Invalid parameter", details="to must be a phone number")
        kind = body.get("type")
        if kind == "text":
            _text_len((body.get("text") or {}).get("body"), 1, 4096, "text.body")
        elif kind == "interactive":
            self._validate_interactive(body.get("interactive"))
        elif kind == "template":
            self._validate_template(body.get("template"))
        else:
            raise GraphError(100, "(#100) Invalid parameter", details=f"unsupported type {kind!r}")
        return to

    def _validate_interactive(self, interactive: Any) -> None:
        if not isinstance(interactive, dict):
            raise GraphError(100, "(#100) The parameter interactive is required.")
        _text_len((interactive.get("body") or {}).get("text"), 1, 1024, "body.text")
        header = interactive.get("header")
        if header is not None:
            _text_len(header.get("text"), 1, 60, "header.text")
        footer = interactive.get("footer")
        if footer is not None:
            _text_len(footer.get("text"), 1, 60, "footer.text")
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            buttons = action.get("buttons") or []
            if not 1 <= len(buttons) <= 3:
                raise GraphError(
                    131009, "(#131009) Parameter value is not valid", details="buttons: 1-3 allowed"
                )
            replies = [(b.get("reply") or {}) for b in buttons]
            titles = [_text_len(r.get("title"), 1, 20, "button title") for r in replies]
            ids = [_text_len(r.get("id"), 1, 256, "button id") for r in replies]
            if (
                any(b.get("type") != "reply" for b in buttons)
                or len(set(titles)) != len(titles)
                or len(set(ids)) != len(ids)
            ):
                raise GraphError(
                    131009,
                    "(#131009) Parameter value is not valid",
                    details="buttons must be unique replies",
                )
        elif interactive.get("type") == "list":
            _text_len(action.get("button"), 1, 20, "list button")
            sections = action.get("sections") or []
            rows = [row for section in sections for row in section.get("rows", [])]
            if not 1 <= len(sections) <= 10 or not 1 <= len(rows) <= 10:
                raise GraphError(
                    131009,
                    "(#131009) Parameter value is not valid",
                    details="list: 1-10 rows in total",
                )
            for section in sections:
                if len(sections) > 1 or "title" in section:
                    _text_len(section.get("title"), 1, 24, "section title")
            for row in rows:
                _text_len(row.get("id"), 1, 200, "row id")
                _text_len(row.get("title"), 1, 24, "row title")
                if "description" in row:
                    _text_len(row["description"], 0, 72, "row description")
        else:
            raise GraphError(
                100, "(#100) Invalid parameter", details="unsupported interactive type"
            )

    def _validate_template(self, template: Any) -> None:
        if not isinstance(template, dict):
            raise GraphError(100, "(#100) The parameter template is required.")
        key: Any = (template.get("name"), (template.get("language") or {}).get("code"))
        expected = self.templates.get(key)
        if expected is None:
            raise GraphError(132001, "(#132001) Template name does not exist in the translation")
        components = template.get("components") or []
        body = [c for c in components if str(c.get("type")).lower() == "body"]
        params = body[0].get("parameters", []) if body else []
        if len(params) != expected:
            raise GraphError(
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
            )
        for param in params:
            text = _text_len(param.get("text"), 1, 1024, "template parameter")
            if "\n" in text or "\t" in text or "     " in text:
                raise GraphError(
                    132018, "(#132018) There was an issue with the parameters in your template."
                )
        for button in (c for c in components if c.get("type") == "button"):
            payloads = [p.get("payload") for p in button.get("parameters", [])]
            if str(button.get("sub_type")).lower() != "quick_reply" or not all(payloads):
                raise GraphError(
                    131009, "(#131009) Parameter value is not valid", details="quick reply payload"
                )
