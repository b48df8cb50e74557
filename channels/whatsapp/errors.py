"""Errors: every pywa/httpx failure mapped once into the ChannelError tree."""

from __future__ import annotations

import httpx
from pywa_async.errors import AuthorizationError, WhatsAppError

from conversations.ports import (
    ChannelError,
    InvalidCredentials,
    MessageRejected,
    OptedOut,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
    TemplateRequired,
)

_RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})
_UNAVAILABLE_CODES = frozenset({1, 2, 131000})
_UNREACHABLE_CODES = frozenset({131026, 131030, 131021})
_PAIR_RATE_LIMIT_SECONDS = 6.0


def _retry_after(response: httpx.Response | None, default: float) -> float:
    if response is None:
        return default
    raw = response.headers.get("Retry-After")
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 else default


# Template errors (132000 params, 132001 missing translation, 132012 format) and any other 4xx
# fall through to MessageRejected; credentials cover pywa's AuthorizationError family
# (0, 3, 10, 190, 200-299) and a bare 401.
def map_error(exc: Exception) -> ChannelError:
    """Translate every pywa/httpx failure into the ChannelError tree, in this one place."""
    if isinstance(exc, httpx.TimeoutException):
        return ProviderUnavailable("WhatsApp Cloud API timed out", code="timeout")
    if isinstance(exc, httpx.HTTPError):
        return ProviderUnavailable("WhatsApp Cloud API unreachable", code="transport")
    if not isinstance(exc, WhatsAppError):
        return MessageRejected(f"unexpected {type(exc).__name__}", code="unexpected")
    code = exc.code
    status = exc.status_code or 0
    text = f"WhatsApp error {code}"
    if status == 429 or code in _RATE_LIMIT_CODES:
        default = _PAIR_RATE_LIMIT_SECONDS if code == 131056 else 1.0
        return RateLimited(
            text, code=str(code), retry_after=_retry_after(exc.raw_response, default)
        )
    if code in _UNAVAILABLE_CODES or status >= 500:
        return ProviderUnavailable(text, code=str(code))
    if code == 131047:
        return TemplateRequired(text, code=str(code))
    if code in _UNREACHABLE_CODES:
        return RecipientUnreachable(text, code=str(code))
    if code == 131050:
        return OptedOut(text, code=str(code))
    if isinstance(exc, AuthorizationError) or status == 401:
        return InvalidCredentials(text, code=str(code))
    return MessageRejected(text, code=str(code))
