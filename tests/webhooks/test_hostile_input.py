"""Each input that once answered 500 (and made the provider retry into it), now a 4xx problem or a 200, on both databases."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from conversations.models import (
    Conversation,
    Delivery,
    InboundMessage,
    OutboxMessage,
    ProcessedEvent,
)
from conversations.ports import SendResult
from conversations.provider_values import ERROR_CODE_COLUMN, HASHED_PREFIX
from rebooking_core.models import Booking, Disruption, Flight
from tests.webhooks.conftest import SMS_URL, STATUS_URL, Hooks
from tests.webhooks.test_provider_maxima import whatsapp_text

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
SENDER = "+34600111222"


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status


async def count(hooks: Hooks, model: type[Any]) -> int:
    async with hooks.c.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def texts(hooks: Hooks) -> list[str | None]:
    async with hooks.c.db.reading() as s:
        return list((await s.scalars(select(InboundMessage.text).order_by(InboundMessage.id))).all())


async def sent_delivery(hooks: Hooks, provider: str, channel: str, result: SendResult) -> int:
    """A delivery as the dispatcher records a send: keyed by `SendResult.provider_message_id`."""
    async with hooks.c.db.transaction() as s:
        flight = Flight(
            carrier="RB", number="1", service_date=NOW.date(), origin="FRA", destination="MAD",
            dep_utc=NOW, arr_utc=NOW + dt.timedelta(hours=2),
        )
        booking = Booking(locator="HOSTIL", created_at=NOW)
        disruption = Disruption(kind="cancelled", created_at=NOW)
        s.add_all([flight, booking, disruption])
        await s.flush()
        conv = Conversation(
            disruption_id=disruption.id, booking_id=booking.id, flight_id=flight.id, status="offered",
            created_at=NOW, updated_at=NOW,
        )
        s.add(conv)
        await s.flush()
        outbox = OutboxMessage(
            conversation_id=conv.id, idempotency_key="hostile-1", key="offer", status="sent",
            next_attempt_at=NOW, created_at=NOW,
        )
        s.add(outbox)
        await s.flush()
        delivery = Delivery(
            outbox_id=outbox.id, conversation_id=conv.id, channel=channel, provider=provider,
            provider_message_id=result.provider_message_id, status="sent", created_at=NOW, updated_at=NOW,
        )
        s.add(delivery)
        await s.flush()
        return delivery.id


async def delivery(hooks: Hooks, delivery_id: int) -> Delivery:
    async with hooks.c.db.reading() as s:
        found = await s.get(Delivery, delivery_id)
        assert found is not None
        return found


def sms(sid: str, body: str = "hola") -> dict[str, str]:
    return {"MessageSid": sid, "From": SENDER, "To": "+15550001111", "Body": body}


def whatsapp_message(**message: Any) -> bytes:
    base = {"from": SENDER[1:], "id": "wamid.hostile", "timestamp": "1764979200", "type": "text", "text": {"body": "hi"}}
    base.update(message)
    value = {"messaging_product": "whatsapp", "messages": [base]}
    return json.dumps({"entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}).encode()


# ---- provider ids of 500 characters


async def test_a_twilio_receipt_for_a_500_character_sid_finds_its_delivery_once(hooks: Hooks) -> None:
    sid = "SM" + "f" * 498
    delivery_id = await sent_delivery(hooks, "twilio", "sms", SendResult(provider="twilio", provider_message_id=sid))
    form = {"MessageSid": sid, "MessageStatus": "delivered"}
    first = await hooks.twilio(STATUS_URL, form)
    again = await hooks.twilio(STATUS_URL, form)
    assert first.status_code == again.status_code == 200, first.text
    stored = await delivery(hooks, delivery_id)
    assert stored.status == "delivered"
    assert stored.provider_message_id is not None and stored.provider_message_id.startswith(HASHED_PREFIX)
    assert await count(hooks, ProcessedEvent) == 1


async def test_a_whatsapp_message_with_a_500_character_id_is_stored_once(hooks: Hooks) -> None:
    body = whatsapp_text("wamid." + "A" * 494, "hola")
    first = await hooks.whatsapp(body)
    again = await hooks.whatsapp(body)
    assert first.status_code == again.status_code == 200, first.text
    assert await texts(hooks) == ["hola"]


# ---- error codes of 100 characters


async def test_a_status_callback_with_a_100_character_error_code_fails_the_delivery(hooks: Hooks) -> None:
    sid = "SM" + "e" * 32
    delivery_id = await sent_delivery(hooks, "twilio", "sms", SendResult(provider="twilio", provider_message_id=sid))
    code = "3" * 100
    response = await hooks.twilio(STATUS_URL, {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": code})
    assert response.status_code == 200, response.text
    stored = await delivery(hooks, delivery_id)
    assert stored.status == "failed"
    assert stored.error_code == code[:ERROR_CODE_COLUMN]
    assert stored.reason_class == "permanent"


async def test_a_whatsapp_receipt_with_an_odd_error_code_fails_the_delivery(hooks: Hooks) -> None:
    wamid = "wamid.HBgLMzQ2MDAxMTEyMjIVAgARGBI"
    delivery_id = await sent_delivery(hooks, "meta", "whatsapp", SendResult(provider="meta", provider_message_id=wamid))
    status = {"id": wamid, "status": "failed", "timestamp": "1764979200", "errors": [{"code": "x\x00" * 60}]}
    value = {"messaging_product": "whatsapp", "statuses": [status]}
    body = json.dumps({"entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}).encode()
    response = await hooks.whatsapp(body)
    assert response.status_code == 200, response.text
    stored = await delivery(hooks, delivery_id)
    assert stored.status == "failed"
    assert stored.error_code == ("x?" * 60)[:ERROR_CODE_COLUMN]


# ---- NUL


async def test_a_nul_in_an_sms_id_and_body_is_stored_and_deduplicated(hooks: Hooks) -> None:
    form = sms("SM\x00" + "a" * 31, "uno\x00dos")
    first = await hooks.twilio(SMS_URL, form)
    again = await hooks.twilio(SMS_URL, form)
    assert first.status_code == again.status_code == 200, first.text
    assert await texts(hooks) == ["uno\ufffddos"]
    async with hooks.c.db.reading() as s:
        [key] = (await s.scalars(select(ProcessedEvent.event_id))).all()
    assert key.startswith(HASHED_PREFIX)


async def test_a_nul_in_a_whatsapp_id_is_stored_and_deduplicated(hooks: Hooks) -> None:
    body = whatsapp_message(id="wamid.\u0000x")
    first = await hooks.whatsapp(body)
    again = await hooks.whatsapp(body)
    assert first.status_code == again.status_code == 200, first.text
    assert await texts(hooks) == ["hi"]


# ---- timestamps


ABSURD_TIMESTAMPS = [1e20, "1e20", 10**20, -1, "-1", "NaN", "", None, [1], {"s": 1}, True, "١٧٦٤٩٧٩٢٠٠", 253402300800]


async def test_an_absurd_timestamp_is_a_400_and_stores_nothing(hooks: Hooks) -> None:
    for timestamp in ABSURD_TIMESTAMPS:
        response = await hooks.whatsapp(whatsapp_message(timestamp=timestamp))
        assert_problem(response, 400)
    assert await count(hooks, ProcessedEvent) == 0



async def test_a_timestamp_from_the_future_is_read_as_now(hooks: Hooks) -> None:
    """9999-12-31 would open the 24 h window for ever (and overflow adding a day to it)."""
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    response = await hooks.whatsapp(whatsapp_message(timestamp="253402300799"))
    assert response.status_code == 200, response.text
    async with hooks.c.db.reading() as s:
        [received] = (await s.scalars(select(InboundMessage.received_at))).all()
    assert before <= received <= dt.datetime.now(dt.UTC)


async def test_a_bare_nan_timestamp_is_a_400(hooks: Hooks) -> None:
    body = whatsapp_message(timestamp="@").replace(b'"@"', b"NaN")
    assert b"NaN" in body
    assert_problem(await hooks.whatsapp(body), 400)


# ---- lone surrogates


async def test_lone_surrogates_in_a_text_and_an_id_are_stored_as_replacement_characters(hooks: Hooks) -> None:
    body = whatsapp_message(id="wamid.\ud800", text={"body": "a\udfffb"})
    assert b"\\ud800" in body and b"\\udfff" in body  # json.dumps escapes them, as a provider would
    response = await hooks.whatsapp(body)
    assert response.status_code == 200, response.text
    assert await texts(hooks) == ["a\ufffdb"]


# ---- deep JSON


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
async def test_json_nested_5000_deep_is_a_400(hooks: Hooks, opening: bytes) -> None:
    closing = b"]" if opening == b"[" else b"}"
    body = opening * 5000 + b"1" + closing * 5000
    assert_problem(await hooks.whatsapp(body), 400)
    assert_problem(await hooks.whatsapp(body, signed=False), 401)


async def test_an_unknown_message_type_is_acknowledged_and_ignored(hooks: Hooks) -> None:
    response = await hooks.whatsapp(whatsapp_message(type="sticker", sticker={"id": [[[]]]}))
    assert response.status_code == 200, response.text
    assert await count(hooks, InboundMessage) == 0


async def test_a_forged_twilio_call_is_a_403_problem(hooks: Hooks) -> None:
    assert_problem(await hooks.twilio(SMS_URL, sms("SM" + "a" * 32), signed=False), 403)
    assert await count(hooks, InboundMessage) == 0


async def test_a_signed_sms_from_no_phone_number_is_a_400_problem(hooks: Hooks) -> None:
    form = {**sms("SM" + "b" * 32), "From": "+٣٤٦٠٠١١١٢٢٢"}
    assert_problem(await hooks.twilio(SMS_URL, form), 400)
    assert await count(hooks, InboundMessage) == 0
