"""Signatures as Standard Webhooks defines them, checked by two implementations that are not ours: the PyPI
`standardwebhooks` package and the standard-library receiver in docs/examples."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.outbound import payloads, signing

ROOT = Path(__file__).resolve().parents[3]


def _docs_receiver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver", ROOT / "docs" / "examples" / "webhook_receiver.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


receiver = _docs_receiver()


def _signed(secret: str, *, at: int | None = None) -> tuple[dict[str, str], bytes]:
    body = payloads.body("booking.confirmed", dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC), {"booking_id": 7, "note": "é"})
    return signing.headers(secret, "evt_42", int(time.time()) if at is None else at, body), body


def test_a_secret_is_whsec_and_32_random_bytes() -> None:
    one, two = signing.new_secret(), signing.new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(base64.b64decode(one.removeprefix("whsec_"))) == 32


def test_our_signature_is_the_reference_implementations() -> None:
    secret = signing.new_secret()
    stamp = 1_900_000_000
    body = b'{"type":"x","timestamp":"2031-01-01T00:00:00Z","data":{}}'
    expected = Webhook(secret).sign("evt_1", dt.datetime.fromtimestamp(stamp, dt.UTC), body)
    assert signing.signature(secret, "evt_1", stamp, body) == expected


def test_both_independent_verifiers_accept_a_delivery_and_read_the_payload() -> None:
    secret = signing.new_secret()
    headers, body = _signed(secret)
    parsed = Webhook(secret).verify(body, headers)
    assert parsed == receiver.verify(secret, headers, body)
    assert parsed == {"type": "booking.confirmed", "timestamp": "2031-01-02T03:04:05Z", "data": {"booking_id": 7, "note": "é"}}
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize("change", ["body", "id", "secret", "timestamp"])
def test_any_change_breaks_the_signature(change: str) -> None:
    secret = signing.new_secret()
    headers, body = _signed(secret)
    if change == "body":
        body = body.replace(b"7", b"8")
    elif change == "id":
        headers["webhook-id"] = "evt_43"
    elif change == "secret":
        secret = signing.new_secret()
    else:
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)
    with pytest.raises(receiver.Invalid):
        receiver.verify(secret, headers, body)


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_outside_five_minutes_is_refused_even_when_signed(skew: int) -> None:
    secret = signing.new_secret()
    headers, body = _signed(secret, at=int(time.time()) + skew)
    with pytest.raises(WebhookVerificationError, match="too (old|new)"):
        Webhook(secret).verify(body, headers)
    with pytest.raises(receiver.Invalid, match="tolerance"):
        receiver.verify(secret, headers, body)


def test_within_the_tolerance_and_among_several_signatures_it_verifies() -> None:
    secret, old = signing.new_secret(), signing.new_secret()
    headers, body = _signed(secret, at=int(time.time()) - 290)
    stale = signing.signature(old, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    headers["webhook-signature"] = f"{stale} {headers['webhook-signature']}"
    assert receiver.verify(secret, headers, body)["type"] == "booking.confirmed"
    assert Webhook(secret).verify(body, headers)["data"]["booking_id"] == 7


def test_personal_data_only_for_a_pii_scope() -> None:
    when = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    data = {"booking_id": 3}
    assert "locator" not in json.loads(payloads.body("offer.sent", when, data, locator="ABC123"))["data"]
    assert json.loads(payloads.body("offer.sent", when, data, locator="ABC123", pii=True))["data"]["locator"] == "ABC123"
    assert "locator" not in json.loads(payloads.body("consent.changed", when, {"passenger_id": 1}, pii=True))["data"]
