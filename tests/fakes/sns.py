"""Sign SNS messages as AWS does (SignatureVersion 2), with a key and certificate generated here."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from channels.sns import string_to_sign

CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:rebook-ses-feedback"


def _certificate(key: rsa.RSAPrivateKey, now: dt.datetime) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Signer:
    """One SNS signing identity: its key, its certificate at CERT_URL, and what was fetched from it."""

    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    fetched: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pem = _certificate(self.key, self.now)
        self.served: dict[str, bytes] = {CERT_URL: self.pem}

    async def fetch(self, url: str) -> bytes:
        """The verifier's HTTPS GET, answered from memory (SubscribeURLs answer an empty 200)."""
        self.fetched.append(url)
        return self.served.get(url, b"")

    def sign(self, message: dict[str, Any], *, key: rsa.RSAPrivateKey | None = None) -> dict[str, Any]:
        signed = dict(message)
        signed.setdefault("SignatureVersion", "2")
        signed.setdefault("SigningCertURL", CERT_URL)
        signature = (key or self.key).sign(string_to_sign(signed), padding.PKCS1v15(), hashes.SHA256())
        signed["Signature"] = base64.b64encode(signature).decode()
        return signed

    def notification(self, ses: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        message = {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": TOPIC,
            "Message": json.dumps(ses),
            "Timestamp": self.now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        message.update(overrides)
        return self.sign(message)


def bounce(message_id: str, address: str, *, permanent: bool = True) -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent" if permanent else "Transient",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": address, "action": "failed", "status": "5.1.1"}],
            "timestamp": "2026-12-06T06:00:00.000Z",
            "feedbackId": "0102-bounce",
        },
        "mail": {"timestamp": "2026-12-06T05:59:59.000Z", "messageId": message_id, "destination": [address]},
    }


def complaint(message_id: str, address: str) -> dict[str, Any]:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": address}],
            "timestamp": "2026-12-06T06:00:00.000Z",
            "feedbackId": "0102-complaint",
            "complaintFeedbackType": "abuse",
        },
        "mail": {"timestamp": "2026-12-06T05:59:59.000Z", "messageId": message_id, "destination": [address]},
    }


def delivery(message_id: str, address: str) -> dict[str, Any]:
    return {
        "notificationType": "Delivery",
        "delivery": {"timestamp": "2026-12-06T06:00:00.000Z", "recipients": [address], "smtpResponse": "250 ok"},
        "mail": {"timestamp": "2026-12-06T05:59:59.000Z", "messageId": message_id, "destination": [address]},
    }
