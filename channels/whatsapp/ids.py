"""WhatsApp user identifiers: phone numbers (wa_id) and business-scoped user ids (BSUIDs), as Meta writes them."""

from __future__ import annotations

import re

#: `US.13491208655302741918`: a two-letter country code, a dot, up to 128 letters and digits.
BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9]{1,128}")
#: `US.ENT.11815799212886844830`: one id shared by a managed business's portfolios.
PARENT_BSUID = re.compile(r"[A-Z]{2}\.ENT\.[A-Za-z0-9]{1,128}")
#: The digits of a WhatsApp id: an E.164 number without its plus (at most 15 digits, ASCII only).
WA_ID = re.compile(r"[1-9][0-9]{0,14}")
#: WhatsApp usernames are short handles; anything longer (or with control characters) is not one.
MAX_USERNAME = 64


def phone(raw: object) -> str | None:
    """`+<digits>` for a wa_id (with or without its plus); None for anything else."""
    if not isinstance(raw, str):
        return None
    digits = raw.strip().removeprefix("+")
    return "+" + digits if WA_ID.fullmatch(digits) else None


def bsuid(raw: object) -> str | None:
    """The BSUID when `raw` is one; None otherwise (a parent BSUID is not a BSUID)."""
    return raw if isinstance(raw, str) and BSUID.fullmatch(raw) else None


def parent_bsuid(raw: object) -> str | None:
    return raw if isinstance(raw, str) and PARENT_BSUID.fullmatch(raw) else None


def username(raw: object) -> str | None:
    """A username as Meta sent it, when it looks like one (printable, short)."""
    if not isinstance(raw, str):
        return None
    name = raw.strip()
    return name if 0 < len(name) <= MAX_USERNAME and name.isprintable() else None
