"""REBOOK_PACING__* settings and how the container picks the bucket store."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from conversations.outbox.pacing import LocalBuckets, Pacer
from conversations.outbox.ports import ChannelPace, Limit
from gateway.pacing import build_pacer, close_pacer
from gateway.settings import Settings, TwilioSettings, WhatsAppSettings
from infra.ratelimit import RedisBuckets
from tests.conversations.outbox.pacing.conftest import PACING_REDIS_URL


def _settings(**values: object) -> Settings:
    base: dict[str, object] = {
        "pii_keys": SecretStr("k1:test-pii-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        "blind_index_key": SecretStr("test-blind-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        "ops_api_keys": SecretStr("ops-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        "public_base_url": "https://rebook.example.test",
        "twilio": TwilioSettings(account_sid="AC1", auth_token=SecretStr("t"), from_number="+15550001111"),
        "whatsapp": WhatsAppSettings(phone_number_id="1099000111", token=SecretStr("t"), app_secret=SecretStr("s")),
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[arg-type, call-arg, unused-ignore]


def test_defaults_follow_the_providers_documented_limits() -> None:
    pacing = _settings().pacing
    assert (pacing.whatsapp.rate, pacing.sms.rate) == (80, 1)
    assert (pacing.slack.rate, pacing.slack.recipient_rate) == (0, 1)
    assert (pacing.telegram.rate, pacing.telegram.recipient_rate) == (30, 1)
    assert (pacing.fcm.rate, pacing.apns.rate) == (0, 0)


def test_one_env_variable_changes_one_field_and_keeps_the_channels_other_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBOOK_PACING__SMS__RATE", "100")
    monkeypatch.setenv("REBOOK_PACING__SMS__BURST", "100")
    monkeypatch.setenv("REBOOK_PACING__TELEGRAM__RECIPIENT_BURST", "3")
    monkeypatch.setenv("REBOOK_PACING__FCM__RATE", "500")
    pacing = _settings().pacing
    assert (pacing.sms.rate, pacing.sms.burst) == (100, 100)
    assert (pacing.telegram.rate, pacing.telegram.recipient_rate, pacing.telegram.recipient_burst) == (30, 1, 3)
    assert pacing.fcm.rate == 500
    assert pacing.whatsapp.rate == 80


def test_a_burst_below_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBOOK_PACING__WHATSAPP__BURST", "0.5")
    with pytest.raises(ValidationError):
        _settings()


async def test_the_provider_sender_is_the_bucket_scope_and_sms_counts_segments() -> None:
    pacer = build_pacer(_settings(), ["sms", "whatsapp", "push"])
    try:
        assert isinstance(pacer.store, LocalBuckets), "no Redis: buckets in this process"
        # Waves leave a reserve for answers: the burst holds it and one more token.
        assert pacer.paces["sms"] == ChannelPace(
            sender_id="+15550001111", per_sender=Limit(1, 6), count_segments=True, reserve=4
        )
        assert pacer.paces["whatsapp"] == ChannelPace(
            sender_id="1099000111", per_sender=Limit(80, 80), recipient_codes=frozenset({"131056"}), reserve=8
        )
        assert pacer.buckets("push", "+447700900123") == [], "a channel without a limit is not paced"
    finally:
        await close_pacer(pacer)


async def test_redis_set_means_buckets_shared_in_redis() -> None:
    pacer = build_pacer(_settings(redis_url=PACING_REDIS_URL), ["sms"])
    assert isinstance(pacer.store, RedisBuckets)
    await pacer.acquire("sms", "+447700900123")
    await close_pacer(pacer)


def test_the_sandbox_is_not_paced() -> None:
    pacer = build_pacer(Settings(_env_file=None, sandbox=True), ["sms", "whatsapp"])  # type: ignore[call-arg]
    assert isinstance(pacer, Pacer) and pacer.paces == {}
