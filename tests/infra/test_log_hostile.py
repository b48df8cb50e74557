"""Logs under attack: hostile text cannot stall redaction, forge a line, drive a terminal or slip past uvicorn."""

from __future__ import annotations

import base64
import io
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
import uvicorn
from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from infra.logging import (
    LIBRARIES,
    MESSAGE_LIMIT,
    TRACEBACK_LIMIT,
    configure,
    redact,
    uvicorn_log_config,
)
from tests.conversations.conftest import clock, rig  # noqa: F401  (fixtures)
from tests.e2e.desk.conftest import Desk, desk, fake, settings_overrides, slack_server  # noqa: F401  (fixtures)

PHONE, EMAIL = "+447700900123", "someone@example.com"
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def hostile(size: int) -> str:
    """Runs that made backtracking patterns quadratic (letters and dots without `@`, digits, separators,
    dates, addresses, `@` without a domain), controls, surrogates and real secrets, interleaved finely so
    the first kilobytes hold every kind."""
    chunks = (
        "a" * 97, "a." * 50, "1" * 99, "1 " * 50, "1(" * 50, "12345678," * 11, "1.1.1.1." * 12, "2026-12-06 " * 9,
        "+" * 97, "-" * 101, "x@" * 50, "\n\r\x1b\x00" * 25, "Bearer " * 14, "wamid." * 16, "\u00e9\u4e2d\ud800" * 33,
        "a@b.c " * 17, "token=abcdefgh12 " * 6, f" {PHONE} {EMAIL} ",
    )
    block = "".join(chunks)
    return (block * (size // len(block) + 1))[:size]


class Kept(logging.Handler):
    """Keeps the records a library hands its logger, before any filter of ours sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def production_log() -> Iterator[io.StringIO]:
    """`configure()` as the CLI runs it, at DEBUG, into a buffer; root, library and uvicorn loggers restored after."""
    out = io.StringIO()
    root = logging.getLogger()
    names = (*LIBRARIES, *UVICORN)
    saved = {name: (lg.level, lg.handlers[:], lg.propagate) for name in names for lg in [logging.getLogger(name)]}
    saved_root = (root.level, root.handlers[:])
    configure(logging.DEBUG, stream=out)
    try:
        yield out
    finally:
        root.setLevel(saved_root[0])
        root.handlers[:] = saved_root[1]
        for name, (level, handlers, propagate) in saved.items():
            lg = logging.getLogger(name)
            lg.setLevel(level)
            lg.handlers[:] = handlers
            lg.propagate = propagate


def test_a_megabyte_of_hostile_text_is_redacted_in_milliseconds() -> None:
    """The one timed assertion: the old e-mail pattern took 14 s on 64 KB of letters; this is ~1 ms."""
    text = hostile(1 << 20)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        out = redact(text)
        best = min(best, time.perf_counter() - started)
    assert best < 0.05
    assert out.endswith("characters cut]") and len(out) < 7 * MESSAGE_LIMIT
    assert PHONE not in out and EMAIL not in out and "\n" not in out and "\x1b" not in out


def test_uncut_hostile_text_is_redacted_in_full() -> None:
    """The patterns themselves, on 256 KB with no cut: every secret gone, the runs around them intact."""
    text = hostile(1 << 18)
    out = redact(text, limit=len(text))
    assert "characters cut" not in out
    assert PHONE not in out and EMAIL not in out and "abcdefgh12" not in out
    assert out.count("<phone>") >= text.count(PHONE) and out.count("<email>") >= text.count(EMAIL)
    assert "a" * 97 in out and "a." * 50 in out and "\\n\\r\\x1b\\x00" in out and "\\ud800" in out


@pytest.mark.parametrize(
    ("kept", "gone"),
    [
        ("2026-12-06", None),
        ("at 2026-12-06 14:05:00 UTC", None),
        ("2026-12-06T14:05:00+00:00", None),
        ("from 203.0.113.9:443", None),
        ("event 4206913370000000001234", None),
        ("disruption 42: 13 bookings, 30 passengers, flight RB211", None),
        ("on 2026-12-06 10 passengers from 10.0.0.1", None),
        ("2026-12-06 0049 30 12345678", "0049 30 12345678"),
        ("10.0.0.1 +34600123456", "34600123456"),
        ("GET /p/x?to=%2B447700900123", "447700900123"),
        ("1.2.3.4.5.6", "1.2.3.4.5.6"),
        ("+34 600 12 34 56", "600 12 34 56"),
        ("call 555-0199", "555-0199"),
    ],
)
def test_dates_addresses_and_ids_are_not_phone_numbers(kept: str, gone: str | None) -> None:
    if gone is None:
        assert redact(kept) == kept
    else:
        assert gone not in redact(kept) and "<phone>" in redact(kept)


def test_percent_encoded_addresses_are_redacted() -> None:
    """uvicorn's access line quotes the query as sent: `%40` is an `@`, `%2B` a `+`."""
    line = redact('"GET /p/x?to=%2B447700900123&cc=someone%40example.com&z=x%2b447700900123 HTTP/1.1" 404')
    assert line == '"GET /p/x?to=<phone>&cc=<email>&z=x%2b<phone> HTTP/1.1" 404'


@pytest.mark.parametrize(
    ("secret", "cores"),
    [
        (PHONE, ("447700900123",)),
        (EMAIL, ("someone", "example")),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", ("eyJhbGciOiJIUzI1NiJ9",)),
        ("wamid.HBgLNDQ3NzAwOTAwMTIzFQIAEhgg", ("HBgLNDQ3NzAwOTAwMTIzFQIAEhgg",)),
    ],
)
@pytest.mark.parametrize("tail", [False, True], ids=["head-cut", "tail-cut"])
def test_a_cut_never_leaves_a_fragment_of_a_secret(secret: str, cores: tuple[str, ...], tail: bool) -> None:
    """Wherever a cut lands inside a secret, no five characters of it survive next to the marker."""
    limit, filler = 1_000, "word " * 400
    for offset in range(len(secret) + 1):
        if tail:  # the last limit/2 characters are kept: start them `offset` characters into the secret
            text = "y " * 600 + secret + filler[: limit // 2 - len(secret) + offset]
        else:  # the first `limit` characters are kept: end them `offset` characters into the secret
            text = filler[: limit - offset] + secret + filler
        out = redact(text, limit, tail=tail)
        assert "characters cut" in out
        for core in cores:
            assert not any(core[i : i + 5] in out for i in range(len(core) - 4)), (offset, out)


def test_controls_in_message_and_arguments_stay_on_one_escaped_line(production_log: io.StringIO) -> None:
    """An unsigned body with a newline cannot forge a second record; ESC, NUL and surrogates come out visible."""
    forged = "x\n2026-12-06 00:00:00,000 INFO gateway.http.app: refund approved\r\x1b[2J\x00\ud800\u2028\u202e"
    logging.getLogger("rebook.tests.hostile").warning("rejected %s (%d characters)", forged, len(forged))
    logging.getLogger("rebook.tests.hostile").warning(f"inline {forged}")
    lines = production_log.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 3
    for line in lines[:2]:
        assert "\r" not in line and "\x1b" not in line and "\x00" not in line and "\u2028" not in line
        assert "x\\n2026-12-06 00:00:00,000 INFO gateway.http.app: refund approved\\r\\x1b[2J\\x00\\ud800\\u2028\\u202e" in line


def test_a_lone_surrogate_reaches_a_strict_utf8_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unescaped, the record would fail to encode and logging would print it, raw, as a `--- Logging error ---`."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", errors="strict", write_through=True)
    root = logging.getLogger()
    saved = (root.level, root.handlers[:])
    errors = io.StringIO()
    monkeypatch.setattr("sys.stderr", errors)
    try:
        configure(logging.INFO, stream=stream)
        logging.getLogger("rebook.tests.hostile").info("body %s", "ab\ud800cd")
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    assert raw.getvalue().decode("utf-8").endswith("body ab\\ud800cd\n")
    assert errors.getvalue() == ""


def test_a_traceback_is_redacted_and_on_the_same_line(production_log: io.StringIO) -> None:
    try:
        raise ValueError(f"send to {PHONE} failed\nfor {EMAIL}\x1b[0m")
    except ValueError:
        logging.getLogger("rebook.tests.hostile").exception("send failed")
    text = production_log.getvalue()
    assert text.count("\n") == 1
    assert "send failed | Traceback (most recent call last):\\n" in text and "ValueError: send to <phone> failed\\nfor <email>\\x1b[0m" in text
    assert PHONE not in text and EMAIL not in text


def test_a_huge_traceback_keeps_its_first_and_last_frames(production_log: io.StringIO) -> None:
    try:
        raise RuntimeError("x" * 100_000 + f" {PHONE}")
    except RuntimeError:
        logging.getLogger("rebook.tests.hostile").exception("boom")
    text = production_log.getvalue()
    assert "Traceback (most recent call last):" in text and "characters cut ..." in text
    assert text.rstrip("\n").endswith("<phone>") and PHONE not in text
    assert len(text) < MESSAGE_LIMIT + TRACEBACK_LIMIT


def test_uvicorn_tracebacks_and_access_lines_go_through_the_redacting_handler(production_log: io.StringIO) -> None:
    """uvicorn configured as `rebook serve` configures it; its default config wrote through its own handlers."""
    uvicorn.Config(app=lambda *a: None, log_config=uvicorn_log_config(), log_level="info")
    assert all(logging.getLogger(name).handlers == [] for name in UVICORN)
    payload = base64.b64encode(b"\x1c\x18\x0c" + PHONE.lstrip("+").encode() + b"\x15\x02\x00").decode()
    try:
        raise RuntimeError(f"status for wamid.{payload} ({PHONE}): 'my wheelchair is booked' from {EMAIL}\nfake line")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:51000", "GET", f"/p/x?to={PHONE}&email={EMAIL}", "1.1", 200
    )
    lines = production_log.getvalue().splitlines()
    assert len(lines) == 2
    assert "ERROR uvicorn.error: Exception in ASGI application | Traceback" in lines[0]
    assert "RuntimeError: status for <wamid> (<phone>)" in lines[0] and "\\nfake line" in lines[0]
    assert lines[1].split(" ", 2)[2] == 'INFO uvicorn.access: 127.0.0.1:51000 - "GET /p/x?to=<phone>&email=<email> HTTP/1.1" 200'
    for secret in (PHONE, PHONE.lstrip("+"), EMAIL, payload):
        assert secret not in "\n".join(lines)


def test_library_chatter_below_warning_is_not_written(production_log: io.StringIO) -> None:
    """Twilio writes ~10 INFO lines per SMS, slack_sdk its request bodies at DEBUG: only their warnings pass."""
    for name in ("twilio.http_client", "twilio.async_http_client", "slack_sdk.web.async_base_client", "pywa.client",
                 "httpx", "httpcore.http11", "aiohttp.client", "taskiq.receiver.receiver"):
        logger = logging.getLogger(name)
        level = logger.level
        logger.setLevel(logging.DEBUG)  # as slack-bolt does for its own loggers, from the root's level
        logger.debug("request body %s", EMAIL)
        logger.info("POST Request: https://api.twilio.com/ To=%s", PHONE)
        logger.warning("%s answered 429", name)
        logger.setLevel(level)
    text = production_log.getvalue()
    assert "request body" not in text and "POST Request" not in text
    assert text.count("answered 429") == 8
    assert all(logging.getLogger(name).getEffectiveLevel() >= logging.WARNING for name in LIBRARIES)


def test_a_taskiq_failure_is_redacted(production_log: io.StringIO) -> None:
    try:
        raise KeyError(f"passenger {PHONE}")
    except KeyError:
        logging.getLogger("taskiq.receiver.receiver").exception("Exception found while executing function: %s", EMAIL)
    text = production_log.getvalue()
    assert "Exception found while executing function: <email> | Traceback" in text
    assert PHONE not in text and EMAIL not in text


async def test_bolt_does_not_write_the_body_of_a_request_whose_signature_failed(production_log: io.StringIO) -> None:
    """slack-bolt's verifier logs a failed request's whole body at INFO, at the root's level when it was built."""
    body = "token=x&text=" + "my wheelchair is booked " * 100 + "\n2026-12-06 INFO forged"
    raw = Kept()
    verifier = AsyncRequestVerification("signing-secret")
    verifier.logger.addHandler(raw)
    try:
        headers: dict[str, str | Sequence[str]] = {"x-slack-signature": "v0=bad", "x-slack-request-timestamp": str(int(time.time()))}

        async def nothing() -> BoltResponse:
            return BoltResponse(status=200)

        response = await verifier.async_process(req=AsyncBoltRequest(body=body, headers=headers), resp=BoltResponse(status=200), next=nothing)
    finally:
        verifier.logger.removeHandler(raw)
    assert response.status == 401
    assert any("wheelchair" in r.getMessage() for r in raw.records)  # bolt did try to log it ...
    assert "wheelchair" not in production_log.getvalue() and "forged" not in production_log.getvalue()  # ... and it was not written


@pytest.fixture
def logged_before_the_app(production_log: io.StringIO) -> io.StringIO:
    """Logging configured before the app is built, as `rebook serve` does (bolt copies the root's level then)."""
    return production_log


async def test_an_unsigned_slack_body_leaves_only_its_size_in_the_log(logged_before_the_app: io.StringIO, desk: Desk) -> None:  # noqa: F811
    """64 KB of letters without `@` and a forged line, unsigned, to the real app: refused, nothing of it written."""
    body = "a" * 65_536 + "\n2026-12-06 00:00:00,000 INFO gateway.http.app: refund approved " + EMAIL
    r = await desk.http.post("/slack/events", content=body.encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    text = logged_before_the_app.getvalue()
    assert "a" * 64 not in text and "refund approved" not in text and EMAIL not in text
    assert all(line[:4].isdigit() for line in text.splitlines())


@pytest.mark.slow
def test_rebook_serve_writes_uvicorn_through_the_redacting_handler(tmp_path: Path) -> None:
    """The real CLI in a child process: uvicorn's own lines and access lines come out in our format, redacted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REBOOK_")}
    env |= {
        "REBOOK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/rebook.db",
        "REBOOK_SANDBOX": "true",
        "REBOOK_LOG__FORMAT": "text",  # the default, auto, writes JSON lines when stderr is not a terminal
        "REBOOK_ADMIN__PORT": "0",
        "REBOOK_SLACK__BOT_TOKEN": "xoxb-test",
        "REBOOK_SLACK__SIGNING_SECRET": "signing-secret",
        "REBOOK_SLACK__API_BASE": "http://127.0.0.1:9/api/",
        "REBOOK_SLACK__ESCALATION_CHANNEL": "CESC",
    }
    cli = [sys.executable, "-m", "gateway.cli.main"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (tmp_path / "serve.log").open("w+") as log:
        server = subprocess.Popen([*cli, "serve", "--port", str(port), "--no-worker"], env=env, cwd=tmp_path, stdout=log, stderr=log)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                for _ in range(600):
                    try:
                        if http.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                assert http.get("/healthz", params={"to": PHONE, "cc": EMAIL}).status_code == 200
                forged = "a" * 4096 + "\n2026-12-06 00:00:00,000 INFO gateway.http.app: refund approved " + EMAIL
                assert http.post("/slack/events", content=forged, headers={"Content-Type": "application/json"}).status_code == 401
        finally:
            server.terminate()
            server.wait(timeout=30)
        log.seek(0)
        lines = log.read().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} "
    assert any(re.fullmatch(stamp + r"INFO uvicorn\.error: Started server process \[\d+\]", line) for line in lines)
    assert any(line.endswith('"GET /healthz?to=<phone>&cc=<email> HTTP/1.1" 200') for line in lines)
    assert all(re.match(stamp, line) for line in lines), lines
    text = "\n".join(lines)
    assert PHONE.lstrip("+") not in text and EMAIL not in text and "refund approved" not in text and "a" * 64 not in text


def test_a_logger_without_handlers_falls_back_to_a_redacting_last_resort(
    production_log: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    """A logger that does not propagate and has no handler of its own writes through `logging.lastResort`."""
    orphan = logging.getLogger("rebook.tests.orphan")
    orphan.propagate = False
    try:
        orphan.warning("undeliverable to %s\n%s", PHONE, EMAIL)
    finally:
        orphan.propagate = True
    err = capsys.readouterr().err
    assert err == "undeliverable to <phone>\\n<email>\n"
