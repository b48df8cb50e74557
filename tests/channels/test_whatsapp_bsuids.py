"""WhatsApp business-scoped user ids in the adapter: webhook parsing, and sends by `recipient` through pywa."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from channels.whatsapp import WhatsAppChannel, parse_webhook
from conversations.ports import (
    DeliveryReceipt,
    DeliveryState,
    IdentityChanged,
    InboundText,
    OutboundMessage,
    RecipientUnreachable,
)
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer

BSUID = "US.13491208655302741918"
PARENT = "US.ENT.11815799212886844830"


def _payload(value: dict[str, Any]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "1099000111"}, **value}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}


def _text(contact: dict[str, Any], **sent: Any) -> dict[str, Any]:
    message = {"id": "wamid.A1", "timestamp": "1767261660", "type": "text", "text": {"body": "hola"}, **sent}
    return _payload({"contacts": [contact], "messages": [message]})


def _system(system: dict[str, Any], **sent: Any) -> dict[str, Any]:
    message = {"id": "wamid.S1", "timestamp": "1767261660", "type": "system", "system": {"body": "changed", **system}, **sent}
    return _payload({"messages": [message]})


def test_a_message_with_number_and_bsuid_carries_both_and_the_profile_s_username() -> None:
    contact = {"profile": {"name": "Ana", "username": "@ana.travels"}, "wa_id": "34600111222", "user_id": BSUID, "parent_user_id": PARENT}
    [event] = parse_webhook(_text(contact, **{"from": "34600111222"}))
    assert isinstance(event, InboundText)
    assert (event.sender, event.sender_bsuid, event.parent_bsuid, event.username) == ("+34600111222", BSUID, PARENT, "@ana.travels")


def test_a_message_without_a_number_is_kept_by_its_bsuid() -> None:
    """Before, a message with neither `from` nor `wa_id` was dropped: a username user could not answer."""
    [event] = parse_webhook(_text({"profile": {"name": "Ana"}, "user_id": BSUID}, from_user_id=BSUID))
    assert isinstance(event, InboundText)
    assert (event.sender, event.sender_bsuid, event.text) == ("", BSUID, "hola")


def test_the_bsuid_is_read_from_the_message_when_the_contact_lacks_it() -> None:
    [event] = parse_webhook(_text({"profile": {"name": "Ana"}}, from_user_id=BSUID))
    assert isinstance(event, InboundText) and event.sender_bsuid == BSUID


@pytest.mark.parametrize(
    "user_id",
    ["us.1349", "US1349", "US.", "US.1349\n", "US.ENT.118", "US.13 49", "A" * 300, 1349, None, ["US.1"], "US." + "1" * 129],
)
def test_what_is_not_a_bsuid_identifies_no_one(user_id: Any) -> None:
    """A parent BSUID is not the user's BSUID; anything odd is no identifier (and a message with none is skipped)."""
    assert parse_webhook(_text({"profile": {"name": "x"}, "user_id": user_id}, from_user_id=user_id)) == []
    [event] = parse_webhook(_text({"wa_id": "34600111222", "user_id": user_id}, **{"from": "34600111222"}))
    assert isinstance(event, InboundText) and (event.sender, event.sender_bsuid) == ("+34600111222", "")


def test_an_odd_username_or_parent_is_dropped_not_stored() -> None:
    contact = {"profile": {"username": "bad\nname"}, "user_id": BSUID, "parent_user_id": BSUID}
    [event] = parse_webhook(_text(contact))
    assert isinstance(event, InboundText) and (event.username, event.parent_bsuid) == ("", "")


def test_a_number_change_names_the_old_and_the_new_identifiers() -> None:
    [event] = parse_webhook(
        _system({"type": "user_changed_number", "wa_id": "34600999888", "user_id": "US.777", "parent_user_id": "US.ENT.9"}, **{"from": "34600111222"})
    )
    assert isinstance(event, IdentityChanged)
    assert (event.event_id, event.channel, event.provider) == ("wamid.S1", "whatsapp", "meta")
    assert (event.old_sender, event.old_bsuid) == ("+34600111222", "")
    assert (event.new_sender, event.new_bsuid, event.new_parent_bsuid) == ("+34600999888", "US.777", "US.ENT.9")
    assert event.at == dt.datetime.fromtimestamp(1767261660, dt.UTC)


