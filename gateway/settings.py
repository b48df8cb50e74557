"""Settings from REBOOK_* environment variables, validated once at start and injected."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from consent.retention import RetentionPolicy
from gateway.auth import ApiKey, parse_api_keys
from gateway.care_settings import CareSettings
from gateway.choice_settings import ChoicesSettings
from gateway.pss_booking import PssBookingSettings
from infra.db import async_url

log = logging.getLogger(__name__)

DEV_PII_KEY = "dev-only-pii-key-change-me"
DEV_BLIND_KEY = "dev-only-blind-index-key-change-me"
DEV_OPS_KEY = "dev-ops-key"


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


#: A secret we choose must carry 32 random bytes: 64 characters if it is hex (4 bits each), else 43
#: (base64 carries 6 bits a character: `openssl rand -base64 32`, `secrets.token_urlsafe(32)`); and at
#: least 8 distinct characters, so that a repeated letter of the right length is not taken for random.
MIN_SECRET_HEX = 64
MIN_SECRET_CHARS = 43
MIN_SECRET_DISTINCT = 8
_HEX = re.compile(r"[0-9a-fA-F]+")
HOW_TO_MAKE = "make one with `openssl rand -base64 32`"


def secret_weakness(secret: str) -> str | None:
    """Why a secret is weaker than 32 random bytes, or None; never repeats the secret itself."""
    needed = MIN_SECRET_HEX if _HEX.fullmatch(secret) else MIN_SECRET_CHARS
    if len(secret) < needed:
        kind = "hex digits" if needed == MIN_SECRET_HEX else "characters"
        return f"is too short: {len(secret)} {kind} where 32 random bytes take {needed}; {HOW_TO_MAKE}"
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        return f"repeats fewer than {MIN_SECRET_DISTINCT} distinct characters, so it is not random; {HOW_TO_MAKE}"
    return None


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


class RetentionSettings(BaseModel):
    """Days each kind of record is kept (`REBOOK_RETENTION__CONTENT_DAYS=90`, …)."""

    content_days: float = Field(default=90, gt=0)
    delivery_days: float = Field(default=90, gt=0)
    booking_days: float = Field(default=7 * 365.25, gt=0)
    audit_days: float = Field(default=7 * 365.25, gt=0)
    event_days: float = Field(default=30, gt=0)
    purge_every_minutes: float = Field(default=60, gt=0)

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            content=dt.timedelta(days=self.content_days),
            deliveries=dt.timedelta(days=self.delivery_days),
            bookings=dt.timedelta(days=self.booking_days),
            audit=dt.timedelta(days=self.audit_days),
            events=dt.timedelta(days=self.event_days),
        )


class AdminSettings(BaseModel):
    """The admin listener: /metrics, /docs and /openapi.json stay off the port that faces providers' webhooks."""

    host: str = "127.0.0.1"
    #: `0`: no admin listener (the routes are then nowhere, unless `ON_PUBLIC_PORT`).
    port: int = Field(default=8001, ge=0, le=65535)
    #: Also answer the admin routes on the public listener (only behind a proxy that hides them).
    on_public_port: bool = False


class RateLimitSettings(BaseModel):
    """Requests a minute on /v1 per API key and per client address, so one caller cannot starve the others (0 = none)."""

    per_key_per_minute: int = Field(default=1200, ge=0)
    per_ip_per_minute: int = Field(default=1200, ge=0)


class LogSettings(BaseModel):
    """`json`: one JSON object a line for a log shipper; `text` for people; `auto`: text on a terminal, else JSON."""

    format: Literal["auto", "json", "text"] = "auto"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


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


def _pool(first: str | None, more: str) -> tuple[str, ...]:
    """A sender pool from the singular setting and a comma-separated list, in order, without repeats."""
    return tuple(dict.fromkeys(n.strip() for n in (first or "", *more.split(",")) if n.strip()))


class TwilioSettings(BaseModel):
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    from_number: str | None = None
    #: More numbers (or Messaging Service SIDs) to send from, comma-separated: each is its own lane and bucket.
    from_numbers: str = ""
    api_base: str = "https://api.twilio.com"
    max_segments: int = 4
    #: Most open connections to the API from one process (sends beyond it wait for a free one).
    max_connections: int = Field(default=64, ge=1)

    @property
    def numbers(self) -> tuple[str, ...]:
        return _pool(self.from_number, self.from_numbers)

    @property
    def enabled(self) -> bool:
        return bool(self.account_sid and _secret(self.auth_token) and self.numbers)


