"""Ops API keys and their scopes: which key may run disruptions, post ops feeds, work escalations, read or write consent, export or erase."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

OPS = "ops"
CONSENT_READ = "consent:read"
CONSENT_WRITE = "consent:write"
DSR_EXPORT = "dsr:export"
DSR_ERASE = "dsr:erase"
#: Posting IATA MVT/ASM messages to /v1/feeds/* (an ops system's key that may do nothing else).
FEEDS = "feeds"
#: Managing outbound webhook subscriptions under /v1/webhooks (the airline's integration key).
WEBHOOKS = "webhooks"
#: Working escalations through /v1/escalations (claim, reply, book, refund, voucher, release, close); the
#: agent is named per request by the `Rebook-Agent` header.
AGENTS = "agents"
#: The airline's app backend: registering passengers' devices (PUT /v1/passengers/{id}/devices/{token}) and
#: with them push consent, nothing else (consent:write would let it change every channel's consent).
APP = "app"
SCOPES: frozenset[str] = frozenset({OPS, CONSENT_READ, CONSENT_WRITE, DSR_EXPORT, DSR_ERASE, FEEDS, AGENTS, WEBHOOKS, APP})


@dataclass(frozen=True)
class ApiKey:
    """One ops API key: the secret, what it may do, and an id that is safe to log and audit."""

    secret: str
    scopes: frozenset[str]

    @property
    def key_id(self) -> str:
        return "key-" + hashlib.sha256(self.secret.encode()).hexdigest()[:12]


def parse_api_keys(raw: str) -> list[ApiKey]:
    """`key` (every scope, as before scopes existed) or `key:scope1+scope2`, comma-separated."""
    keys: list[ApiKey] = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        secret, sep, scopes_text = item.partition(":")
        if not secret:
            raise ValueError("REBOOK_OPS_API_KEYS entries must look like 'key' or 'key:scope1+scope2'")
        scopes = frozenset(s.strip() for s in scopes_text.split("+") if s.strip()) if sep else SCOPES
        unknown = scopes - SCOPES
        if unknown or not scopes:
            raise ValueError(
                f"REBOOK_OPS_API_KEYS: unknown or empty scopes {sorted(unknown)}; known: {', '.join(sorted(SCOPES))}"
            )
        keys.append(ApiKey(secret, scopes))
    return keys
