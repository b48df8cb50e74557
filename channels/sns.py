"""Amazon SNS message signatures (SignatureVersion 2: RSA with SHA-256), checked before anything is parsed.

Docs: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html. The signing
certificate's URL must be https on an allowed host (by default `sns.<region>.amazonaws.com`, a
setting) and end in .pem; each certificate is fetched once and cached. SignatureVersion 1 (SHA-1)
is refused. A message older than `MAX_AGE` is refused as a replay.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import fnmatch
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

#: SNS retries an HTTP endpoint for minutes, not hours (default delivery policy): older is a replay.
MAX_AGE: Final = dt.timedelta(hours=1)
#: Certificates kept (SNS signs with one per region, rotated rarely).
CACHE_SIZE: Final = 16
_NOTIFICATION_FIELDS: Final = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_FIELDS: Final = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")

Fetch = Callable[[str], Awaitable[bytes]]


class Forged(Exception):
    """The message is not provably from SNS (403); the reason names no value from it."""


class Malformed(ValueError):
    """Not an SNS message at all (400)."""


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The canonical form SNS signs: each present field's name and value on their own lines, in order."""
    kind = message.get("Type")
    names = _NOTIFICATION_FIELDS if kind == "Notification" else _SUBSCRIPTION_FIELDS
    lines: list[str] = []
    for name in names:
        value = message.get(name)
        if value is None:
            if name == "Subject":
                continue
            raise Malformed(f"SNS message without {name}")
        lines += [name, str(value)]
    return ("\n".join(lines) + "\n").encode()


def host_allowed(url: str, patterns: tuple[str, ...]) -> bool:
    """https, an allowed host (`*` stands for one DNS label), no port, no credentials."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or parts.port is not None or parts.username or not host:
        return False
    labels = host.split(".")
    for pattern in patterns:
        wanted = pattern.lower().split(".")
        if len(wanted) == len(labels) and all(fnmatch.fnmatchcase(label, w) for label, w in zip(labels, wanted, strict=True)):
            return True
    return False


class Verifier:
    """Checks SNS signatures; certificates come from `fetch` (an HTTPS GET) once per URL."""

    def __init__(self, *, cert_hosts: tuple[str, ...], fetch: Fetch, topics: tuple[str, ...] = ()) -> None:
        self.cert_hosts = cert_hosts
        self.topics = topics
        self.fetch = fetch
        self._certs: OrderedDict[str, x509.Certificate] = OrderedDict()
        self.fetched = 0

    async def _certificate(self, url: str) -> x509.Certificate:
        cert = self._certs.get(url)
        if cert is not None:
            self._certs.move_to_end(url)
            return cert
        try:
            cert = x509.load_pem_x509_certificate(await self.fetch(url))
        except ValueError:
            raise Forged("the signing certificate is not a PEM certificate") from None
        self.fetched += 1
        self._certs[url] = cert
        while len(self._certs) > CACHE_SIZE:
            self._certs.popitem(last=False)
        return cert

    async def verify(self, message: Mapping[str, Any], *, now: dt.datetime) -> None:
        """Return quietly, or raise Forged (403) or Malformed (400)."""
        if str(message.get("SignatureVersion")) != "2":
            raise Forged("only SignatureVersion 2 (SHA256withRSA) is accepted")
        url = str(message.get("SigningCertURL") or message.get("SigningCertUrl") or "")
        if not url.endswith(".pem") or not host_allowed(url, self.cert_hosts):
            raise Forged("the signing certificate is not on an allowed SNS host")
        if self.topics and message.get("TopicArn") not in self.topics:
            raise Forged("the topic is not one we subscribed to")
        try:
            signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise Forged("the signature is not base64") from None
        signed = string_to_sign(message)
        try:
            stamp = dt.datetime.fromisoformat(str(message["Timestamp"]).replace("Z", "+00:00"))
        except ValueError:
            raise Malformed("SNS message with an unreadable Timestamp") from None
        cert = await self._certificate(url)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise Forged("the signing certificate is not valid now")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Forged("the signing certificate holds no RSA key")
        try:
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise Forged("the signature does not match") from None
        if stamp.tzinfo is None or now - stamp > MAX_AGE:
            raise Forged("the message is too old (a replay)")
