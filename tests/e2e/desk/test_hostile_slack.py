"""Hostile and odd Slack requests: the signature is checked on the raw body before bolt parses anything.

Unsigned or stale → 401 whatever the body; signed but unreadable → 400; signed and readable but
nothing the desk acts on (a `block_actions` without an action) → 200; never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.parse

import httpx
import pytest

from tests.e2e.desk.conftest import SECRET, Desk

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def interaction(payload: object) -> str:
    return "payload=" + urllib.parse.quote(json.dumps(payload))


CLICK = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "UAGENT1"}, "trigger_id": "t-1"}

#: path, body, content type, status when signed.
CASES: list[tuple[str, str, str, int]] = [
    ("/slack/interactions", interaction({**CLICK, "actions": []}), FORM, 200),
    ("/slack/interactions", interaction(CLICK), FORM, 200),
    ("/slack/interactions", interaction({**CLICK, "actions": ["take_next"]}), FORM, 200),
    ("/slack/interactions", interaction({**CLICK, "actions": [{"action_id": "take", "value": "1"}], "user": "UAGENT1"}), FORM, 200),
    ("/slack/interactions", "payload=notjson", FORM, 400),
    ("/slack/interactions", "payload=%5B1%5D", FORM, 400),
    ("/slack/interactions", interaction({**CLICK, "authorizations": [1]}), FORM, 400),
    ("/slack/events", "{not json", JSON, 400),
    ("/slack/events", "[1,2]", JSON, 400),
    ("/slack/events", '"x"', JSON, 400),
    ("/slack/events", '{"type":"event_callback","event":[]}', JSON, 400),
    ("/slack/events", "[" * 5000 + "]" * 5000, JSON, 400),
    ("/slack/events", '{"type":"event_callback","event":{"type":"message"}}', JSON, 200),
    ("/slack/commands", "\udcff\udcfe", FORM, 401),  # not UTF-8: nothing Slack signs
]


def _encode(body: str) -> bytes:
    return body.encode("utf-8", "surrogateescape")


async def signed(desk: Desk, path: str, body: bytes, content_type: str) -> httpx.Response:
    """Signed over the raw bytes, as Slack does (the SDK's helper only signs text)."""
    ts = str(int(time.time()))
    mac = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={mac}", "Content-Type": content_type}
    return await desk.http.post(path, content=body, headers=headers)


async def test_unsigned_and_malformed_bodies_get_401_before_bolt_reads_them(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for path, body, content_type, _ in CASES:
        for headers in (
            {},
            {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=00"},
            {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=00"},
            {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},
        ):
            r = await desk.http.post(path, content=_encode(body), headers={"Content-Type": content_type, **headers})
            assert r.status_code == 401, (path, body[:40], headers)
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["status"] == 401
    # Nothing of a refused body reaches the log (the canary is only in the refused bodies).
    canary = "UAGENT1"
    assert not [rec for rec in caplog.records if canary in rec.getMessage()]
    assert desk.fake.responses == []


async def test_signed_but_odd_payloads_are_refused_or_ignored_never_500(desk: Desk) -> None:
    for path, body, content_type, status in CASES:
        r = await signed(desk, path, _encode(body), content_type)
        assert r.status_code == status, (path, body[:60], r.text)
    await desk.settle()
    assert desk.fake.responses == []


async def test_a_signed_block_actions_without_actions_is_200_and_does_nothing(desk: Desk) -> None:
    r = await desk.post("/slack/interactions", interaction({**CLICK, "actions": []}), FORM)
    await desk.settle()
    assert r.status_code == 200
    assert desk.fake.responses == [] and desk.fake.of("chat.postMessage") == []


async def test_a_stale_signature_is_401_before_parsing(desk: Desk) -> None:
    r = await desk.post("/slack/events", "{not json", JSON, age=6 * 60)
    assert r.status_code == 401


KEYS = ("type", "event", "actions", "user", "channel", "team", "authorizations", "enterprise", "view",
        "message", "container", "trigger_id", "text", "event_id", "action_id", "value", "id", "team_id")
TYPES = ("block_actions", "event_callback", "url_verification", "view_submission", "shortcut", "message", "app_mention")


def _odd_payloads() -> list[tuple[str, bytes, str]]:
    """Derandomized hypothesis examples of JSON shaped almost like Slack's: dicts, lists and scalars where objects belong."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.sampled_from(TYPES)
    values = st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4), max_leaves=12
    )
    payload = st.dictionaries(st.sampled_from(KEYS), values, max_size=6).flatmap(
        lambda d: st.sampled_from(TYPES).map(lambda t: {**d, "type": t}) | st.just(d)
    )
    body = st.one_of(
        payload.map(lambda p: ("/slack/interactions", interaction(p).encode(), FORM)),
        payload.map(lambda p: ("/slack/events", json.dumps(p).encode(), JSON)),
        values.map(lambda v: ("/slack/events", json.dumps(v).encode(), JSON)),
        st.dictionaries(st.sampled_from(("command", "text", "user_id", "channel_id", "trigger_id", "team_id")), st.text(max_size=12), max_size=6).map(
            lambda form: ("/slack/commands", urllib.parse.urlencode(form).encode(), FORM)
        ),
    )
    found: list[tuple[str, bytes, str]] = []

    @given(body)
    @settings(max_examples=150, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def collect(example: tuple[str, bytes, str]) -> None:
        found.append(example)

    collect()
    return found


async def test_signed_payloads_of_any_shape_never_get_a_5xx(desk: Desk) -> None:
    for path, body, content_type in _odd_payloads():
        r = await signed(desk, path, body, content_type)
        assert r.status_code < 500, (path, body[:300], r.status_code, r.text[:200])
    await desk.settle()
