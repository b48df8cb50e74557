"""GSM-7 / UCS-2 SMS segment counting: segments are what a passenger's carrier bills and splits."""

from __future__ import annotations

import re
from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet (ESC 0x1B excluded: it only introduces the extension table).
GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each is sent as ESC + char, so it costs two septets.
GSM7_EXTENSION: Final = frozenset("\f^{}\\[~]|€")
GSM7: Final = GSM7_BASIC | GSM7_EXTENSION
# Scanning in the regex engine beats a per-character set lookup; SMS fitting asks this many times.
_NOT_GSM7: Final = re.compile("[^" + "".join(re.escape(ch) for ch in sorted(GSM7)) + "]")

GSM7_SINGLE: Final = 160
GSM7_PART: Final = 153
UCS2_SINGLE: Final = 70
UCS2_PART: Final = 67


def encoding(text: str) -> Encoding:
    """One character outside GSM-7 switches the whole message to UCS-2, halving its capacity."""
    return "UCS-2" if _NOT_GSM7.search(text) else "GSM-7"


def _units(text: str, enc: Encoding) -> list[int]:
    """Cost of each character: septets for GSM-7, UTF-16 code units for UCS-2."""
    if enc == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _wide(text: str, enc: Encoding) -> int:
    """How many characters cost two units, counted in C rather than per character in Python."""
    if enc == "GSM-7":
        return 0 if GSM7_EXTENSION.isdisjoint(text) else sum(text.count(ch) for ch in GSM7_EXTENSION)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2 - len(text)


def count_segments(text: str) -> int:
    """Parts a carrier sends; escape pairs and surrogate pairs are never split across parts."""
    enc = encoding(text)
    single, part = (GSM7_SINGLE, GSM7_PART) if enc == "GSM-7" else (UCS2_SINGLE, UCS2_PART)
    wide = _wide(text, enc)
    total = len(text) + wide
    if total <= single:
        return 1
    if not wide:
        return -(-total // part)
    parts, used = 1, 0
    for cost in _units(text, enc):
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts
