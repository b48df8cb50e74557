"""What a provider may hand us, the column sizes built from it, and how odd values are made storable.

Every value a provider supplies (ids, error codes, passenger texts) passes one of these functions
before it is stored, so a signed but hostile or unexpected value can never fail a write (a NUL,
which PostgreSQL refuses in text; a lone surrogate, which UTF-8 cannot encode; a length over the
column) and the provider never retries into the same 500.

Sizes, from the providers' documented maxima (bytes after `infra.crypto`'s envelope):
- WhatsApp text: 4,096 characters; Twilio SMS body: 1,600. At 4 bytes a character (emoji; Arabic
  and CJK take 2 and 3) the worst is 16,384 bytes, sealed to 21,906 characters with a 16-character
  key id; the column holds 24,576 (12 % margin). Longer texts are cut at a character boundary.
- Ids: Twilio SIDs are 34 characters, wamids ~60-130 (base64 of a protobuf). Up to 255 printable
  ASCII characters are kept as they are; anything else is stored as its SHA-256, on the way in and
  on the way out alike, so receipts still find their delivery and retries still deduplicate.
- Error codes: Twilio's are 5 digits, Meta's up to 6; kept as printable ASCII, cut to 32.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

from infra.crypto import MAX_KEY_ID, sealed_length

MAX_WHATSAPP_TEXT_CHARS: Final = 4096
MAX_SMS_TEXT_CHARS: Final = 1600
#: The most UTF-8 one character takes (emoji and other astral code points).
MAX_UTF8_BYTES_PER_CHAR: Final = 4
MAX_TEXT_BYTES: Final = max(MAX_WHATSAPP_TEXT_CHARS, MAX_SMS_TEXT_CHARS) * MAX_UTF8_BYTES_PER_CHAR
#: Column size of an encrypted inbound text (migration 0008); a test holds it above the worst case.
TEXT_COLUMN: Final = 24576
MAX_PROVIDER_ID: Final = 255
#: A provider id, ":" and a status name: the dedupe key of a receipt.
EVENT_ID_COLUMN: Final = 320
ERROR_CODE_COLUMN: Final = 32
#: Slack user, channel and team ids are 9-11 characters today; Slack asks clients not to assume it.
SLACK_ID_COLUMN: Final = 64
HASHED_PREFIX: Final = "sha256:"

_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")

#: 21,906 today; tests/webhooks/test_provider_maxima.py holds it under TEXT_COLUMN.
WORST_SEALED_TEXT: Final = sealed_length(MAX_TEXT_BYTES, MAX_KEY_ID)


def provider_id(raw: str, limit: int = MAX_PROVIDER_ID) -> str:
    """The id as given when it is a plain token that fits; otherwise its SHA-256 (same input, same key)."""
    if len(raw) <= limit and _PRINTABLE_ASCII.fullmatch(raw):
        return raw
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    return HASHED_PREFIX + digest


def event_id(raw: str) -> str:
    """A dedupe key: a provider id with a suffix, under the same rule and the wider column."""
    return provider_id(raw, EVENT_ID_COLUMN)


def error_code(raw: str | None) -> str | None:
    """Printable ASCII, cut to the column: a code is for people and tables, never worth a lost receipt."""
    if not raw:
        return None
    return _NOT_PRINTABLE.sub("?", raw)[:ERROR_CODE_COLUMN]


def storable_text(raw: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
    """NUL and lone surrogates become U+FFFD; a text over the byte budget is cut between characters."""
    text = _UNSTORABLE.sub("\ufffd", raw)
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", "ignore")
