"""Settings from REBOOK_* environment variables, validated once at start and injected."""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.privacy_settings import ApiKey, RetentionSettings, parse_api_keys

log = logging.getLogger(__name__)

DEV_PII_KEY = "dev-only-pii-key-change-me"
DEV_BLIND_KEY = "dev-only-blind-index-key-change-me"
DEV_OPS_KEY = "dev-ops-key"


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _parse_pii_keys(raw: str) -> list[tuple[str, str]]:
    """Parsed when settings load, so a malformed key list stops the start, not the first encryption."""
    pairs: list[tuple[str, str]] = []
    for item in raw.split(","):
        kid, _, secret = item.strip().partition(":")
        if not kid or not secret:
            raise ValueError("REBOOK_PII_KEYS entries must look like 'kid:secret'")
        if kid in dict(pairs):
            raise ValueError(f"REBOOK_PII_KEYS names key id {kid!r} twice")
        pairs.append((kid, secret))
    return pairs


class TracingSettings(BaseModel):
    """OpenTelemetry export: `none` (default), `console`, or `otlp` (OTLP/HTTP to `endpoint`)."""

    exporter: Literal["none", "console", "otlp"] = "none"
    endpoint: str | None = None
    service_name: str = "rebook"


class TemplateBinding(BaseModel):
    name: str
    language: str


def _default_templates() -> dict[str, dict[str, TemplateBinding]]:
    """One approved Meta template per message key and locale, as Meta approves each body apart."""
    languages = {"en": "en_US", "es": "es", "de": "de", "fr": "fr", "ar": "ar"}
    return {
        key: {loc: TemplateBinding(name=f"rebook_{key}", language=code) for loc, code in languages.items()}
        for key in ("disruption_notice", "escalation_notice", "broadcast_notice")
    }


class TwilioSettings(BaseModel):
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    from_number: str | None = None
    api_base: str = "https://api.twilio.com"
    max_segments: int = 4

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and _secret(self.auth_token) and self.from_number)


class WhatsAppSettings(BaseModel):
    phone_number_id: str | None = None
    token: SecretStr | None = None
    app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None
    api_base: str = "https://graph.facebook.com"
    api_version: str = "21.0"
    templates: dict[str, dict[str, TemplateBinding]] = Field(default_factory=_default_templates)

    @property
    def enabled(self) -> bool:
        return bool(self.phone_number_id and _secret(self.token) and _secret(self.app_secret))


class SlackRoute(BaseModel):
    """Escalations matching every given filter go to `channel`; an empty filter matches anything."""

    channel: str
    airports: list[str] = Field(default_factory=list)
    tiers: list[int] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)


class SlackSettings(BaseModel):
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    api_base: str = "https://slack.com/api/"
    escalation_channel: str = "rebook-escalations"
    routes: list[SlackRoute] = Field(default_factory=list)
    always_push_tiers: list[int] = Field(default_factory=list)
    card_debounce_seconds: float = Field(default=5.0, ge=0)
    voucher_amount: int = Field(default=100, gt=0)
    voucher_currency: str = "EUR"
    #: The language of agent-facing Slack text (cards, buttons, replies): one desk, one language.
    locale: str = "en"

    @property
    def enabled(self) -> bool:
        return bool(_secret(self.bot_token) and _secret(self.signing_secret))

    def report(self) -> str:
        if self.enabled:
            return "enabled"
        return "disabled: REBOOK_SLACK__BOT_TOKEN/SIGNING_SECRET not set (escalations stay on GET /v1/escalations)"


class ChannelPacing(BaseModel):
    """One channel's token buckets (0 = not paced); a token is a message, for SMS a segment."""

    rate: float = Field(default=0.0, ge=0)
    burst: float | None = Field(default=None, ge=1)
    recipient_rate: float = Field(default=0.0, ge=0)
    recipient_burst: float | None = Field(default=None, ge=1)
    sender: str | None = None
    recipient_limit_codes: list[str] = Field(default_factory=list)


_PACING_DEFAULTS: dict[str, dict[str, Any]] = {
    "whatsapp": {"rate": 80, "recipient_limit_codes": ["131056"]},  # per phone number id; 131056 = pair limit
    "sms": {"rate": 1},  # a long code: ~1 segment/s; short code or toll-free: set higher
    "slack": {"recipient_rate": 1},  # chat.postMessage: ~1/s per channel
    "telegram": {"rate": 30, "recipient_rate": 1},  # 30/s per bot, 1/s per chat
}