class WhatsAppSettings(BaseModel):
    phone_number_id: str | None = None
    #: More business phone number ids to send from, comma-separated: each is its own lane and bucket.
    phone_number_ids: str = ""
    token: SecretStr | None = None
    app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None
    api_base: str = "https://graph.facebook.com"
    api_version: str = "21.0"
    templates: dict[str, dict[str, TemplateBinding]] = Field(default_factory=_default_templates)
    #: Most open connections to the API from one process (sends beyond it wait for a free one).
    max_connections: int = Field(default=64, ge=1)

    @property
    def numbers(self) -> tuple[str, ...]:
        return _pool(self.phone_number_id, self.phone_number_ids)

    @property
    def enabled(self) -> bool:
        return bool(self.numbers and _secret(self.token) and _secret(self.app_secret))


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
    #: Most open connections to the Web API from one process.
    max_connections: int = Field(default=64, ge=1)
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
        return "disabled: REBOOK_SLACK__BOT_TOKEN/SIGNING_SECRET not set (agents work escalations through /v1/escalations)"


class PageSettings(BaseModel):
    """The passenger page (`/p/<token>`): how long a link opens it, how often one address may ask (per process)."""

    token_days: float = Field(default=14, gt=0)
    requests_per_minute: int = Field(default=60, ge=1)
    #: SMS and WhatsApp texts carry the page link too (an SMS drops it before an option when the budget is tight);
    #: e-mail always links it, its options are buttons on the page.
    in_texts: bool = True

    @property
    def token_ttl(self) -> dt.timedelta:
        return dt.timedelta(days=self.token_days)


class EmailSettings(BaseModel):
    """SMTP relay for the e-mail channel (SES's SMTP interface, Postmark, any relay): `REBOOK_EMAIL__HOST`, …"""

    model_config = {"populate_by_name": True}

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    #: The From address (`REBOOK_EMAIL__FROM`), also the sender of the channel's single lane.
    from_address: str | None = Field(default=None, alias="from")
    tls: Literal["starttls", "tls", "none"] = "starttls"
    #: Where `List-Unsubscribe`'s mailto goes; the From address when unset.
    unsubscribe_mailbox: str | None = None
    timeout_s: float = Field(default=10.0, gt=0)

    @property
    def numbers(self) -> tuple[str, ...]:
        return (self.from_address,) if self.from_address else ()

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.from_address)


class TelegramSettings(BaseModel):
    """A Telegram bot (`REBOOK_TELEGRAM__BOT_TOKEN`, …): sends inline keyboards, takes taps on `POST /webhooks/telegram`."""

    bot_token: SecretStr | None = None
    #: The bot's @username without the @: deep links `https://t.me/<bot>?start=<token>` name it.
    bot_username: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
    #: Telegram sends it in `X-Telegram-Bot-Api-Secret-Token` (setWebhook `secret_token`): 1-256 of A-Z a-z 0-9 _ -.
    webhook_secret: SecretStr | None = None
    api_base: str = "https://api.telegram.org"
    #: How long a deep link opts a passenger in, once shown (on the page, in a confirmation).
    link_days: float = Field(default=14, gt=0)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value() and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("Telegram takes 1-256 characters of A-Z, a-z, 0-9, _ and - as a webhook secret")
        return value

    @property
    def numbers(self) -> tuple[str, ...]:
        return (self.bot_username,) if self.bot_username else ()

    @property
    def enabled(self) -> bool:
        return bool(_secret(self.bot_token) and self.bot_username and _secret(self.webhook_secret))

    @property
    def link_ttl(self) -> dt.timedelta:
        return dt.timedelta(days=self.link_days)