def test_older_number_change_spellings_and_a_bsuid_only_change_are_read() -> None:
    [old] = parse_webhook(_system({"type": "customer_changed_number", "customer": "34600111222", "new_wa_id": "34600999888"}))
    assert isinstance(old, IdentityChanged) and (old.old_sender, old.new_sender, old.new_bsuid) == ("+34600111222", "+34600999888", "")
    [bsuid] = parse_webhook(_system({"type": "user_changed_user_id", "user_id": "US.777"}, from_user_id=BSUID))
    assert isinstance(bsuid, IdentityChanged) and (bsuid.old_bsuid, bsuid.new_sender, bsuid.new_bsuid) == (BSUID, "", "US.777")


@pytest.mark.parametrize(
    ("system", "sent"),
    [
        ({"type": "customer_identity_changed", "identity": "x"}, {"from": "34600111222"}),
        ({"type": "user_changed_number", "wa_id": "34600999888"}, {}),
        ({"type": "user_changed_number"}, {"from": "34600111222"}),
        ({"type": "user_changed_number", "wa_id": "not-a-number", "user_id": "nope"}, {"from": "34600111222"}),
    ],
)
def test_a_system_message_without_old_and_new_identifiers_is_ignored(system: dict[str, Any], sent: dict[str, Any]) -> None:
    assert parse_webhook(_system(system, **sent)) == []


def test_a_system_message_that_is_not_an_object_is_malformed() -> None:
    payload = _payload({"messages": [{"id": "wamid.S1", "timestamp": "1767261660", "type": "system", "system": "x"}]})
    with pytest.raises(ValueError, match="system is not an object"):
        parse_webhook(payload)


def test_a_status_names_its_recipient_by_number_and_bsuid_when_meta_does() -> None:
    status = {"id": "wamid.S", "status": "delivered", "timestamp": "1767261700", "recipient_id": "34600111222", "recipient_user_id": BSUID}
    [both] = parse_webhook(_payload({"statuses": [status]}))
    assert isinstance(both, DeliveryReceipt)
    assert (both.provider_message_id, both.state, both.recipient, both.recipient_bsuid) == ("wamid.S", DeliveryState.DELIVERED, "+34600111222", BSUID)
    del status["recipient_id"]
    [only] = parse_webhook(_payload({"statuses": [status]}))
    assert isinstance(only, DeliveryReceipt) and (only.recipient, only.recipient_bsuid) == ("", BSUID)


# ---- sends through pywa against the Graph fake ----


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraphAPI, str]]:
    fake = FakeGraphAPI()
    with LocalServer(fake.app()) as server:
        yield fake, server.url


@pytest.fixture
async def channel(graph: tuple[FakeGraphAPI, str]) -> AsyncIterator[WhatsAppChannel]:
    fake, url = graph
    wa = WhatsAppChannel(phone_number_id=fake.phone_number_id, token=fake.token, api_base=url)
    yield wa
    await wa.aclose()


def _live(to: str) -> OutboundMessage:
    return OutboundMessage(
        idempotency_key="msg-1", to=to, locale="en", body="Your flight is cancelled.",
        window_open_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )


async def test_a_send_to_a_bsuid_goes_as_recipient_and_a_send_to_a_number_as_to(
    channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str]
) -> None:
    fake, _ = graph
    by_bsuid = await channel.send(_live(BSUID))
    by_parent = await channel.send(_live(PARENT))
    by_number = await channel.send(_live("+34600111222"))
    assert fake.addressed == [("recipient", BSUID), ("recipient", PARENT), ("to", "34600111222")]
    assert all(b["recipient_type"] == "individual" for b in fake.bodies)
    assert "to" not in fake.bodies[0] and "recipient" not in fake.bodies[2]
    assert all(r.provider_message_id.startswith("wamid.") for r in (by_bsuid, by_parent, by_number))


async def test_a_bsuid_pywa_would_take_for_a_group_is_refused_before_any_request(
    channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str]
) -> None:
    """pywa 4.5 recognises digit-only BSUIDs; Meta allows letters too, which pywa would send as a group id in `to`."""
    fake, _ = graph
    with pytest.raises(RecipientUnreachable) as err:
        await channel.send(_live("ES.1a2b3c4d5e6f"))
    assert err.value.code == "unsupported_bsuid"
    assert fake.requests == []


@pytest.mark.parametrize("body", [{"to": "34600111222", "recipient": BSUID}, {"recipient": "34600111222"}, {"recipient": BSUID, "recipient_type": "group"}])
async def test_the_fake_refuses_what_the_cloud_api_refuses(graph: tuple[FakeGraphAPI, str], body: dict[str, Any]) -> None:
    fake, url = graph
    sent = {"messaging_product": "whatsapp", "type": "text", "text": {"body": "hi"}, **body}
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{url}/v21.0/{fake.phone_number_id}/messages", json=sent, headers={"Authorization": f"Bearer {fake.token}"})
    assert r.status_code == 400 and r.json()["error"]["code"] == 100
