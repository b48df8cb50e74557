"""Provider messages at their documented maxima, in the scripts we ship, are accepted and stored intact."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select, text

from conversations.models import InboundMessage
from conversations.provider_values import (
    MAX_SMS_TEXT_CHARS,
    MAX_TEXT_BYTES,
    MAX_WHATSAPP_TEXT_CHARS,
    TEXT_COLUMN,
    WORST_SEALED_TEXT,
    storable_text,
)
from infra import crypto
from tests.webhooks.conftest import SMS_URL, Hooks

#: One character of each kind, repeated to the provider's maximum: 2, 3 and 4 bytes of UTF-8.
SCRIPTS = {
    "arabic": "ع",
    "cjk": "漢",
    "emoji": "😀",
}


def whatsapp_text(message_id: str, body: str, sender: str = "34600111222") -> bytes:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1234567890"},
                            "contacts": [{"profile": {"name": "x"}, "wa_id": sender}],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": message_id,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": body},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, ensure_ascii=False).encode()


async def stored_texts(hooks: Hooks) -> list[str | None]:
    async with hooks.c.db.reading() as s:
        return list((await s.scalars(select(InboundMessage.text).order_by(InboundMessage.id))).all())


async def longest_sealed(hooks: Hooks) -> int:
    async with hooks.c.db.reading() as s:
        raw = await s.scalar(text("SELECT max(length(text)) FROM inbound_messages"))
    return int(raw or 0)


def test_the_worst_case_sealed_text_fits_its_column() -> None:
    ring = crypto.Keyring.from_secrets([("k" * crypto.MAX_KEY_ID, "a-secret")], "blind")
    worst = "😀" * MAX_WHATSAPP_TEXT_CHARS
    assert len(worst.encode()) == MAX_TEXT_BYTES == 16384
    sealed = ring.encrypt(worst)
    assert len(sealed) == WORST_SEALED_TEXT == crypto.sealed_length(MAX_TEXT_BYTES) == 21906
    assert WORST_SEALED_TEXT <= TEXT_COLUMN == InboundMessage.__table__.c.text.type.length
    assert ring.decrypt(sealed) == worst


def test_a_longer_key_id_is_refused_since_columns_are_sized_for_it() -> None:
    with pytest.raises(ValueError, match="at most 16"):
        crypto.Keyring.from_secrets([("k" * (crypto.MAX_KEY_ID + 1), "a-secret")], "blind")


@pytest.mark.parametrize("script", SCRIPTS)
async def test_whatsapp_text_at_its_maximum_is_stored_intact(hooks: Hooks, script: str) -> None:
    body = SCRIPTS[script] * MAX_WHATSAPP_TEXT_CHARS
    response = await hooks.whatsapp(whatsapp_text(f"wamid.max-{script}", body))
    assert response.status_code == 200, response.text
    assert await stored_texts(hooks) == [body]
    if script == "emoji":
        assert await longest_sealed(hooks) > 8192  # what the old column refused


@pytest.mark.parametrize("script", SCRIPTS)
async def test_twilio_sms_at_its_maximum_is_stored_intact(hooks: Hooks, script: str) -> None:
    body = SCRIPTS[script] * MAX_SMS_TEXT_CHARS
    form = {"MessageSid": "SM" + "a" * 32, "From": "+34600111222", "To": "+15550001111", "Body": body}
    response = await hooks.twilio(SMS_URL, form)
    assert response.status_code == 200, response.text
    assert await stored_texts(hooks) == [body]


async def test_a_text_over_every_documented_maximum_is_cut_between_characters_not_refused(hooks: Hooks) -> None:
    body = "😀" * (MAX_WHATSAPP_TEXT_CHARS + 10) + "ع"
    response = await hooks.whatsapp(whatsapp_text("wamid.over", body))
    assert response.status_code == 200, response.text
    [kept] = await stored_texts(hooks)
    assert kept == "😀" * MAX_WHATSAPP_TEXT_CHARS
    async with hooks.c.db.reading() as s:
        assert await s.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_storable_text_cuts_between_characters() -> None:
    assert storable_text("ab漢", 4) == "ab"
    assert storable_text("ab漢", 5) == "ab漢"
    assert storable_text("a\x00b\ud800c") == "a\ufffdb\ufffdc"
