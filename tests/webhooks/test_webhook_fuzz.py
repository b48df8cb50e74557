"""Arbitrary bytes and structures at every provider webhook, signed and not: never a 5xx, never an exception.

The whole gateway answers, with the real inbound sink on PostgreSQL (the database that refuses NUL
and over-long values), so a value that gets past a parser but not into a column shows here too.
Examples are bounded and derandomized: the same inputs every run, well under a minute in all.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.webhooks.conftest import (
    SMS_URL,
    STATUS_URL,
    WA_URL,
    Hooks,
    twilio_signature,
    wa_signature,
)

FUZZ = settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Every code point, lone surrogates and NUL included (a JSON "\ud800" escape decodes to one).
ANY_CHAR = st.characters(exclude_categories=[])
ANY_TEXT = st.text(ANY_CHAR, max_size=40)
#: What a form can carry: surrogates cannot be percent-encoded as UTF-8.
FORM_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
#: Values that once failed a write: NUL, lone surrogates, ids and codes longer than their columns.
NASTY = st.sampled_from(["\x00", "wamid.\x00x", "\ud800", "x\udfffy", "😀" * 300, "A" * 600, "3" * 100, "e\u0301" * 50])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | ANY_TEXT
    | st.text("0123456789", min_size=1, max_size=14)
    | st.sampled_from(["", "\x00", "wamid.\x00", "1e20", "-1", "NaN", "1764979200", "34600111222", "+34600111222"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)


def _either(*known: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly (three times in four) the expected shape, otherwise anything at all."""
    return st.one_of(*known, *known, *known, JSON)


EPOCH = st.integers(0, 2**34).map(str)
#: Mostly a time Meta would send, so the rest of the message is read.
TIMESTAMP = st.one_of(EPOCH, EPOCH, EPOCH, SCALARS, JSON)
ID = st.one_of(NASTY, NASTY, st.text(ANY_CHAR, min_size=1, max_size=40), st.integers(150, 600).map(lambda n: "A" * n), JSON)
KIND = st.sampled_from(["text", "button", "interactive", "image", "sticker"]) | ANY_TEXT
REPLY = st.fixed_dictionaries({}, optional={"id": _either(ANY_TEXT), "title": _either(ANY_TEXT)})
WA_ID = st.sampled_from(["34600111222", "+34600111222", "1" * 16, "٣٤٦٠٠١١١٢٢٢"]) | st.text("0123456789+", max_size=20)
MESSAGE = st.fixed_dictionaries(
    {
        "from": _either(st.just("34600111222"), WA_ID, ANY_TEXT),
        "id": ID,
        "timestamp": TIMESTAMP,
        "type": st.one_of(st.just("text"), st.just("text"), KIND),
    },
    optional={
        "text": _either(st.fixed_dictionaries({"body": _either(NASTY, ANY_TEXT, st.sampled_from(["😀" * 4096, "ع" * 4096, "漢" * 4097 + "\x00"]))})),
        "button": _either(st.fixed_dictionaries({}, optional={"payload": JSON, "text": JSON})),
        "interactive": _either(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["button_reply", "list_reply"]) | ANY_TEXT},
                optional={"button_reply": _either(REPLY), "list_reply": _either(REPLY)},
            )
        ),
    },
)
STATUS = st.fixed_dictionaries(
    {
        "id": ID,
        "status": st.sampled_from(["sent", "delivered", "read", "failed"]) | JSON,
        "timestamp": TIMESTAMP,
    },
    optional={"errors": _either(st.lists(st.fixed_dictionaries({}, optional={"code": _either(NASTY, SCALARS)}), max_size=2))},
)
VALUE = st.fixed_dictionaries(
    {},
    optional={
        "messages": _either(st.lists(_either(MESSAGE), max_size=2)),
        "statuses": _either(st.lists(_either(STATUS), max_size=2)),
        "contacts": _either(st.lists(st.fixed_dictionaries({}, optional={"wa_id": _either(ANY_TEXT)}), max_size=2)),
    },
)
CHANGE = st.fixed_dictionaries({"field": st.sampled_from(["messages", "message_template_status_update"]) | JSON, "value": _either(VALUE)})
FRESH_ID = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=12, max_size=12).map(lambda t: "wamid." + t)
#: A message Meta could send, with any of its fields replaced by something hostile.
HOSTILE_MESSAGE = st.builds(
    lambda fresh, changes: {
        "from": "34600111222", "id": fresh, "timestamp": "1764979200", "type": "text", "text": {"body": "hola"}, **changes
    },
    FRESH_ID,
    st.fixed_dictionaries(
        {},
        optional={
            "from": WA_ID | NASTY,
            "id": ID,
            "timestamp": SCALARS,
            "text": st.fixed_dictionaries({"body": NASTY | ANY_TEXT | JSON}) | JSON,
            "type": KIND,
        },
    ),
)
HOSTILE_STATUS = st.builds(
    lambda fresh, changes: {"id": fresh, "status": "failed", "timestamp": "1764979200", "errors": [{"code": 131047}], **changes},
    FRESH_ID,
    st.fixed_dictionaries(
        {},
        optional={
            "id": ID,
            "status": st.sampled_from(["sent", "delivered", "read"]) | JSON,
            "timestamp": SCALARS,
            "errors": st.lists(st.fixed_dictionaries({"code": NASTY | SCALARS}), max_size=2) | JSON,
        },
    ),
)
READABLE = st.fixed_dictionaries(
    {"field": st.just("messages"), "value": st.fixed_dictionaries({"messages": st.lists(HOSTILE_MESSAGE, min_size=1, max_size=2)})}
) | st.fixed_dictionaries({"field": st.just("messages"), "value": st.fixed_dictionaries({"statuses": st.lists(HOSTILE_STATUS, min_size=1, max_size=2)})})
#: Half the payloads are readable envelopes; half go wrong anywhere.
PAYLOAD = st.one_of(
    st.fixed_dictionaries({"entry": st.lists(st.fixed_dictionaries({"changes": st.lists(READABLE, min_size=1, max_size=2)}), min_size=1, max_size=2)}),
    _either(
        st.fixed_dictionaries(
            {"entry": _either(st.lists(_either(st.fixed_dictionaries({"changes": _either(st.lists(_either(CHANGE), max_size=2))})), max_size=2))}
        )
    ),
)

