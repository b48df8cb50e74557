"""Logging that never writes a phone number, an email address or a token, whatever the caller passes."""

from __future__ import annotations

import logging
import re

#: Tokens first: a token holding a run of digits must not be half-eaten by the phone pattern.
_PATTERNS = (
    (re.compile(r"(?:\bBearer|token=)\s*[A-Za-z0-9._\-]{8,}", re.IGNORECASE), "<token>"),
    #: WhatsApp message ids carry the user's phone number base64-encoded inside them.
    (re.compile(r"\bwamid\.[A-Za-z0-9+/=_\-]+"), "<wamid>"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (re.compile(r"(?<![\w])\+?\d[\d \-().]{6,}\d"), "<phone>"),
)
_SECRET_FIELDS = {"text", "body", "to", "sender", "address", "phone", "email", "given_name", "family_name", "token"}


_TRACEBACKS = logging.Formatter()


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders the message, scrubs it, and drops fields whose names say they hold PII."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call must not raise into the caller
            message = f"{record.msg} (log arguments did not match the format)"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name in _SECRET_FIELDS & set(record.__dict__):
            setattr(record, name, "<redacted>")
        return True


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
