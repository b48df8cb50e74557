"""Action tokens: what a push carries so the app can answer without an account, signed with the blind-index key.

`v1.<passenger>.<conversation>.<outbox row>.<expiry>.<nonce>.<mac>`: the ids bind it to one
passenger's conversation and one message, the expiry to the offer's hold, and the random nonce
makes it single use (claimed once, like a provider's event id). Nothing is stored when one is
minted: a wave of push messages costs one HMAC each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from infra import crypto

VERSION = "v1"
_TOKEN = re.compile(r"v1\.(\d{1,19})\.(\d{1,19})\.(\d{1,19})\.(\d{1,12})\.([0-9a-f]{16})\.([0-9a-f]{32})")
#: The longest token there is: checked before any parsing.
MAX_CHARS = 160


@dataclass(frozen=True)
class ActionClaim:
    """What a valid token vouches for."""

    passenger_id: int
    conversation_id: int
    outbox_id: int
    expires_at: dt.datetime
    nonce: str


def _mac(payload: str) -> str:
    """HMAC-SHA256 under the blind-index key, on the exact bytes (the blind index itself folds case)."""
    return hmac.new(crypto.keyring().blind_key, f"app-action:{payload}".encode(), hashlib.sha256).hexdigest()[:32]


def mint(*, passenger_id: int, conversation_id: int, outbox_id: int, expires_at: dt.datetime) -> str:
    nonce = secrets.token_hex(8)
    payload = f"{VERSION}.{passenger_id}.{conversation_id}.{outbox_id}.{int(expires_at.timestamp())}.{nonce}"
    return f"{payload}.{_mac(payload)}"


def read(token: str) -> ActionClaim | None:
    """The claim of a token we signed (expired or not: the caller decides), else None; compared in constant time."""
    if len(token) > MAX_CHARS:
        return None
    m = _TOKEN.fullmatch(token)
    if m is None:
        return None
    payload, mac = token.rsplit(".", 1)
    if not hmac.compare_digest(mac.encode(), _mac(payload).encode()):
        return None
    return ActionClaim(
        passenger_id=int(m.group(1)),
        conversation_id=int(m.group(2)),
        outbox_id=int(m.group(3)),
        expires_at=dt.datetime.fromtimestamp(int(m.group(4)), dt.UTC),
        nonce=m.group(5),
    )