class ApnsSettings(BaseModel):
    """Apple's push service for iOS devices, token-based: a .p8 auth key, its key id, the team id and the app's bundle id."""

    key_id: str | None = None
    team_id: str | None = None
    #: The APNs auth key (.p8, PKCS#8 PEM) as downloaded from the developer account.
    key_file: str | None = None
    #: The app's bundle id (`apns-topic`).
    topic: str | None = None
    #: Production; `https://api.sandbox.push.apple.com` for development builds' tokens.
    api_base: str = "https://api.push.apple.com"
    #: A CA bundle to trust instead of the system's (a TLS-inspecting proxy; the tests' local fake).
    ca_file: str | None = None

    @property
    def numbers(self) -> tuple[str, ...]:
        return ("apns",)

    @property
    def enabled(self) -> bool:
        return bool(self.key_id and self.team_id and self.key_file and self.topic)


class FcmSettings(BaseModel):
    """Firebase Cloud Messaging for Android devices: the project's service-account JSON and its project id."""

    credentials_file: str | None = None
    project_id: str | None = None
    api_base: str = "https://fcm.googleapis.com"

    @property
    def numbers(self) -> tuple[str, ...]:
        return ("fcm",)

    @property
    def enabled(self) -> bool:
        return bool(self.credentials_file and self.project_id)


class PushSettings(BaseModel):
    """The app's push channel over APNs and FCM (`REBOOK_APNS__*`, `REBOOK_FCM__*`): neither says whether a push was seen."""

    #: A push neither opened nor acted on this long after it was handed over goes to the passenger's next channel.
    fallback_after_s: float = Field(default=300, gt=0)
    _apns: ApnsSettings = PrivateAttr(default_factory=ApnsSettings)
    _fcm: FcmSettings = PrivateAttr(default_factory=FcmSettings)

    @property
    def apns(self) -> ApnsSettings:
        return self._apns

    @property
    def fcm(self) -> FcmSettings:
        return self._fcm

    @property
    def numbers(self) -> tuple[str, ...]:
        return ("apns", "fcm")

    @property
    def enabled(self) -> bool:
        return self._apns.enabled or self._fcm.enabled

    def report(self) -> str:
        on = [name for name, service in (("apns", self._apns), ("fcm", self._fcm)) if service.enabled]
        off = [
            variables
            for service, variables in (
                (self._apns, "REBOOK_APNS__KEY_ID/TEAM_ID/KEY_FILE/TOPIC"),
                (self._fcm, "REBOOK_FCM__CREDENTIALS_FILE/PROJECT_ID"),
            )
            if not service.enabled
        ]
        if not on:
            return f"disabled: {' and '.join(off)} not set"
        return "enabled" + (f" ({', '.join(on)} only; {' and '.join(off)} not set)" if off else "")


class SesSettings(BaseModel):
    """SES bounces and complaints delivered by SNS to `POST /webhooks/ses`."""

    #: Hosts SNS signing certificates may come from, comma-separated, `*` matching one label.
    cert_hosts: str = "sns.*.amazonaws.com,sns.*.amazonaws.com.cn"
    #: Topics accepted, comma-separated; empty accepts any topic whose message is correctly signed.
    topic_arns: str = ""

    @property
    def cert_host_patterns(self) -> tuple[str, ...]:
        return tuple(h.strip().lower() for h in self.cert_hosts.split(",") if h.strip())

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in self.topic_arns.split(",") if t.strip())


