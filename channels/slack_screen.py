"""What a request to /slack/* is, decided on its raw body before slack-bolt runs.

Bolt parses a body before it verifies the signature, and logs it when parsing fails: unsigned
malformed bodies answered 500 and reached the log. Here the signature (`X-Slack-Signature`,
`X-Slack-Request-Timestamp`, 5-minute window) is checked first with slack_sdk's
`SignatureVerifier`; only a signed body is then parsed, by bolt's own request class so both
agree on what it holds. Signed but unreadable → malformed (400); signed and readable but nothing
we act on, such as `block_actions` without an action → ignored (200, Slack does not retry it).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

#: Seconds since 1970 fit in 10 digits until 2286; a longer "timestamp" is not one.
MAX_TIMESTAMP_DIGITS = 12


class Screened(StrEnum):
    PASS = "pass"
    FORGED = "forged"
    MALFORMED = "malformed"
    IGNORED = "ignored"


class SlackScreen:
    """Signature first, then shape; bolt only ever sees what passed both."""

    def __init__(self, signing_secret: str) -> None:
        if not signing_secret:
            raise ValueError("a Slack signing secret is required")
        self.verifier = SignatureVerifier(signing_secret)

    def screen(self, body: bytes, headers: Mapping[str, str]) -> Screened:
        timestamp = headers.get("x-slack-request-timestamp") or ""
        signature = headers.get("x-slack-signature") or ""
        if not signature or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
            return Screened.FORGED
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return Screened.FORGED  # Slack signs UTF-8 text; the SDK's verifier cannot read anything else
        if not self.verifier.is_valid(text, timestamp, signature):
            return Screened.FORGED
        try:
            # Bolt's constructor parses the body and reads team, user, channel… out of it: what it
            # cannot read here, it could not read in the handler either.
            payload = AsyncBoltRequest(body=text, headers=dict(headers)).body
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
            return Screened.MALFORMED
        if not isinstance(payload, dict) or not _shaped(payload):
            return Screened.MALFORMED
        if payload.get("type") == "block_actions" and not _clickable(payload):
            return Screened.IGNORED
        return Screened.PASS


def _shaped(payload: dict[str, Any]) -> bool:
    """The fields bolt routes (and logs) by have the types Slack sends: a string type, event and view objects."""
    if not isinstance(payload.get("type", ""), str) or not isinstance(payload.get("view", {}), dict):
        return False
    if payload.get("type") == "event_callback" or "event" in payload:
        event = payload.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type", ""), str):
            return False
    return True


def _clickable(payload: dict[str, Any]) -> bool:
    """A click our desk handlers can read: a first action object, and user/channel objects if present."""
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return False
    return all(isinstance(payload.get(name, {}), dict) for name in ("user", "channel"))