TWILIO_KEYS = st.sampled_from(["MessageSid", "From", "To", "Body", "MessageStatus", "SmsStatus", "ErrorCode", "AccountSid"])
TWILIO_VALUES = (
    FORM_TEXT
    | st.sampled_from(["+34600111222", "SM" + "a" * 32, "failed", "delivered", "undelivered", "canceled", "30003", "\x00", "SM\x00"])
    | st.sampled_from(["😀" * 300, "A" * 600, "3" * 100])
    | st.integers(150, 600).map(lambda n: "f" * n)
    | st.sampled_from(["😀" * 1600, "ع" * 1700])
)
PHONES = st.sampled_from(["+34600111222", "0034 600 111 222", "+٣٤٦٠٠١١١٢٢٢", "+1", ""]) | st.text("+0123456789 ", max_size=18)
SID = st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda t: "SM" + t)
#: A form Twilio could post (an SMS, or a failed-status callback), with any fields replaced or added.
TWILIO_FORM = st.builds(
    lambda sid, base, changes: {"MessageSid": sid, **base, **changes},
    SID,
    st.sampled_from(
        [
            {"From": "+34600111222", "To": "+15550001111", "Body": "hola"},
            {"MessageStatus": "failed", "ErrorCode": "30003"},
            {"MessageStatus": "delivered"},
        ]
    ),
    st.fixed_dictionaries(
        {},
        optional={
            "MessageSid": TWILIO_VALUES,
            "From": PHONES | TWILIO_VALUES,
            "Body": TWILIO_VALUES,
            "MessageStatus": st.sampled_from(["failed", "undelivered", "delivered", "sent", "canceled"]) | TWILIO_VALUES,
            "ErrorCode": TWILIO_VALUES,
        },
    ),
) | st.dictionaries(TWILIO_KEYS | FORM_TEXT, TWILIO_VALUES, max_size=6)


def assert_answered(response: httpx.Response) -> None:
    event(f"answered {response.status_code}")
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")


@FUZZ
@given(payload=PAYLOAD, signed=st.sampled_from([True, True, True, False]))
async def test_whatsapp_structures(pg_hooks: Hooks, payload: object, signed: bool) -> None:
    body = json.dumps(payload).encode()
    response = await pg_hooks.whatsapp(body, signed=signed)
    assert_answered(response)
    if not signed:
        assert response.status_code == 401


READABLE_PAYLOAD = st.fixed_dictionaries(
    {"entry": st.lists(st.fixed_dictionaries({"changes": st.lists(READABLE, min_size=1, max_size=2)}), min_size=1, max_size=2)}
)


@FUZZ
@given(payload=READABLE_PAYLOAD)
async def test_whatsapp_messages_and_statuses(pg_hooks: Hooks, payload: object) -> None:
    """Meta's envelope around messages and statuses with hostile fields: read, stored, or refused as a whole."""
    assert_answered(await pg_hooks.whatsapp(json.dumps(payload).encode()))


@FUZZ
@given(body=st.binary(max_size=300) | st.text(ANY_CHAR, max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")))
async def test_whatsapp_bytes(pg_hooks: Hooks, body: bytes) -> None:
    assert_answered(await pg_hooks.whatsapp(body))
    assert (await pg_hooks.whatsapp(body, signed=False)).status_code == 401


@FUZZ
@given(body=st.binary(max_size=200), header=st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=80))
async def test_whatsapp_forged_signature_headers(pg_hooks: Hooks, body: bytes, header: str) -> None:
    response = await pg_hooks.http.post(WA_URL, content=body, headers={"X-Hub-Signature-256": header.encode("latin-1")})
    assert_answered(response)
    assert response.status_code == (200 if header == wa_signature(body) else 401)


@FUZZ
@given(form=TWILIO_FORM, path=st.sampled_from([SMS_URL, STATUS_URL]), signed=st.sampled_from([True, True, True, False]))
async def test_twilio_forms(pg_hooks: Hooks, form: dict[str, str], path: str, signed: bool) -> None:
    response = await pg_hooks.twilio(path, form, signed=signed)
    assert_answered(response)
    if not signed:
        assert response.status_code == 403


@FUZZ
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "multipart/form-data", "application/json", "text/plain"]
    ),
    path=st.sampled_from([SMS_URL, STATUS_URL]),
)
async def test_twilio_bytes(pg_hooks: Hooks, body: bytes, content_type: str, path: str) -> None:
    forged = twilio_signature(path, {})
    response = await pg_hooks.http.post(path, content=body, headers={"Content-Type": content_type, "X-Twilio-Signature": forged})
    assert_answered(response)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge"]) | FORM_TEXT, FORM_TEXT, max_size=4))
async def test_whatsapp_challenge(pg_hooks: Hooks, params: dict[str, str]) -> None:
    response = await pg_hooks.http.get(WA_URL, params=params)
    assert response.status_code in (200, 403)
    if response.status_code == 200:
        assert params.get("hub.verify_token") == "verify-me" and response.text == params["hub.challenge"]
