"""Every Slack endpoint runs through the real slack-bolt app: signed requests pass, forged and stale ones get 401."""

from __future__ import annotations

import pytest

from tests.e2e.desk.conftest import Desk

CASES = [
    pytest.param({}, 200, id="signed"),
    pytest.param({"secret": "not-the-secret"}, 401, id="forged"),
    pytest.param({"age": 6 * 60}, 401, id="stale"),
]


@pytest.mark.parametrize(("kw", "status"), CASES)
async def test_events(desk: Desk, kw: dict[str, object], status: int) -> None:
    r = await desk.reply_in_thread("1700000000.000001", "hello", **kw)  # type: ignore[arg-type]
    assert r.status_code == status


@pytest.mark.parametrize(("kw", "status"), CASES)
async def test_interactions(desk: Desk, kw: dict[str, object], status: int) -> None:
    r = await desk.click("take_next", "999", **kw)  # type: ignore[arg-type]
    await desk.settle()
    assert r.status_code == status
    if status == 200:
        assert [x["text"] for x in desk.fake.responses] == ["Nobody is waiting in this queue."]
    else:
        assert desk.fake.responses == []


@pytest.mark.parametrize(("kw", "status"), CASES)
async def test_slash_commands(desk: Desk, kw: dict[str, object], status: int) -> None:
    r = await desk.command("broadcast NOPE hello", **kw)  # type: ignore[arg-type]
    await desk.settle()
    assert r.status_code == status
    if status == 200:
        assert "received" in r.text
        assert len(desk.fake.responses) == 1 and "Broadcast refused" in desk.fake.responses[0]["text"]


async def test_a_request_without_signature_headers_is_refused(desk: Desk) -> None:
    r = await desk.http.post("/slack/events", json={"type": "event_callback", "event": {}})
    assert r.status_code == 401


async def test_bolt_checks_the_token_once_with_auth_test(desk: Desk) -> None:
    await desk.click("take_next", "999")
    await desk.click("take_next", "999")
    await desk.settle()
    assert len(desk.fake.of("auth.test")) <= 1


async def test_url_verification_challenge_is_answered(desk: Desk) -> None:
    import json

    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    r = await desk.post("/slack/events", body, "application/json")
    assert r.status_code == 200 and "abc123" in r.text


async def test_unknown_command_text_gets_usage(desk: Desk) -> None:
    r = await desk.command("dance")
    assert r.status_code == 200 and "Usage" in r.text
