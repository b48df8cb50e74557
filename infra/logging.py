"""Logging that never writes a phone number, an e-mail address or a token, never stalls on what a caller
passes, and writes each record as one line, whatever the caller (or an attacker quoted by a library) passes.

Every pattern below runs in linear time: each starts only where a run of its characters starts (a
lookbehind), and its repetitions are possessive over character classes that do not overlap, so no
input makes the regex engine rescan a run from each of its characters. The old e-mail pattern (`[\\w.+-]+@…` without an anchor)
retried from every character of a run without `@`: 64 KB of letters took 14 s and 128 KB 50 s on the
event loop (measured), which is how an unsigned Slack body, quoted by slack-bolt's INFO line, stalled
the gateway. On top of that, text is cut to a bounded length before any pattern runs.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Literal, TextIO

import phonenumbers
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

#: Rendered messages are cut to this many characters before redaction (a log line is not a data dump).
MESSAGE_LIMIT = 8_000
#: Tracebacks (and stack dumps) keep their first and last 8,000: the outer frames and the exception itself.
TRACEBACK_LIMIT = 16_000

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Libraries whose INFO/DEBUG lines carry request bodies, message texts or addresses: slack-bolt logs
#: the whole body of a request whose signature failed, slack_sdk and twilio log every API call
#: (~10 INFO lines per SMS), pywa the webhook payloads. Only their warnings and errors are written.
LIBRARIES = frozenset(
    {
        "twilio",
        "twilio.http_client",
        "twilio.async_http_client",
        "pywa",
        "pywa_async",
        "slack_bolt",
        "slack_sdk",
        "httpx",
        "httpcore",
        "aiohttp",
        "aiohttp.access",
        "aiohttp.client",
        "taskiq",
        "taskiq_redis",
    }
)
LIBRARY_LEVEL = logging.WARNING

#: Tokens first: a token holding a run of digits must not be half-eaten by the phone pattern. Spelled
#: out case by case rather than with IGNORECASE so the engine can skip to a b or t (7x faster, measured).
_TOKEN = re.compile(
    r"[bBtT](?:(?<=[bB])(?<!\w[bB])[eE][aA][rR][eE][rR]|(?<=[tT])[oO][kK][eE][nN]=)\s*+[A-Za-z0-9._\-]{8,}+"
)
#: WhatsApp message ids carry the user's phone number base64-encoded inside them.
_WAMID = re.compile(r"wamid\.[A-Za-z0-9+/=_\-]++")
#: `%40` and `%2B` too: uvicorn's access line quotes the path and query as sent, percent-encoded.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++(?:@|%40)[\w-]++(?:\.[\w-]++)++")
#: A phone number candidate: from a digit (or `+digit`) not inside a word, a run of digits and separators
#: at least 8 characters long and ending in a digit. Dates (`2026-12-06`, with an hour before `:`),
#: IPv4 addresses and bare runs of 18+ digits are kept as they are, and what follows them in the run is
#: judged on its own. A candidate is then judged by `_phone`: see there.
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_PHONE = re.compile(
    r"(?=[+%\d])"  # one class test first: most positions fail here, 2-3x faster than at the lookbehinds (measured)
    r"(?:(?<!\w)|(?<=%2[bB]))(?:"
    r"(?P<keep>(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[ T](?:[01]\d|2[0-3])(?=:))?(?!\d)"
    rf"|{_OCTET}(?:\.{_OCTET}){{3}}(?!\.?\d)"
    r"|\d{18,}+)"
    r"|(?:\+|%2[bB])?(?=\d[\d \-().]{6}[\d \-().]*?\d)\d(?:[ \-.()]*+\d)*+"
    r")"
)
#: C0 and C1 controls (CR, LF, ESC, NUL…), DEL, Unicode line/paragraph separators, bidi overrides
#: and lone surrogates: each would split a record into forged lines, drive the terminal, or fail to encode.
_CONTROL_CHARS = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_CONTROLS = re.compile(f"[{_CONTROL_CHARS}]")
_CONTROL_RUNS = re.compile(f"[{_CONTROL_CHARS}]++")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES = {
    c: _NAMED.get(chr(c), f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}")
    for c in (*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A), *range(0xD800, 0xE000))
}
#: Read away from a cut: the rest of a word (a possible address, token or id), then digits and separators.
#: Forwards, one more word goes too: a cut inside "Bearer" must not leave the token after it bare.
_FRAGMENT_BEFORE = re.compile(r"[\w.+@%/=\-]*+[\d \-().+]*+")
_FRAGMENT_AFTER = re.compile(r"[\w.+@%/=\-]*+\s*+[\w.+@%/=\-]*+[\d \-().+]*+")

_SECRET_FIELDS = {"text", "body", "to", "sender", "address", "phone", "email", "given_name", "family_name", "token"}
_DONE = "rebook_redacted"
#: Attributes every record has: anything else on a record was passed with `extra=` (a structured field).
_STANDARD = frozenset({*RESERVED_ATTRS, "taskName", _DONE, "color_message"})
#: A structured field's text is cut shorter than a message: it is an id, a code or a short reason.
FIELD_LIMIT = 1_000
_UNREADABLE = "<log record could not be redacted>"

_TRACEBACKS = logging.Formatter()


#: Bare digit runs (no `+`, no separator) this short are ids, counts or epoch seconds, never a number
#: a provider takes: E.164 without its `+` (WhatsApp's wa_id) has 11-15 digits, a national number a leading 0.
MAX_BARE_ID_DIGITS = 10
_SEPARATED = re.compile(r"[ \-.()]")


def _bare_number_is_phone(digits: str) -> bool:
    """A run of digits alone is a phone number when it is in national form (leading 0) or E.164 without
    its `+` that libphonenumber deems possible; an id of the same length (epoch milliseconds) is not."""
    if digits.startswith("0"):
        return len(digits) >= 9
    if len(digits) <= MAX_BARE_ID_DIGITS or len(digits) > 15:
        return False
    try:
        return bool(phonenumbers.is_possible_number(phonenumbers.parse("+" + digits)))
    except phonenumbers.NumberParseException:
        return False


def _phone(match: re.Match[str]) -> str:
    """A `+`, `%2B` or a separator between digits makes it a phone number; a bare run is judged by shape."""
    text = match.group()
    if match.lastgroup == "keep":
        return text
    if text[0] in "+%" or _SEPARATED.search(text):
        return "<phone>"
    return "<phone>" if _bare_number_is_phone(text) else text


def _bounded(text: str, limit: int, *, tail: bool = False) -> str:
    """Cut to about `limit` characters (the first ones, or the first and last halves), with a marker.

    Each cut backs off over the fragment it lands in, so no piece of an address, number or token too
    short for the patterns to recognise survives next to it.
    """
    if len(text) <= limit:
        return text
    keep_head = limit // 2 if tail else limit
    before = _FRAGMENT_BEFORE.match(text[max(0, keep_head - 256) : keep_head][::-1])
    head_end = keep_head - (before.end() if before else 0)
    if not tail:
        return f"{text[:head_end]} [... {len(text) - head_end} characters cut]"
    start = len(text) - (limit - keep_head)
    after = _FRAGMENT_AFTER.match(text, start, start + 256)
    tail_start = after.end() if after else start
    return f"{text[:head_end]} [... {tail_start - head_end} characters cut ...] {text[tail_start:]}"


def _escape_run(match: re.Match[str]) -> str:
    return match.group().translate(_ESCAPES)


def _escape(text: str) -> str:
    """Controls become visible escapes (`\\n`, `\\x1b`, `\\ud800`); the search alone is the cheap common case."""
    return _CONTROL_RUNS.sub(_escape_run, text) if _CONTROLS.search(text) else text


def redact(text: str, limit: int = MESSAGE_LIMIT, *, tail: bool = False) -> str:
    """Bounded, scrubbed of addresses, numbers and tokens, controls escaped: safe to write as one line."""
    text = _bounded(text, limit, tail=tail)
    text = _TOKEN.sub("<token>", text)
    if "wamid." in text:
        text = _WAMID.sub("<wamid>", text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub("<email>", text)
    text = _PHONE.sub(_phone, text)
    return _escape(text)


def _scrub(record: logging.LogRecord) -> None:
    """Render and redact the record in place, once, however many handlers it passes through."""
    if getattr(record, _DONE, False):
        return
    try:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call must not raise into the caller
            message = f"{record.msg} (log arguments did not match the format)"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, TRACEBACK_LIMIT, tail=True)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, TRACEBACK_LIMIT, tail=True)
    except Exception:  # noqa: BLE001  # fail closed: a record we cannot scrub is written without its content
        record.msg, record.args, record.exc_text, record.stack_info = _UNREADABLE, None, None, None
    record.exc_info = None  # a formatter must not render the exception again, unredacted
    for name in _SECRET_FIELDS & set(record.__dict__):
        setattr(record, name, "<redacted>")
    for name in extra_fields(record):
        setattr(record, name, _scrub_field(getattr(record, name)))
    # uvicorn's copy of the message with colour codes, unredacted: nobody needs it twice.
    record.__dict__.pop("color_message", None)
    setattr(record, _DONE, True)


def _scrub_field(value: Any) -> Any:
    """Numbers and flags stay typed unless they read as a phone number; anything else is redacted text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if redact(str(value), FIELD_LIMIT) == str(value) else "<phone>"
    try:
        return redact(value if isinstance(value, str) else repr(value), FIELD_LIMIT)
    except Exception:  # noqa: BLE001  # a field we cannot render is dropped, never written raw
        return _UNREADABLE