class WebhooksSettings(BaseModel):
    """Outbound webhooks to the airline's systems (docs/webhooks.md): retries, circuit, timeouts."""

    #: Seconds to wait after each failed attempt, comma-separated (8 attempts over about 27.6 hours).
    retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    #: Each wait is lengthened by up to this share, at random, so retries of many deliveries spread.
    jitter: float = Field(default=0.1, ge=0, le=1)
    #: Failed attempts in a row, spanning at least `circuit_period_s`, that disable an endpoint.
    circuit_failures: int = Field(default=10, ge=1)
    circuit_period_s: float = Field(default=86400, ge=0)
    timeout_s: float = Field(default=15, gt=0)
    connect_timeout_s: float = Field(default=5, gt=0)
    #: Deliveries one worker has in flight.
    concurrency: int = Field(default=16, ge=1)
    #: How often a worker routes new events and sends what is due.
    poll_s: float = Field(default=1.0, gt=0)
    #: Plain http endpoints on 127.0.0.1, ::1 or localhost (always allowed in the sandbox); anything else needs https.
    allow_http_loopback: bool = False

    @field_validator("retry_schedule")
    @classmethod
    def _delays(cls, value: str) -> str:
        try:
            delays = [float(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise ValueError("seconds after each failed attempt, comma-separated (e.g. 5,300,1800)") from None
        if not delays or any(d < 0 for d in delays):
            raise ValueError("at least one wait, none negative")
        return value

    @property
    def schedule(self) -> tuple[float, ...]:
        return tuple(float(part) for part in self.retry_schedule.split(",") if part.strip())


class LoyaltyWeightSettings(BaseModel):
    """Minutes of arrival delay a met loyalty preference is worth in ranking (docs/loyalty.md); 0 turns one off."""

    preferred_cabin: float = Field(default=60.0, ge=0, le=600)
    departure_window: float = Field(default=45.0, ge=0, le=600)
    nonstop: float = Field(default=45.0, ge=0, le=600)


class RankingSettings(BaseModel):
    """How loyalty enters ranking (docs/loyalty.md), and how hard a remote loyalty system is asked while assessing."""

    loyalty_weights: LoyaltyWeightSettings = Field(default_factory=LoyaltyWeightSettings)
    #: Profile calls in flight at once to a remote loyalty system (`REBOOK_PSS__ADAPTER=http`).
    loyalty_concurrency: int = Field(default=16, ge=1, le=256)
    #: The whole fetch's budget per disruption: contacts not answered by then keep the imported tier, miles and preferences.
    loyalty_timeout_s: float = Field(default=2.0, gt=0, le=60)


class PssSettings(BaseModel):
    """The airline's PSS, inventory and loyalty (docs/pss.md): the built-in tables, or `HttpPss` on docs/pss.openapi.yaml."""

    #: sql: rebook's own tables are the airline's systems (the default); http: a PSS behind the REST contract.
    adapter: Literal["sql", "http"] = "sql"
    base_url: str | None = None
    token: SecretStr | None = None
    #: Connections the one pooled client keeps to the PSS at most (requests beyond it wait up to `pool_timeout_s`).
    pool_size: int = Field(default=16, ge=1)
    connect_timeout_s: float = Field(default=3, gt=0)
    #: A PSS answering later than this is taken as unavailable: the outcome is asked again, never assumed.
    read_timeout_s: float = Field(default=10, gt=0)
    pool_timeout_s: float = Field(default=5, gt=0)

    @model_validator(mode="after")
    def _http_needs_where_and_who(self) -> PssSettings:
        if self.adapter == "http" and (not self.base_url or self.token is None or not self.token.get_secret_value()):
            raise ValueError("adapter http needs REBOOK_PSS__BASE_URL and REBOOK_PSS__TOKEN")
        return self


class RightsSettings(BaseModel):
    """Who licensed the operating carriers: it decides which passenger-rights regime (EU261, UK261, APPR) a claim falls under."""

    #: eu (an EU, EEA or Swiss licence), uk (CAA), ca or other; unset: eu when AIRLINE_CARRIER_IS_EU, else other.
    licence: Literal["eu", "uk", "ca", "other"] | None = None
    #: APPR size: large = 2 million passengers or more in each of the two preceding calendar years.
    carrier_size: Literal["large", "small"] = "large"
    #: Operating carriers licensed otherwise, by IATA code, as JSON: {"BA": "uk", "AC": "ca"}.
    carriers: dict[str, Literal["eu", "uk", "ca", "other"]] = Field(default_factory=dict)


class FlightStatusSource(BaseModel):
    """One provider pushing to `POST /webhooks/flightstatus/<name>`."""

    #: HMAC-SHA256 key(s) of its signatures, comma-separated while one is rotated out; empty refuses every push.
    secret: SecretStr = SecretStr("")

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.secret.get_secret_value().split(",") if k.strip())


class FlightStatusSettings(BaseModel):
    """Flight-status providers: signed pushes (`sources`, as JSON) and a REST API polled for watched flights."""

    #: `{"acme": {"secret": "..."}}`: each name is a path of `POST /webhooks/flightstatus/<name>`.
    sources: dict[str, FlightStatusSource] = Field(default_factory=dict)
    #: A push signed longer ago (or further ahead) than this is refused as a replay.
    replay_window_s: float = Field(default=300, gt=0)
    #: The REST status API (`GET <poll_url>/flights/<carrier><number>/<date>`); unset: no poller.
    poll_url: str | None = None
    poll_api_key: SecretStr | None = None
    #: The name the poller's updates carry (their idempotency is per source and message).
    poll_source: str = Field(default="poll", pattern=r"^[a-z0-9_-]{1,32}$")
    poll_interval_s: float = Field(default=60, gt=0)
    #: Flights watched: those with booked passengers departing within this many hours.
    horizon_hours: float = Field(default=24, gt=0)
    poll_concurrency: int = Field(default=8, ge=1)
    poll_timeout_s: float = Field(default=10, gt=0)

    @field_validator("sources")
    @classmethod
    def _names(cls, value: dict[str, FlightStatusSource]) -> dict[str, FlightStatusSource]:
        for name in value:
            if not re.fullmatch(r"[a-z0-9_-]{1,32}", name):
                raise ValueError(f"source name {name!r} must be 1-32 of a-z, 0-9, _ and -")
        return value


class ChannelPacing(BaseModel):
    """One channel's token buckets (0 = not paced); a token is a message, for SMS a segment."""

    rate: float = Field(default=0.0, ge=0)
    burst: float | None = Field(default=None, ge=1)
    recipient_rate: float = Field(default=0.0, ge=0)
    recipient_burst: float | None = Field(default=None, ge=1)
    sender: str | None = None
    recipient_limit_codes: list[str] = Field(default_factory=list)
    #: Tokens of each sender's bucket kept for answers (options after a tap, confirmations, agent replies):
    #: waves and broadcasts leave them, so an answer need not wait behind a draining wave.
    reserve: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _reserve_fits(self) -> ChannelPacing:
        if self.rate > 0 and self.burst is not None and self.reserve > self.burst - 1:
            raise ValueError("burst must be at least the reserve plus one, or only answers would ever be sent")
        return self


_PACING_DEFAULTS: dict[str, dict[str, Any]] = {
    # per phone number id; 131056 = pair limit; 8 of the 80 a second kept for answers
    "whatsapp": {"rate": 80, "reserve": 8, "recipient_limit_codes": ["131056"]},
    # A long code: ~1 segment/s (short code or toll-free: set higher). Waves leave 4 segments (the longest SMS we
    # send) for answers, so an answer is handed over at once even after a long wave message; the burst is 6. Twilio
    # queues what comes faster than a number's rate: waves keep ~1-4 segments queued there, never the reserve.
    "sms": {"rate": 1, "reserve": 4},
    "slack": {"recipient_rate": 1},  # chat.postMessage: ~1/s per channel
    "telegram": {"rate": 30, "recipient_rate": 1},  # 30/s per bot, 1/s per chat
    # No published rate; 429 TooManyRequests is one device sent too much (its message waits, not the lane).
    "apns": {"recipient_limit_codes": ["TooManyRequests"]},
}


class PacingSettings(BaseModel):
    """Defaults from the providers' documented limits; `REBOOK_PACING__SMS__RATE=100` for a short code.
    FCM/APNs publish no fixed rate: unpaced unless configured."""

    whatsapp: ChannelPacing = Field(default_factory=lambda: ChannelPacing(**_PACING_DEFAULTS["whatsapp"]))
    sms: ChannelPacing = Field(default_factory=lambda: ChannelPacing(**_PACING_DEFAULTS["sms"]))
    slack: ChannelPacing = Field(default_factory=lambda: ChannelPacing(**_PACING_DEFAULTS["slack"]))
    telegram: ChannelPacing = Field(default_factory=lambda: ChannelPacing(**_PACING_DEFAULTS["telegram"]))
    fcm: ChannelPacing = Field(default_factory=ChannelPacing)
    apns: ChannelPacing = Field(default_factory=lambda: ChannelPacing(**_PACING_DEFAULTS["apns"]))

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
    # `.env` in the working directory too; the environment wins over it.
    model_config = SettingsConfigDict(
        env_prefix="REBOOK_", env_nested_delimiter="__", extra="ignore", env_file=".env", env_file_encoding="utf-8"
    )

    database_url: str = "sqlite+aiosqlite:///./.rebook/rebook.db"
    redis_url: str | None = None
    ops_api_keys: SecretStr = SecretStr(DEV_OPS_KEY)
    public_base_url: str = "http://127.0.0.1:8000"
    sandbox: bool = False
    #: Messages the in-memory sandbox keeps (the oldest go first); what was sent stays in the conversation log.
    sandbox_buffer: int = Field(default=10_000, ge=1)
    pii_keys: SecretStr = SecretStr(f"k1:{DEV_PII_KEY}")
    blind_index_key: SecretStr = SecretStr(DEV_BLIND_KEY)
    airline_name: str = "Rebook Air"
    airline_carrier_is_eu: bool = True
    help_contact: str = "+1 555 0100 · rebook.example/help"
    reminder_minutes: float = 10
    deadline_minutes: float = 25
    max_reminders: int = 1
    on_deadline: Literal["escalate", "protect"] = "escalate"
    #: "protect": the fan-out books each booking's best option before the first message, which says so and offers
    #: the other options (docs/protect-first.md); silence keeps the protection. "offer": the passenger chooses first.
    first_contact: Literal["offer", "protect"] = "offer"
    #: A booked passenger may choose again (the earlier seat released, the new one sold at once) until this long before departure.
    change_cutoff_minutes: float = Field(default=120, ge=0)
    hold_minutes: float = 40
    #: A delay (or a growing one) re-offers a booking once it reaches this, or breaks a connection; shorter delays are only told.
    delay_threshold_minutes: float = Field(default=180, gt=0)
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
    #: A lane claims what its bucket can send within this long: what an answer may wait behind.
    dispatch_lane_horizon_s: float = Field(default=0.25, ge=0)
    #: Sends one worker keeps in flight. Against a provider answering in ~0.1 s a worker hands over at most
    #: ~10x this many messages a second, so with pacing off (or short codes) 64 is the ceiling. bench/wave.py,
    #: 10 x 5,000 passengers, 2 workers, quiet box: 64 -> 69.6 s (398 messages/s, 1.8 ms of worker CPU a
    #: message); 1024 with 400-row passes and record groups of 256 -> 22.7 s (1,875/s, 0.9 ms). Raise the
    #: channels' MAX_CONNECTIONS with it.
    dispatch_concurrency: int = Field(default=64, ge=1)
    #: Rows one dispatcher pass claims at most: a pass's statements cost about the same whatever it carries.
    dispatch_batch: int = Field(default=100, ge=1)
    #: Completed sends recorded in one transaction at most.
    dispatch_record_batch: int = Field(default=64, ge=1)
    #: Jobs (assess, fan-out links) one worker runs at once.
    worker_jobs: int = Field(default=3, ge=1)
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9108, ge=0, le=65535)
    kpi_window_hours: float = Field(default=24, gt=0)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    pacing: PacingSettings = Field(default_factory=PacingSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    page: PageSettings = Field(default_factory=PageSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    apns: ApnsSettings = Field(default_factory=ApnsSettings)
    fcm: FcmSettings = Field(default_factory=FcmSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    ses: SesSettings = Field(default_factory=SesSettings)
    flightstatus: FlightStatusSettings = Field(default_factory=FlightStatusSettings)
    webhooks: WebhooksSettings = Field(default_factory=WebhooksSettings)
    #: Two-phase booking against a remote PSS (docs/booking-two-phase.md); used only when the PSS is not the built-in store.
    pss_booking: PssBookingSettings = Field(default_factory=PssBookingSettings)
    rights: RightsSettings = Field(default_factory=RightsSettings)
    choices: ChoicesSettings = Field(default_factory=ChoicesSettings)
    care: CareSettings = Field(default_factory=CareSettings)
    pss: PssSettings = Field(default_factory=PssSettings)
    ranking: RankingSettings = Field(default_factory=RankingSettings)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """`postgresql://…` and `sqlite://…` run on the async drivers; any other driver is refused by name."""
        return async_url(value)

    @field_validator("public_base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://rebook.example.com (the URL providers call)")
        return value

    @model_validator(mode="after")
    def _push_services(self) -> Settings:
        """The push channel is one section in the registry; its two services keep their own variables."""
        self.push._apns, self.push._fcm = self.apns, self.fcm
        return self

    @model_validator(mode="after")
    def _refuse_weak_settings(self) -> Settings:
        """Outside the sandbox, refuse what would start and then fail quietly: one line per problem."""
        _parse_pii_keys(_secret(self.pii_keys))
        parse_api_keys(_secret(self.ops_api_keys))
        if self.sandbox:
            return self
        problems = self._pii_problems() + self._ops_key_problems()
        blind = _secret(self.blind_index_key)
        if blind == DEV_BLIND_KEY:
            problems.append("REBOOK_BLIND_INDEX_KEY: is the development default; set your own secret")
        elif (weakness := secret_weakness(blind)) is not None:
            problems.append(f"REBOOK_BLIND_INDEX_KEY: {weakness}")
        if "public_base_url" not in self.model_fields_set:
            # The default only works on one laptop; anywhere else every Twilio signature fails as forged.
            problems.append(
                "REBOOK_PUBLIC_BASE_URL: not set; set the URL providers call (e.g. https://rebook.example.com),"
                " Twilio signatures are checked against it"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _pii_problems(self) -> list[str]:
        problems = []
        for kid, secret in _parse_pii_keys(_secret(self.pii_keys)):
            if DEV_PII_KEY in secret:
                problems.append(f"REBOOK_PII_KEYS: key {kid!r} is the development default; set your own secret")
            elif (weakness := secret_weakness(secret)) is not None:
                problems.append(f"REBOOK_PII_KEYS: the secret of key {kid!r} {weakness}")
        return problems

    def _ops_key_problems(self) -> list[str]:
        keys = self.scoped_api_keys
        if not keys:
            return ["REBOOK_OPS_API_KEYS: is empty; set at least one key (`key` or `key:scope1+scope2`)"]
        problems = []
        for position, key in enumerate(keys, start=1):
            # Named by position: the key id of a short key is a hash an attacker could reverse.
            if key.secret == DEV_OPS_KEY:
                problems.append(f"REBOOK_OPS_API_KEYS: key {position} of {len(keys)} is the development default; set your own")
            elif (weakness := secret_weakness(key.secret)) is not None:
                problems.append(f"REBOOK_OPS_API_KEYS: key {position} of {len(keys)} {weakness}")
        return problems

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
            return {"sms": "sandbox", "whatsapp": "sandbox", "email": "sandbox", "telegram": "sandbox", "push": "sandbox"}
        return {
            "sms": "enabled" if self.twilio.enabled else "disabled: REBOOK_TWILIO__ACCOUNT_SID/AUTH_TOKEN/FROM_NUMBER not set",
            "whatsapp": "enabled"
            if self.whatsapp.enabled
            else "disabled: REBOOK_WHATSAPP__PHONE_NUMBER_ID/TOKEN/APP_SECRET not set",
            "email": "enabled" if self.email.enabled else "disabled: REBOOK_EMAIL__HOST/FROM not set",
            "push": self.push.report(),
            "telegram": "enabled"
            if self.telegram.enabled
            else "disabled: REBOOK_TELEGRAM__BOT_TOKEN/BOT_USERNAME/WEBHOOK_SECRET not set",
        }


def settings_problems(exc: ValidationError | SettingsError) -> list[str]:
    """One line per problem, each naming its REBOOK_* variable; no pydantic banner, no input values."""
    if isinstance(exc, SettingsError):  # raised before validation: a list or object variable is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        if field is None:
            return [str(exc).splitlines()[0]]
        name = f"REBOOK_{field.group(1).upper()}"
        return [f"{name} (or one of {name}__*): not readable; lists and objects are written as JSON"]
    lines: list[str] = []
    for error in exc.errors(include_input=False, include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        names = [str(part) for part in error["loc"]]
        if not names:
            lines += message.splitlines()
            continue
        fields = list(itertools.takewhile(lambda name: not name.isdigit(), names))
        inner = ".".join(names[len(fields) :])
        lines.append("REBOOK_" + "__".join(f.upper() for f in fields) + f": {message}" + (f" (at {inner})" if inner else ""))
    return lines
