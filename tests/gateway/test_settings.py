"""Settings come from REBOOK_* variables, nested with `__`, and refuse development secrets in production."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsError

from gateway.settings import (
    DEV_BLIND_KEY,
    DEV_OPS_KEY,
    DEV_PII_KEY,
    Settings,
    secret_weakness,
    settings_problems,
)

#: 43+ characters each: what 32 random bytes look like in base64 (`openssl rand -base64 32`).
PII_2 = "prod-pii-secret-2-AtumdSXWDvtOPuJFRIwepC8uV9_jig"
PII_1 = "prod-pii-secret-1-uJBKhIWC_oFmzc7D3dfqBRAE7LSFGC"
BLIND = "prod-blind-secret-WhAUFdQE_Nw6mka7WH2mSk7tZ2cJRh"
OPS_A = "ops-key-a-pe9mZxGx-Mil9Hf1V1_Ko-L6oMzpsSw7XE6Mo"
OPS_B = "ops-key-b-efdb0d42a20c36905922d44ad02e2576e389b6"
PRODUCTION = {
    "REBOOK_PII_KEYS": f"k2:{PII_2},k1:{PII_1}",
    "REBOOK_BLIND_INDEX_KEY": BLIND,
    "REBOOK_OPS_API_KEYS": f"{OPS_A},{OPS_B}",
    "REBOOK_PUBLIC_BASE_URL": "https://rebook.example.com",
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
    assert s.api_keys == [OPS_A, OPS_B]
    assert s.pii_key_list == [("k2", PII_2), ("k1", PII_1)]


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
    assert load().channel_report() == {
        "sms": "enabled",
        "whatsapp": "enabled",
        "email": "disabled: REBOOK_EMAIL__HOST/FROM not set",
        "telegram": "disabled: REBOOK_TELEGRAM__BOT_TOKEN/BOT_USERNAME/WEBHOOK_SECRET not set",
        "push": "disabled: REBOOK_APNS__KEY_ID/TEAM_ID/KEY_FILE/TOPIC and REBOOK_FCM__CREDENTIALS_FILE/PROJECT_ID not set",
    }
    monkeypatch.setenv("REBOOK_EMAIL__HOST", "127.0.0.1")
    monkeypatch.setenv("REBOOK_EMAIL__FROM", "rebook@airline.example")
    monkeypatch.setenv("REBOOK_TELEGRAM__BOT_TOKEN", "123456789:AAF-telegram-test-token")
    monkeypatch.setenv("REBOOK_TELEGRAM__BOT_USERNAME", "RebookAirBot")
    assert load().channel_report()["telegram"].startswith("disabled:")  # without the webhook secret it would take forged taps
    monkeypatch.setenv("REBOOK_TELEGRAM__WEBHOOK_SECRET", "tg-webhook-secret_0123456789")
    monkeypatch.setenv("REBOOK_FCM__CREDENTIALS_FILE", "/etc/rebook/firebase.json")
    monkeypatch.setenv("REBOOK_FCM__PROJECT_ID", "rebook-air")
    assert load().channel_report()["push"] == "enabled (fcm only; REBOOK_APNS__KEY_ID/TEAM_ID/KEY_FILE/TOPIC not set)"
    for name, value in (("KEY_ID", "ABC123DEFG"), ("TEAM_ID", "TEAM123456"), ("KEY_FILE", "/etc/rebook/apns.p8"), ("TOPIC", "com.airline.app")):
        monkeypatch.setenv(f"REBOOK_APNS__{name}", value)
    assert load().channel_report() == {"sms": "enabled", "whatsapp": "enabled", "email": "enabled", "telegram": "enabled", "push": "enabled"}


def test_the_sandbox_reports_its_fake_channels() -> None:
    assert Settings(sandbox=True, _env_file=None).channel_report() == {  # type: ignore[call-arg]
        "sms": "sandbox",
        "whatsapp": "sandbox",
        "email": "sandbox",
        "telegram": "sandbox",
        "push": "sandbox",
    }


def test_default_secrets_are_refused_outside_the_sandbox() -> None:
    with pytest.raises(ValidationError) as err:
        load()
    message = str(err.value)
    for name in ("REBOOK_PII_KEYS", "REBOOK_BLIND_INDEX_KEY", "REBOOK_OPS_API_KEYS", "REBOOK_PUBLIC_BASE_URL"):
        assert name in message
    assert DEV_PII_KEY not in message
    lines = settings_problems(err.value)
    assert [line.split(":", 1)[0] for line in lines] == [
        "REBOOK_PII_KEYS",
        "REBOOK_OPS_API_KEYS",
        "REBOOK_BLIND_INDEX_KEY",
        "REBOOK_PUBLIC_BASE_URL",
    ]
    assert all("\n" not in line and DEV_PII_KEY not in line and DEV_BLIND_KEY not in line for line in lines)


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("REBOOK_PII_KEYS", f"k9:{DEV_PII_KEY}"),
        ("REBOOK_PII_KEYS", f"k2:{PII_2},k1:{DEV_PII_KEY}"),
        ("REBOOK_BLIND_INDEX_KEY", DEV_BLIND_KEY),
        ("REBOOK_OPS_API_KEYS", DEV_OPS_KEY),
        ("REBOOK_OPS_API_KEYS", f"{OPS_A}, {DEV_OPS_KEY}"),
    ],
)
def test_any_one_default_secret_is_refused_and_named(monkeypatch: pytest.MonkeyPatch, name: str, default: str) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv(name, default)
    with pytest.raises(ValidationError) as err:
        load()
    lines = settings_problems(err.value)
    assert len(lines) == 1
    assert lines[0].startswith(f"{name}: ") and "development default" in lines[0]


def test_the_sandbox_accepts_the_default_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    s = load()
    assert s.sandbox
    assert s.api_keys == [DEV_OPS_KEY]


def test_production_settings_are_accepted_when_every_secret_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION)
    s = load()
    assert not s.sandbox
    assert s.blind_index_key.get_secret_value() == BLIND


@pytest.mark.parametrize(
    ("keys", "complaint"),
    [
        (f"k1:{PII_1},no-key-id-here", "kid:secret"),
        (f"k1:{PII_1},:orphan-secret", "kid:secret"),
        (f"k1:{PII_1},k1:{PII_2}", "twice"),
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
    assert PII_1 not in str(err.value)


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
    assert PII_1 not in shown


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("REBOOK_PII_KEYS", "k1:a", "key 'k1'"),
        ("REBOOK_PII_KEYS", f"k2:{PII_2},k1:short-old-secret", "key 'k1'"),
        ("REBOOK_BLIND_INDEX_KEY", "blind-but-only-thirty-two-chars!", "32 characters"),
        ("REBOOK_OPS_API_KEYS", f"{OPS_A},tiny:ops", "key 2 of 2"),
        ("REBOOK_OPS_API_KEYS", "", "empty"),
    ],
)
def test_a_weak_or_missing_secret_is_refused_with_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, named: str
) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as err:
        load()
    lines = settings_problems(err.value)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{name}: ")
    assert named in lines[0]
    for secret in ("short-old-secret", "tiny", "blind-but-only-thirty-two-chars!"):
        assert secret not in lines[0]


def test_every_problem_gets_its_own_line_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBOOK_PII_KEYS", "k1:a")
    monkeypatch.setenv("REBOOK_BLIND_INDEX_KEY", "b" * 64)
    monkeypatch.setenv("REBOOK_OPS_API_KEYS", "")
    with pytest.raises(ValidationError) as err:
        load()
    lines = settings_problems(err.value)
    assert [line.split(":", 1)[0] for line in lines] == [
        "REBOOK_PII_KEYS",
        "REBOOK_OPS_API_KEYS",
        "REBOOK_BLIND_INDEX_KEY",
        "REBOOK_PUBLIC_BASE_URL",
    ]
    assert "not random" in lines[2]


@pytest.mark.parametrize(
    ("secret", "weak"),
    [
        ("efdb0d42a20c36905922d44ad02e2576e389b695a207aa5019179e57638c0b46", False),  # openssl rand -hex 32
        ("efdb0d42a20c36905922d44ad02e2576e389b695a207aa5019179e57638c0b4", True),  # 63 hex digits: 31.5 bytes
        ("pe9mZxGx-Mil9Hf1V1_Ko-L6oMzpsSw7XE6MonBL00Y", False),  # secrets.token_urlsafe(32)
        ("pe9mZxGx+Mil9Hf1V1/Ko+L6oMzpsSw7XE6MonBL00Y=", False),  # openssl rand -base64 32
        ("pe9mZxGx-Mil9Hf1V1_Ko-L6oMzpsSw7XE6MonBL00", True),  # 42 characters
        ("efdb0d42a20c36905922d44ad02e2576e389b695a2", True),  # 42 hex digits count as 21 bytes, not 31
        ("ab" * 32, True),  # long enough, but two characters repeated
    ],
)
def test_a_secret_must_hold_32_random_bytes(secret: str, weak: bool) -> None:
    weakness = secret_weakness(secret)
    assert (weakness is not None) == weak
    if weakness is not None:
        assert secret not in weakness


def test_the_public_url_must_be_set_outside_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.delenv("REBOOK_PUBLIC_BASE_URL")
    with pytest.raises(ValidationError) as err:
        load()
    [line] = settings_problems(err.value)
    assert line.startswith("REBOOK_PUBLIC_BASE_URL: not set")
    # Set on purpose (a gateway reached on loopback only), the same value is accepted.
    monkeypatch.setenv("REBOOK_PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    assert load().public_base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize("sandbox", ["false", "true"])
@pytest.mark.parametrize("url", ["rebook.example.com", "ftp://rebook.example.com", "https://"])
def test_a_public_url_that_providers_cannot_call_is_refused(monkeypatch: pytest.MonkeyPatch, sandbox: str, url: str) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv("REBOOK_SANDBOX", sandbox)
    monkeypatch.setenv("REBOOK_PUBLIC_BASE_URL", url)
    with pytest.raises(ValidationError) as err:
        load()
    [line] = settings_problems(err.value)
    assert line.startswith("REBOOK_PUBLIC_BASE_URL: must be an absolute http(s) URL")


def test_the_sandbox_keeps_its_development_defaults_and_accepts_an_empty_key_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REBOOK_SANDBOX", "true")
    monkeypatch.setenv("REBOOK_PII_KEYS", "k1:a")
    monkeypatch.setenv("REBOOK_OPS_API_KEYS", "")
    s = load()
    assert s.api_keys == []
    assert s.public_base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://rebook:pw@db:5432/rebook", "postgresql+asyncpg://rebook:pw@db:5432/rebook"),
        ("postgres://rebook:pw@db/rebook", "postgresql+asyncpg://rebook:pw@db/rebook"),
        ("postgresql+asyncpg://rebook@db/rebook", "postgresql+asyncpg://rebook@db/rebook"),
        ("sqlite:///./data/rebook.db", "sqlite+aiosqlite:///./data/rebook.db"),
        ("sqlite+aiosqlite:///rebook.db", "sqlite+aiosqlite:///rebook.db"),
    ],
)
def test_a_database_url_without_the_async_driver_runs_on_it(monkeypatch: pytest.MonkeyPatch, given: str, used: str) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv("REBOOK_DATABASE_URL", given)
    assert load().database_url == used


@pytest.mark.parametrize("url", ["postgresql+psycopg2://rebook:hunter2@db/rebook", "mysql://rebook:hunter2@db/rebook", "hunter2"])
def test_a_database_url_on_another_driver_is_refused_with_the_form_to_use(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv("REBOOK_DATABASE_URL", url)
    with pytest.raises(ValidationError) as err:
        load()
    [line] = settings_problems(err.value)
    assert line.startswith("REBOOK_DATABASE_URL: ")
    assert "use postgresql+asyncpg://USER:PASSWORD@HOST:PORT/NAME or sqlite+aiosqlite:///PATH" in line
    assert "hunter2" not in line


def test_a_bad_nested_value_names_its_nested_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv("REBOOK_TWILIO__MAX_SEGMENTS", "many")
    monkeypatch.setenv("REBOOK_SLACK__ROUTES", '[{"airports": ["FRA"]}]')
    with pytest.raises(ValidationError) as err:
        load()
    lines = settings_problems(err.value)
    assert [line.split(":", 1)[0] for line in lines] == ["REBOOK_TWILIO__MAX_SEGMENTS", "REBOOK_SLACK__ROUTES"]
    assert lines[1].endswith("(at 0.channel)")
    assert all("many" not in line for line in lines)


def test_a_variable_that_is_not_json_names_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    env(monkeypatch, PRODUCTION)
    monkeypatch.setenv("REBOOK_WHATSAPP__TEMPLATES", '{"disruption_notice": ')
    with pytest.raises(SettingsError) as err:
        load()
    assert settings_problems(err.value) == [
        "REBOOK_WHATSAPP (or one of REBOOK_WHATSAPP__*): not readable; lists and objects are written as JSON"
    ]