def extra_fields(record: logging.LogRecord) -> list[str]:
    """The names a caller passed with `extra=`, in the order they were given."""
    return [name for name in record.__dict__ if name not in _STANDARD and not name.startswith("_")]


def _is_library(name: str) -> bool:
    return name.partition(".")[0] in LIBRARIES


class RedactingFilter(logging.Filter):
    """Scrubs every record a handler writes, and drops library chatter below WARNING (it quotes bodies)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < LIBRARY_LEVEL and _is_library(record.name):
            return False
        _scrub(record)
        return True


class LineFormatter(logging.Formatter):
    """One record, one line: redacts (in case a handler lacks the filter), then the structured fields
    as `key=value`, then the escaped traceback."""

    def format(self, record: logging.LogRecord) -> str:
        _scrub(record)
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        fields = " ".join(f"{name}={_field_text(getattr(record, name))}" for name in extra_fields(record))
        if fields:
            line = f"{line} [{fields}]"
        for extra in (record.exc_text, record.stack_info):
            if extra:
                line = f"{line} | {extra}"
        return line


def _field_text(value: Any) -> str:
    text = str(value)
    return f'"{text}"' if not text or " " in text or '"' in text or "=" in text else text


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line (`time`, `level`, `logger`, `message`, every `extra=` field, `exc_info`), redacted first."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=sorted(_STANDARD),
            timestamp=False,
        )

    def format(self, record: logging.LogRecord) -> str:
        _scrub(record)
        return super().format(record)


LogFormat = Literal["auto", "json", "text"]


def formatter(fmt: LogFormat = "text", stream: TextIO | None = None) -> logging.Formatter:
    """`auto`: text when the stream is a terminal (a person reads it), else JSON lines (a shipper does)."""
    if fmt == "auto":
        target = stream if stream is not None else sys.stderr
        isatty = getattr(target, "isatty", None)
        fmt = "text" if callable(isatty) and isatty() else "json"
    return JsonLineFormatter() if fmt == "json" else LineFormatter(FORMAT)


def _guarded(handler: logging.Handler) -> None:
    if not any(isinstance(f, RedactingFilter) for f in handler.filters):
        handler.addFilter(RedactingFilter())


def configure(level: int = logging.INFO, stream: TextIO | None = None, fmt: LogFormat = "text") -> None:
    """One redacting handler on the root; every handler already installed (a library's) redacts too."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(fmt, stream))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(max(level, LIBRARY_LEVEL))
    for logger in list(logging.Logger.manager.loggerDict.values()):
        for installed in getattr(logger, "handlers", ()):
            _guarded(installed)
    if logging.lastResort is not None:
        _guarded(logging.lastResort)


def uvicorn_log_config() -> dict[str, Any]:
    """For `uvicorn.run(log_config=…)`: uvicorn's loggers keep no handler of their own and reach the root's.

    uvicorn's default config gives `uvicorn` and `uvicorn.access` their own stream handlers that do not
    propagate, so its tracebacks (a wamid holding a phone number, a message text) bypassed the filter.
    """
    names = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {name: {"handlers": [], "propagate": True} for name in names},
    }
