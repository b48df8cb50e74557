"""WhatsApp webhook route: challenge, signature first (fail closed), parse, hand to the sink."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from conversations.ports import DeliveryReceipt, DeliveryState, InboundText, ReasonClass
from webhooks.whatsapp import router

FIXTURES = Path(__file__).parents[1] / "channels" / "fixtures" / "whatsapp"
SECRET = "app-secret-for-tests"
VERIFY = "verify-token-for-tests"
URL = "/webhooks/whatsapp"


class RecordingSink:
    """Stands in for the engine's inbound sink; remembers every batch it was handed."""

    def __init__(self) -> None:
        self.batches: list[list[InboundText | DeliveryReceipt]] = []

    async def accept(self, events: list[InboundText | DeliveryReceipt]) -> None:
        self.batches.append(list(events))

    @property
    def events(self) -> list[InboundText | DeliveryReceipt]:
        return [e for batch in self.batches for e in batch]


def raw_fixture(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def client(sink: RecordingSink) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(router(sink=sink, app_secret=SECRET, verify_token=VERIFY))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as c:
        yield c


async def post(client: httpx.AsyncClient, name: str) -> httpx.Response:
    body = raw_fixture(name)
    return await client.post(URL, content=body, headers=sign(body))


async def test_challenge_ok(client: httpx.AsyncClient) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    response = await client.get(URL, params=params)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {},
    ],
)
async def test_challenge_forbidden(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get(URL, params=params)
    assert response.status_code == 403
    assert "1" not in response.text


async def test_signed_text_message(client: httpx.AsyncClient, sink: RecordingSink) -> None:
    response = await post(client, "text_message")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    [event] = sink.events
    assert isinstance(event, InboundText)
    assert event.sender == "+34600111222"
    assert event.text == "Hola, ¿qué opciones tengo?"
    assert event.choice_token is None


@pytest.mark.parametrize(
    ("name", "token"),
    [
        ("button_reply", "opt.7f3a9c.2"),
        ("list_reply", "opt.7f3a9c.5"),
        ("template_quick_reply", "offer.7f3a9c.show"),
    ],
)
async def test_signed_taps(
    client: httpx.AsyncClient, sink: RecordingSink, name: str, token: str
) -> None:
    response = await post(client, name)
    assert response.status_code == 200
    [event] = sink.events
    assert isinstance(event, InboundText)
    assert event.choice_token == token
    assert event.provider == "meta" and event.channel == "whatsapp"


async def test_signed_failed_status_131047(client: httpx.AsyncClient, sink: RecordingSink) -> None:
    response = await post(client, "status_failed_131047")
    assert response.status_code == 200
    [receipt] = sink.events
    assert isinstance(receipt, DeliveryReceipt)
    assert receipt.state is DeliveryState.FAILED
    assert receipt.error_code == "131047"
    assert receipt.reason_class is ReasonClass.POLICY


async def test_forged_signature_is_401_and_sink_untouched(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    body = raw_fixture("text_message")
    response = await client.post(URL, content=body, headers=sign(body, secret="not-the-secret"))
    assert response.status_code == 401
    assert sink.batches == []


async def test_body_changed_after_signing_is_401(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    body = raw_fixture("button_reply")
    tampered = body.replace(b"opt.7f3a9c.2", b"opt.7f3a9c.1")
    response = await client.post(URL, content=tampered, headers=sign(body))
    assert response.status_code == 401
    assert sink.batches == []


async def test_missing_signature_header_is_401(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    response = await client.post(
        URL, content=raw_fixture("text_message"), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert sink.batches == []


async def test_unsigned_garbage_is_401_not_400(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    response = await client.post(URL, content=b"{not json")
    assert response.status_code == 401
    assert sink.batches == []


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[]", b'{"entry": [{"id": "1"}]}'])
async def test_signed_malformed_payload_is_400(
    client: httpx.AsyncClient, sink: RecordingSink, body: bytes
) -> None:
    response = await client.post(URL, content=body, headers=sign(body))
    assert response.status_code == 400
    assert sink.batches == []


async def test_signed_unknown_field_is_200_with_no_events(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    response = await post(client, "template_status_update")
    assert response.status_code == 200
    assert sink.events == []


async def test_replay_hands_over_the_same_event_ids(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    first = await post(client, "button_reply")
    second = await post(client, "button_reply")
    assert first.status_code == second.status_code == 200
    assert len(sink.batches) == 2
    ids = [[e.event_id for e in batch] for batch in sink.batches]
    assert ids[0] == ids[1] and len(ids[0]) == 1


async def test_batched_entries_become_one_handover(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    text = json.loads(raw_fixture("text_message"))
    status = json.loads(raw_fixture("status_failed_131047"))
    text["entry"].extend(status["entry"])
    body = json.dumps(text).encode()
    response = await client.post(URL, content=body, headers=sign(body))
    assert response.status_code == 200
    [batch] = sink.batches
    assert [type(e) for e in batch] == [InboundText, DeliveryReceipt]


def test_router_refuses_empty_secrets(sink: RecordingSink) -> None:
    with pytest.raises(ValueError):
        router(sink=sink, app_secret="", verify_token=VERIFY)
    with pytest.raises(ValueError):
        router(sink=sink, app_secret=SECRET, verify_token="")
