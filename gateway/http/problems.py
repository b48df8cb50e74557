"""Every error the app answers as an RFC 9457 problem (`application/problem+json`), declared in the OpenAPI.

A handled error keeps the connection open for the next request; an unhandled one (a bug) answers
500 with `Connection: close`, because uvicorn drops the connection after it and a client should
know before it reuses it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

#: A validation problem names at most this many fields, each message clipped: the answer stays small.
MAX_ERRORS = 20
MAX_MESSAGE = 200


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` lists the fields a 422 refused."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None, errors: list[FieldError] | None = None) -> Response:
    """The one way an error answer is built."""
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, errors=errors)
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def problem_bytes(status: int, detail: str) -> bytes:
    """The body of `problem()`, for answers sent below FastAPI (the body-limit middleware)."""
    return bytes(problem(status, detail).body)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, detail, headers=dict(exc.headers) if exc.headers else None)


def _field_errors(exc: RequestValidationError) -> list[FieldError]:
    """Where and why, never the refused input itself (it may be a phone number or a message)."""
    errors = []
    for e in exc.errors()[:MAX_ERRORS]:
        loc = [part if isinstance(part, int) else str(part)[:MAX_MESSAGE] for part in e.get("loc", ())]
        errors.append(FieldError(loc=loc, msg=str(e.get("msg", ""))[:MAX_MESSAGE], type=str(e.get("type", ""))))
    return errors


async def _validation_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):
        raise exc
    errors = _field_errors(exc)
    detail = "; ".join(f"{'.'.join(str(p) for p in e.loc)}: {e.msg}" for e in errors[:3]) or "invalid request"
    return problem(422, detail, errors=errors)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Starlette's ServerErrorMiddleware re-raises after this answer and uvicorn logs it and closes.
    return problem(500, "internal error", headers={"Connection": "close"})


def install(app: FastAPI) -> None:
    """Problem answers for HTTP errors, refused input and bugs; the OpenAPI declares them."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _server_error)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


#: What any route may answer besides its own success: the body limits and deadlines of
#: `gateway.http.limits`, bad or missing credentials, and refused input.
COMMON_ERRORS = {
    400: "malformed request",
    408: "request body not received in time",
    413: "request body too large",
    422: "invalid input",
    500: "internal error (the connection closes)",
}
#: A route that takes a key is rate limited per key and per address (`gateway.http.ratelimit`).
AUTH_ERRORS = {401: "missing or unknown API key", 403: "API key lacks the route's scope", 429: "too many requests; see Retry-After"}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for these error codes (and the common ones), each a Problem."""
    described = {
        **COMMON_ERRORS,
        **AUTH_ERRORS,
        404: "no such resource",
        409: "conflicts with the current state, or the Idempotency-Key's first request still runs",
        503: "not configured",
    }
    limited = {429} if 401 in codes else set()
    wanted = sorted(set(codes) | set(COMMON_ERRORS) | limited)
    return {code: {"model": Problem, "description": described.get(code, HTTPStatus(code).phrase)} for code in wanted}


def _operation_ids(app: FastAPI) -> dict[tuple[str, str], str]:
    """Each operation's id is its handler's name (`list_disruptions`), not FastAPI's name_path_method:
    the generated client's functions are named by it."""
    ids = {}
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.path and context.name:
            for method in context.methods or ():
                ids[(context.path, method.lower())] = context.name
    return ids


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI files every response model under application/json; errors go out as problem+json."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        names = _operation_ids(app)
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                operation["operationId"] = names.get((path, method), operation.get("operationId"))
        for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
            for code, answer in operation.get("responses", {}).items():
                content = answer.get("content", {})
                if code.isdigit() and int(code) >= 400 and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
        app.openapi_schema = jsonable_encoder(schema)
    return app.openapi_schema
