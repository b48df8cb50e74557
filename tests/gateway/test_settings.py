"""Settings come from REBOOK_* variables, nested with `__`, and refuse development secrets in production."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from gateway.settings import DEV_BLIND_KEY, DEV_OPS_KEY, DEV_PII_KEY, Settings

PRODUCTION = {
    "REBOOK_PII_KEYS": "k2:prod-pii-secret-2,k1:prod-pii-secret-1",
    "REBOOK_BLIND_INDEX_KEY": "prod-blind-secret",
    "REBOOK_OPS_API_KEYS": "ops-key-a,ops-key-b",
}
TWILIO = {
    "REBOOK_TWILIO__ACCOUNT_SID": "AC" + "0" * 32,
    "REBOOK_TWILIO__AUTH_TOKEN": "twilio-auth-secret",
    "REBOOK_TWILIO__FROM_NUMBER": "+15550100",
}
WHATSAPP = {
    "REBOOK_WHATSAPP__PHONE_NUMBER_ID": "1234567890",
    "REBOOK_WHATSAPP__TOKEN": "graph-token-secret",
    "REBOOK_WHATSAPP__APP_SECRET": "app-secret-secret",
}


def env(monkeypatch: pytest.MonkeyPatch, *groups: dict[str, str]) -> None:
    for group in groups:
        for name, value in group.items():
            monkeypatch.setenv(name, value)


def load() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_variables_are_read_with_the_prefix_and_nested_with_double_underscore(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION, TWILIO)
    monkeypatch.setenv("REBOOK_DATABASE_URL", "postgresql+asyncpg://rebook@db/rebook")
    monkeypatch.setenv("REBOOK_HOLD_MINUTES", "12.5")
    monkeypatch.setenv("REBOOK_ON_DEADLINE", "protect")
    monkeypatch.setenv("REBOOK_TWILIO__MAX_SEGMENTS", "2")
    monkeypatch.setenv("REBOOK_TWILIO__API_BASE", "http://127.0.0.1:9999")
    monkeypatch.setenv("REBOOK_WHATSAPP__TEMPLATES", '{"disruption_notice": {"es": {"name": "aviso", "language": "es_MX"}}}')
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///ignored-without-prefix.db")

    s = load()

    assert s.database_url == "postgresql+asyncpg://rebook@db/rebook"
    assert s.hold_minutes == 12.5
    assert s.on_deadline == "protect"
    assert s.twilio.account_sid == TWILIO["REBOOK_TWILIO__ACCOUNT_SID"]
    assert s.twilio.auth_token is not None
    assert s.twilio.auth_token.get_secret_value() == "twilio-auth-secret"
    assert s.twilio.from_number == "+15550100"
    assert s.twilio.max_segments == 2
    assert s.twilio.api_base == "http://127.0.0.1:9999"
    assert s.whatsapp.templates["disruption_notice"]["es"].name == "aviso"
    assert s.whatsapp.templates["disruption_notice"]["es"].language == "es_MX"
    assert s.api_keys == ["ops-key-a", "ops-key-b"]
    assert s.pii_key_list == [("k2", "prod-pii-secret-2"), ("k1", "prod-pii-secret-1")]


def test_invalid_values_are_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv("REBOOK_ON_DEADLINE", "panic")
    with pytest.raises(ValidationError, match="on_deadline"):
        load()


def test_a_channel_without_credentials_is_disabled_and_the_report_says_which_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env(monkeypatch, PRODUCTION, WHATSAPP)
    monkeypatch.setenv("REBOOK_TWILIO__ACCOUNT_SID", TWILIO["REBOOK_TWILIO__ACCOUNT_SID"])
    monkeypatch.setenv("REBOOK_TWILIO__FROM_NUMBER", TWILIO["REBOOK_TWILIO__FROM_NUMBER"])

    s = load()

    assert not s.twilio.enabled
    assert s.whatsapp.enabled
    report = s.channel_report()
    assert report["whatsapp"] == "enabled"
    assert report["sms"].startswith("disabled:")
    assert "REBOOK_TWILIO__" in report["sms"] and "AUTH_TOKEN" in report["sms"]


def test_an_empty_secret_does_not_enable_a_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION, TWILIO, WHATSAPP)
    monkeypatch.setenv("REBOOK_TWILIO__AUTH_TOKEN", "")
    monkeypatch.setenv("REBOOK_WHATSAPP__APP_SECRET", "")

    report = load().channel_report()

    assert report["sms"].startswith("disabled:")
    assert report["whatsapp"].startswith("disabled:")
    assert "APP_SECRET" in report["whatsapp"]


def test_every_channel_enabled_with_full_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION, TWILIO, WHATSAPP)
    assert load().channel_report() == {"sms": "enabled", "whatsapp": "enabled"}


def test_the_sandbox_reports_its_fake_channels() -> None:
    assert Settings(sandbox=True, _env_file=None).channel_report() == {"sms": "sandbox", "whatsapp": "sandbox"}  # type: ignore[call-arg]


def test_default_secrets_are_refused_outside_the_sandbox() -> None:
    with pytest.raises(ValidationError) as err:
        load()
    message = str(err.value)
    for name in ("REBOOK_PII_KEYS", "REBOOK_BLIND_INDEX_KEY", "REBOOK_OPS_API_KEYS"):
        assert name in message
    assert DEV_PII_KEY not in message


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("REBOOK_PII_KEYS", f"k9:{DEV_PII_KEY}"),
        ("REBOOK_PII_KEYS", f"k2:new-real-key,k1:{DEV_PII_KEY}"),
        ("REBOOK_BLIND_INDEX_KEY", DEV_BLIND_KEY),
        ("REBOOK_OPS_API_KEYS", DEV_OPS_KEY),
        ("REBOOK_OPS_API_KEYS", f"real-ops-key, {DEV_OPS_KEY}"),
    ],
)
def test_any_one_default_secret_is_refused_and_named(monkeypatch: pytest.MonkeyPatch, name: str, default: str) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv(name, default)
    with pytest.raises(ValidationError) as err:
        load()
    refused = str(err.value).split("set ", 1)[1]
    assert name in refused
    assert all(other not in refused for other in PRODUCTION if other != name)


def test_the_sandbox_accepts_the_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    s = load()
    assert s.sandbox
    assert s.api_keys == [DEV_OPS_KEY]


def test_production_settings_are_accepted_when_every_secret_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION)
    s = load()
    assert not s.sandbox
    assert s.blind_index_key.get_secret_value() == "prod-blind-secret"


@pytest.mark.parametrize(
    ("keys", "complaint"),
    [
        ("k1:good-secret,no-key-id-here", "kid:secret"),
        ("k1:good-secret,:orphan-secret", "kid:secret"),
        ("k1:good-secret,k1:other-secret", "twice"),
    ],
)
@pytest.mark.parametrize("sandbox", ["false", "true"])
def test_a_malformed_pii_key_list_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, keys: str, complaint: str, sandbox: str
) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv("REBOOK_SANDBOX", sandbox)
    monkeypatch.setenv("REBOOK_PII_KEYS", keys)
    with pytest.raises(ValidationError, match=complaint) as err:
        load()
    assert "good-secret" not in str(err.value)


def test_secrets_are_secretstr_and_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION, TWILIO, WHATSAPP)
    monkeypatch.setenv("REBOOK_WHATSAPP__VERIFY_TOKEN", "verify-token-secret")
    s = load()

    for secret in (
        s.pii_keys,
        s.blind_index_key,
        s.ops_api_keys,
        s.twilio.auth_token,
        s.whatsapp.token,
        s.whatsapp.app_secret,
        s.whatsapp.verify_token,
    ):
        assert isinstance(secret, SecretStr)
    shown = repr(s) + str(s) + s.model_dump_json()
    for value in (*PRODUCTION.values(), *TWILIO.values(), *WHATSAPP.values(), "verify-token-secret"):
        if "secret" in value or "key" in value:
            assert value not in shown
    assert "prod-pii-secret-1" not in shown
