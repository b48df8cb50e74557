"""The registry drives which channels a deployment builds: the sandbox runs them all, otherwise the enabled ones."""

from __future__ import annotations

from typing import Any

from channels.push import SandboxPush
from channels.registry import CHANNELS
from channels.sandbox import Sandbox, SandboxChannel
from channels.sms import SmsChannel
from channels.whatsapp import WhatsAppChannel
from gateway.container import build_channels
from gateway.settings import Settings

PRODUCTION: dict[str, Any] = {
    "pii_keys": "k1:prod-pii-secret-1-uJBKhIWC_oFmzc7D3dfqBRAE7LSFGC",
    "blind_index_key": "prod-blind-secret-WhAUFdQE_Nw6mka7WH2mSk7tZ2cJRh",
    "ops_api_keys": "ops-key-a-pe9mZxGx-Mil9Hf1V1_Ko-L6oMzpsSw7XE6Mo",
    "public_base_url": "https://rebook.example.com/",
}
TWILIO = {
    "account_sid": "AC" + "0" * 32,
    "auth_token": "twilio-auth-secret",
    "from_number": "+15550100",
    "from_numbers": "+15550101",
    "max_segments": 2,
}
WHATSAPP = {"phone_number_id": "1234567890", "phone_number_ids": "1234567891", "token": "graph", "app_secret": "app"}


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_entries_name_a_settings_section_once_each() -> None:
    names = [entry.name for entry in CHANNELS]
    assert len(set(names)) == len(names)
    assert all(entry.section in Settings.model_fields for entry in CHANNELS)


def test_the_sandbox_builds_every_channel_on_the_sandbox_given() -> None:
    box = Sandbox()
    built = build_channels(settings(sandbox=True, twilio=TWILIO, whatsapp=WHATSAPP), box)
    assert list(built) == ["whatsapp", "sms", "email", "telegram", "push"]
    wa, sms = built["whatsapp"], built["sms"]
    assert isinstance(wa, SandboxChannel) and isinstance(sms, SandboxChannel)
    assert wa.sandbox is box and sms.sandbox is box
    assert wa.senders == ("1234567890", "1234567891") and sms.senders == ("+15550100", "+15550101")
    assert sms.max_segments == 2 and sms.capabilities.max_segments == 2
    assert wa.max_segments == 4 and wa.capabilities.max_segments == 0


def test_the_sandbox_runs_every_channel_even_unconfigured() -> None:
    built = build_channels(settings(sandbox=True), None)
    assert [(name, type(ch)) for name, ch in built.items()] == [
        ("whatsapp", SandboxChannel),
        ("sms", SandboxChannel),
        ("email", SandboxChannel),
        ("telegram", SandboxChannel),
        ("push", SandboxPush),
    ]


def test_outside_the_sandbox_only_enabled_sections_are_built() -> None:
    assert build_channels(settings(**PRODUCTION), None) == {}
    only_sms = build_channels(settings(**PRODUCTION, twilio=TWILIO), None)
    assert list(only_sms) == ["sms"]


def test_enabled_sections_build_the_real_adapters_from_their_settings() -> None:
    templates = {"disruption_notice": {"en": {"name": "aviso", "language": "en_US"}}}
    built = build_channels(settings(**PRODUCTION, twilio=TWILIO, whatsapp={**WHATSAPP, "templates": templates}), None)
    assert list(built) == ["whatsapp", "sms"]
    wa, sms = built["whatsapp"], built["sms"]
    assert isinstance(wa, WhatsAppChannel) and isinstance(sms, SmsChannel)
    assert wa.senders == ("1234567890", "1234567891")
    assert wa.template_for("disruption_notice", "es") == ("aviso", "en_US")
    assert sms.senders == ("+15550100", "+15550101")
    assert sms.capabilities.max_segments == 2
    assert sms._status_callback == "https://rebook.example.com/webhooks/twilio/status"
