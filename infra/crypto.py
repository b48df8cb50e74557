"""Envelope-free AES-GCM for PII columns, with key ids so old keys keep decrypting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_PREFIX = "enc1"
_NONCE = 12
_TAG = 16
#: Key ids are part of every stored value, so columns are sized with this bound (see `sealed_length`).
MAX_KEY_ID = 16


def _derive(secret: str, purpose: bytes) -> bytes:
    return hashlib.sha256(purpose + b"\0" + secret.encode()).digest()


@dataclass
class Keyring:
    """Encrypts with the newest key; decrypts with whichever key id the value names."""

    keys: dict[str, bytes]
    current: str
    blind_key: bytes
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    @classmethod
    def from_secrets(cls, secrets: list[tuple[str, str]], blind_secret: str) -> Keyring:
        if not secrets:
            raise ValueError("at least one PII key is required")
        if any(len(kid) > MAX_KEY_ID for kid, _ in secrets):
            raise ValueError(f"PII key ids are at most {MAX_KEY_ID} characters (they are stored with every value)")
        keys = {kid: _derive(secret, b"pii-aead") for kid, secret in secrets}
        return cls(keys=keys, current=secrets[0][0], blind_key=_derive(blind_secret, b"pii-blind"))

    def _cipher(self, kid: str) -> AESGCM:
        if kid not in self._aead:
            self._aead[kid] = AESGCM(self.keys[kid])
        return self._aead[kid]

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._cipher(self.current).encrypt(nonce, plaintext.encode(), self.current.encode())
        return f"{_PREFIX}:{self.current}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str) -> str:
        prefix, kid, blob = stored.split(":", 2)
        if prefix != _PREFIX:
            raise ValueError("value is not an encrypted PII field")
        raw = base64.urlsafe_b64decode(blob)
        return self._cipher(kid).decrypt(raw[:12], raw[12:], kid.encode()).decode()

    def blind_index(self, value: str) -> str:
        """Keyed hash so a phone number can be looked up without storing it in clear."""
        return hmac.new(self.blind_key, value.strip().lower().encode(), hashlib.sha256).hexdigest()


def sealed_length(plaintext_bytes: int, key_id_chars: int = MAX_KEY_ID) -> int:
    """Characters `Keyring.encrypt` produces for this many UTF-8 bytes: columns are sized from it."""
    blob = _NONCE + plaintext_bytes + _TAG
    return len(_PREFIX) + 1 + key_id_chars + 1 + 4 * -(-blob // 3)


_keyring: Keyring | None = None


def configure(ring: Keyring) -> None:
    global _keyring
    _keyring = ring


def keyring() -> Keyring:
    if _keyring is None:
        raise RuntimeError("PII keyring not configured: call infra.crypto.configure() at start")
    return _keyring