class PacingSettings(BaseModel):
    """Defaults from the providers' documented limits; `REBOOK_PACING__SMS__RATE=100` for a short code.
    FCM/APNs publish no fixed rate: unpaced unless configured."""

    whatsapp: ChannelPacing = Field(default_factory=lambda: ChannelPacing(**_PACING_DEFAULTS["whatsapp"]))
    sms: ChannelPacing = Field(default_factory=lambda: ChannelPacing(**_PACING_DEFAULTS["sms"]))
    slack: ChannelPacing = Field(default_factory=lambda: ChannelPacing(**_PACING_DEFAULTS["slack"]))
    telegram: ChannelPacing = Field(default_factory=lambda: ChannelPacing(**_PACING_DEFAULTS["telegram"]))
    fcm: ChannelPacing = Field(default_factory=ChannelPacing)
    apns: ChannelPacing = Field(default_factory=ChannelPacing)

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: Any) -> Any:
        """Setting one field of a channel (say its burst) keeps that channel's other defaults."""
        if not isinstance(data, dict):
            return data
        return {
            name: {**_PACING_DEFAULTS.get(name, {}), **value} if isinstance(value, dict) else value
            for name, value in data.items()
        }

    def for_channel(self, name: str) -> ChannelPacing:
        value = getattr(self, name, None)
        return value if isinstance(value, ChannelPacing) else ChannelPacing()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REBOOK_", env_nested_delimiter="__", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./.rebook/rebook.db"
    redis_url: str | None = None
    ops_api_keys: SecretStr = SecretStr(DEV_OPS_KEY)
    public_base_url: str = "http://127.0.0.1:8000"
    sandbox: bool = False
    pii_keys: SecretStr = SecretStr(f"k1:{DEV_PII_KEY}")
    blind_index_key: SecretStr = SecretStr(DEV_BLIND_KEY)
    airline_name: str = "Rebook Air"
    airline_carrier_is_eu: bool = True
    help_contact: str = "+1 555 0100 · rebook.example/help"
    reminder_minutes: float = 10
    deadline_minutes: float = 25
    max_reminders: int = 1
    on_deadline: Literal["escalate", "protect"] = "escalate"
    hold_minutes: float = 40
    max_options: int = 3
    batch_size: int = 100
    db_pool_size: int = 10
    #: Crash recovery: a dead worker's job is redelivered, its claimed outbox rows reclaimed, a stalled disruption re-driven.
    job_idle_timeout_s: float = Field(default=45, gt=0)
    outbox_claim_ttl_s: float = Field(default=60, gt=0)
    recover_stall_s: float = Field(default=60, gt=0)
    #: While any worker generates options, first messages go out at most one round this often (answers
    #: always go): seats first, then words.
    dispatch_defer_s: float = Field(default=10.0, ge=0)
    #: After a round smaller than a batch, the dispatcher waits for a ring, then this long, and takes
    #: the small-round turn (one per linger across workers), so one round sends what several commits
    #: wrote (a round costs ~7.5 ms of worker CPU whatever it carries).
    dispatch_linger_s: float = Field(default=0.03, ge=0)
    #: Jobs (assess, fan-out links) one worker runs at once.
    worker_jobs: int = Field(default=3, ge=1)
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9108, ge=0, le=65535)
    kpi_window_hours: float = Field(default=24, gt=0)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    pacing: PacingSettings = Field(default_factory=PacingSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        _parse_pii_keys(_secret(self.pii_keys))
        parse_api_keys(_secret(self.ops_api_keys))
        if self.sandbox:
            return self
        defaults = {
            "REBOOK_PII_KEYS": DEV_PII_KEY in _secret(self.pii_keys),
            "REBOOK_BLIND_INDEX_KEY": _secret(self.blind_index_key) == DEV_BLIND_KEY,
            "REBOOK_OPS_API_KEYS": DEV_OPS_KEY in self.api_keys,
        }
        bad = [name for name, is_default in defaults.items() if is_default]
        if bad:
            raise ValueError(f"default development secrets refused outside the sandbox: set {', '.join(bad)}")
        return self

    @property
    def api_keys(self) -> list[str]:
        return [k.secret for k in self.scoped_api_keys]

    @property
    def scoped_api_keys(self) -> list[ApiKey]:
        """`key` has every scope; `key:consent:read+dsr:export` only those listed."""
        return parse_api_keys(_secret(self.ops_api_keys))

    @property
    def pii_key_list(self) -> list[tuple[str, str]]:
        """`kid:secret,kid:secret` — the first one encrypts, all of them decrypt."""
        return _parse_pii_keys(_secret(self.pii_keys))

    def channel_report(self) -> dict[str, str]:
        """Which channels run, and why the others don't (logged at start)."""
        if self.sandbox:
            return {"sms": "sandbox", "whatsapp": "sandbox"}
        return {
            "sms": "enabled" if self.twilio.enabled else "disabled: REBOOK_TWILIO__ACCOUNT_SID/AUTH_TOKEN/FROM_NUMBER not set",
            "whatsapp": "enabled"
            if self.whatsapp.enabled
            else "disabled: REBOOK_WHATSAPP__PHONE_NUMBER_ID/TOKEN/APP_SECRET not set",
        }
