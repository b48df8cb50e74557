"""Twilio webhooks through FastAPI: signatures on the public URL, fail closed, neutral events out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from twilio.request_validator import RequestValidator

from conversations.ports import DeliveryReceipt, DeliveryState, InboundText, ReasonClass
from webhooks.twilio import EMPTY_TWIML, router

FIXTURES = Path(__file__).parents[1] / "channels" / "fixtures" / "twilio"
TOKEN = "webhook-auth-token"
PUBLIC = "https://rebook.example.com/"
INTERNAL = "http://gateway.internal:8000"


def fixture(name: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def sign(url: str, form: dict[str, str], token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[InboundText | DeliveryReceipt] = []

    async def accept(self, events: list[InboundText | DeliveryReceipt]) -> None:
        self.events.extend(events)


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


@pytest.fixture
async def client(sink: RecordingSink) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(router(sink=sink, auth_token=TOKEN, public_base_url=PUBLIC))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=INTERNAL) as c:
        yield c


async def post(
    client: httpx.AsyncClient, path: str, form: dict[str, str], signature: str | None
) -> httpx.Response:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return await client.post(path, data=form, headers=headers)


def public(path: str) -> str:
    return "https://rebook.example.com" + path


async def test_signed_inbound_sms_reaches_sink(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    form = fixture("inbound_sms")
    path = "/webhooks/twilio/sms"
    response = await post(client, path, form, sign(public(path), form))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    assert len(sink.events) == 1
    event = sink.events[0]
    assert isinstance(event, InboundText)
    assert event.sender == "+12125550123"
    assert event.event_id == form["MessageSid"]
    assert event.text == "2"


async def test_sender_is_normalized(client: httpx.AsyncClient, sink: RecordingSink) -> None:
    form = {**fixture("inbound_sms"), "From": "+1 (212) 555-0123"}
    path = "/webhooks/twilio/sms"
    response = await post(client, path, form, sign(public(path), form))
    assert response.status_code == 200
    assert isinstance(sink.events[0], InboundText)
    assert sink.events[0].sender == "+12125550123"


async def test_forged_signature_is_rejected(client: httpx.AsyncClient, sink: RecordingSink) -> None:
    form = fixture("inbound_sms")
    path = "/webhooks/twilio/sms"
    forged = sign(public(path), form, token="attacker-guess")
    response = await post(client, path, form, forged)
    assert response.status_code == 403
    assert sink.events == []


async def test_tampered_body_is_rejected(client: httpx.AsyncClient, sink: RecordingSink) -> None:
    form = fixture("inbound_sms")
    path = "/webhooks/twilio/sms"
    signature = sign(public(path), form)
    response = await post(client, path, {**form, "Body": "1"}, signature)
    assert response.status_code == 403
    assert sink.events == []


async def test_missing_signature_is_rejected(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    response = await post(client, "/webhooks/twilio/sms", fixture("inbound_sms"), None)
    assert response.status_code == 403
    assert sink.events == []


async def test_signature_for_internal_url_is_rejected(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    form = fixture("inbound_sms")
    path = "/webhooks/twilio/sms"
    response = await post(client, path, form, sign(INTERNAL + path, form))
    assert response.status_code == 403
    assert sink.events == []


async def test_query_string_is_part_of_the_signed_url(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    form = fixture("inbound_sms")
    path = "/webhooks/twilio/sms?tenant=ba"
    without_query = await post(client, path, form, sign(public("/webhooks/twilio/sms"), form))
    assert without_query.status_code == 403
    with_query = await post(client, path, form, sign(public(path), form))
    assert with_query.status_code == 200
    assert len(sink.events) == 1


async def test_signed_but_malformed_is_400(client: httpx.AsyncClient, sink: RecordingSink) -> None:
    form = fixture("inbound_sms_no_sid")
    path = "/webhooks/twilio/sms"
    response = await post(client, path, form, sign(public(path), form))
    assert response.status_code == 400
    assert sink.events == []


async def test_unsigned_and_malformed_is_403_not_400(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    response = await post(client, "/webhooks/twilio/sms", fixture("inbound_sms_no_sid"), "x")
    assert response.status_code == 403


async def test_status_callback_failed(client: httpx.AsyncClient, sink: RecordingSink) -> None:
    form = fixture("status_undelivered_30003")
    path = "/webhooks/twilio/status"
    response = await post(client, path, form, sign(public(path), form))

    assert response.status_code == 200
    assert response.text == EMPTY_TWIML
    assert len(sink.events) == 1
    receipt = sink.events[0]
    assert isinstance(receipt, DeliveryReceipt)
    assert receipt.state is DeliveryState.FAILED
    assert receipt.error_code == "30003"
    assert receipt.reason_class is ReasonClass.PERMANENT
    assert receipt.provider_message_id == form["MessageSid"]
    assert receipt.event_id == f"{form['MessageSid']}:undelivered"


async def test_status_callback_delivered(client: httpx.AsyncClient, sink: RecordingSink) -> None:
    form = fixture("status_delivered")
    path = "/webhooks/twilio/status"
    response = await post(client, path, form, sign(public(path), form))
    assert response.status_code == 200
    assert isinstance(sink.events[0], DeliveryReceipt)
    assert sink.events[0].state is DeliveryState.DELIVERED
    assert sink.events[0].error_code is None


async def test_untracked_status_is_acknowledged_not_forwarded(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    form = fixture("status_canceled")
    path = "/webhooks/twilio/status"
    response = await post(client, path, form, sign(public(path), form))
    assert response.status_code == 200
    assert sink.events == []


async def test_status_signature_is_checked_too(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    form = fixture("status_delivered")
    response = await post(
        client, "/webhooks/twilio/status", form, sign(public("/webhooks/twilio/sms"), form)
    )
    assert response.status_code == 403
    assert sink.events == []


async def test_replay_hands_the_same_event_id_again(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    form = fixture("inbound_sms")
    path = "/webhooks/twilio/sms"
    signature = sign(public(path), form)
    first = await post(client, path, form, signature)
    second = await post(client, path, form, signature)
    assert first.status_code == second.status_code == 200
    assert [e.event_id for e in sink.events] == [form["MessageSid"]] * 2


async def test_multipart_file_upload_is_rejected(
    client: httpx.AsyncClient, sink: RecordingSink
) -> None:
    form = fixture("inbound_sms")
    path = "/webhooks/twilio/sms"
    response = await client.post(
        path,
        data=form,
        files={"Media": ("a.txt", b"x")},
        headers={"X-Twilio-Signature": sign(public(path), form)},
    )
    assert response.status_code == 403
    assert sink.events == []
