"""The redacting filter: no phone number, e-mail address, token or message field reaches a log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from infra.logging import (
    JsonLineFormatter,
    LineFormatter,
    RedactingFilter,
    configure,
    formatter,
    redact,
)

PHONES = ("+34600123456", "+1 (555) 010-0199", "0049 30 12345678", "whatsapp:+447700900123")
EMAILS = ("ana.garcia+trip@example.co.uk", "ops@rebook.example")


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose only handler formats like production (extras included) through the filter."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("rebook.tests.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_removed_from_messages_and_arguments(
    logged: tuple[logging.Logger, io.StringIO], phone: str
) -> None:
    logger, out = logged
    logger.info("offer sent to %s", phone)
    logger.info(f"inline {phone} in the format string")
    text = out.getvalue()
    assert phone not in text
    assert text.count("<phone>") == 2
    assert "offer sent to" in text and "inline" in text


@pytest.mark.parametrize("email", EMAILS)
def test_email_addresses_are_removed(logged: tuple[logging.Logger, io.StringIO], email: str) -> None:
    logger, out = logged
    logger.warning("bounce from %s (%d tries)", email, 3)
    assert out.getvalue() == "WARNING rebook.tests.redaction: bounce from <email> (3 tries)\n"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc-DEF_123", "eyJhbGciOiJIUzI1NiJ9"),
        ("authorization: bearer k-live-0123456789abcdef", "k-live-0123456789abcdef"),
        ("GET /v21.0/me?token=EAAGm0PX4ZCpsBAabcdef", "EAAGm0PX4ZCpsBAabcdef"),
        ("GET /v21.0/me?access_token=EAAGm0PX4ZCpsBAabcdef", "EAAGm0PX4ZCpsBAabcdef"),
    ],
)
def test_bearer_and_query_tokens_are_removed(logged: tuple[logging.Logger, io.StringIO], line: str, secret: str) -> None:
    logger, out = logged
    logger.error("provider call failed: %s", line)
    assert secret not in out.getvalue()
    assert "<token>" in out.getvalue()


def test_fields_named_for_message_content_or_addresses_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(RedactingFilter())
    logger = logging.getLogger("rebook.tests.fields")
    with caplog.at_level(logging.INFO, logger="rebook.tests.fields"):
        logger.info(
            "inbound accepted",
            extra={"text": "my seat is 12A, call me", "to": "+34600123456", "sender": "+15550100", "channel": "sms", "conversation_id": 7},
        )
    (record,) = caplog.records
    assert record.text == record.to == record.sender == "<redacted>"  # type: ignore[attr-defined]
    assert record.channel == "sms"  # type: ignore[attr-defined]
    assert record.conversation_id == 7  # type: ignore[attr-defined]
    assert record.name == "rebook.tests.fields"
    assert record.getMessage() == "inbound accepted"


def test_a_formatter_that_prints_fields_prints_no_pii(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = logged
    handler = logger.handlers[0]
    handler.setFormatter(logging.Formatter("%(message)s to=%(to)s text=%(text)s"))
    logger.info("sent", extra={"to": "+34600123456", "text": "Your new flight RB213"})
    assert out.getvalue() == "sent to=<redacted> text=<redacted>\n"


def test_exception_text_is_redacted(logged: tuple[logging.Logger, io.StringIO]) -> None:
    """Provider errors quote the number they refused; a traceback must not carry it into the log."""
    logger, out = logged
    try:
        raise ValueError("The 'To' number +34600123456 is not a valid phone number (ana@example.com)")
    except ValueError:
        logger.exception("send failed")
    text = out.getvalue()
    assert "send failed" in text
    assert "Traceback" in text and "ValueError" in text
    assert "+34600123456" not in text
    assert "ana@example.com" not in text


def test_a_malformed_log_call_does_not_raise_into_the_caller(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = logged
    logger.info("offer for %s and %s", "+34600123456")
    assert "+34600123456" not in out.getvalue()
    assert "offer for" in out.getvalue()


def test_ordinary_numbers_and_words_survive() -> None:
    assert redact("disruption 42: 13 bookings, 30 passengers, flight RB211") == (
        "disruption 42: 13 bookings, 30 passengers, flight RB211"
    )


def test_configure_installs_one_redacting_handler_on_the_root() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure(logging.WARNING)
        configure(logging.WARNING)
        assert len(root.handlers) == 1
        assert any(isinstance(f, RedactingFilter) for f in root.handlers[0].filters)
        assert isinstance(root.handlers[0].formatter, LineFormatter)
        assert root.level == logging.WARNING
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


@pytest.mark.parametrize(
    "kept",
    ["client 203.0.113.9", "on 2026-12-06", "at 2026-12-06T14:05:00.123+00:00", "booking 1234567890", "epoch ms 1733480000123"],
)
def test_addresses_dates_timestamps_and_ids_survive(kept: str) -> None:
    assert redact(kept) == kept


@pytest.mark.parametrize("phone", ["+44 7700 900123", "447700900123", "07700 900123", "07700900123", "(555) 010-0199"])
def test_a_phone_number_is_a_phone_number_in_any_spelling(phone: str) -> None:
    out = redact(f"reply from {phone} at 2026-12-06")
    assert out.startswith("reply from ") and out.endswith("<phone> at 2026-12-06")
    assert not any(ch.isdigit() for ch in out.removesuffix(" at 2026-12-06"))


def _production(fmt: str) -> tuple[logging.Logger, io.StringIO, list[logging.Handler], int]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    configure(logging.INFO, stream=out, fmt=fmt)  # type: ignore[arg-type]
    return logging.getLogger("rebook.tests.structured"), out, *saved


def _restore(handlers: list[logging.Handler], level: int) -> None:
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_text_lines_keep_every_structured_field_redacted() -> None:
    logger, out, *saved = _production("text")
    try:
        logger.warning(
            "send failed",
            extra={"outbox_id": 812, "channel": "sms", "error": "The 'To' number +34600123456 is invalid", "to": "+34600123456"},
        )
    finally:
        _restore(*saved)
    (line,) = out.getvalue().splitlines()
    assert line.endswith("WARNING rebook.tests.structured: send failed [outbox_id=812 channel=sms error=\"The 'To' number <phone> is invalid\" to=<redacted>]")


def test_json_lines_keep_every_structured_field_typed_and_redacted() -> None:
    logger, out, *saved = _production("json")
    try:
        logger.info("offer sent to %s", "+447700900123", extra={"conversation_id": 7, "channel": "whatsapp", "retry": False, "text": "hi Ana"})
        try:
            raise ValueError("send to +447700900123 failed\nfor ana@example.com")
        except ValueError:
            logger.exception("send failed", extra={"outbox_id": 9})
    finally:
        _restore(*saved)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "offer sent to <phone>" and first["level"] == "INFO" and first["logger"] == "rebook.tests.structured"
    assert first["conversation_id"] == 7 and first["channel"] == "whatsapp" and first["retry"] is False and first["text"] == "<redacted>"
    assert "time" in first
    assert second["outbox_id"] == 9 and "ValueError" in second["exc_info"]
    assert "447700900123" not in out.getvalue() and "ana@example.com" not in out.getvalue()


def test_auto_is_text_on_a_terminal_and_json_elsewhere() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(formatter("auto", Terminal()), LineFormatter)
    assert isinstance(formatter("auto", io.StringIO()), JsonLineFormatter)
    assert isinstance(formatter("text", io.StringIO()), LineFormatter)


@pytest.mark.parametrize("name", ["twilio.async_http_client", "twilio.http_client", "pywa.client", "slack_sdk.web", "httpx", "aiohttp.client"])
def test_sdk_loggers_write_warnings_only(name: str) -> None:
    logger, out, *saved = _production("text")
    try:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING
        logging.getLogger(name).info("POST /2010-04-01/Accounts/AC1/Messages.json Body=hello")
        logging.getLogger(name).warning("retrying")
    finally:
        _restore(*saved)
    assert "Body=hello" not in out.getvalue() and "retrying" in out.getvalue()
