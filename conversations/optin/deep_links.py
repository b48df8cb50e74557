"""Deep-link start tokens: a passenger id and an expiry, signed with the blind-index key; nothing is stored.

Telegram carries `?start=<token>` to the bot as `/start <token>` (1-64 characters of `A-Za-z0-9_-`).
The token is `<passenger base36>-<expiry base36>-<128-bit MAC hex>`, at most 55 characters.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re

from infra import crypto

DEFAULT_TTL = dt.timedelta(days=14)
#: The part of the keyed hash kept: 32 hex digits, 128 bits.
MAC_CHARS = 32
_TOKEN = re.compile(rf"([0-9a-z]{{1,13}})-([0-9a-z]{{1,8}})-([0-9a-f]{{{MAC_CHARS}}})")
_BOT = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(n: int) -> str:
    out = ""
    while True:
        n, rest = divmod(n, 36)
        out = _DIGITS[rest] + out
        if n == 0:
            return out


def _mac(body: str) -> str:
    return crypto.keyring().blind_index(f"telegram-start:{body}")[:MAC_CHARS]


def mint(passenger_id: int, *, now: dt.datetime, ttl: dt.timedelta = DEFAULT_TTL) -> str:
    """A start token for this passenger, valid until `now + ttl`."""
    if passenger_id < 0:
        raise ValueError("a passenger id is not negative")
    body = f"{_b36(passenger_id)}-{_b36(int((now + ttl).timestamp()))}"
    return f"{body}-{_mac(body)}"


def read(token: str, *, now: dt.datetime) -> int | None:
    """The passenger a live, untampered token names; None for anything else."""
    found = _TOKEN.fullmatch(token)
    if found is None:
        return None
    body = f"{found.group(1)}-{found.group(2)}"
    if not hmac.compare_digest(found.group(3), _mac(body)):
        return None
    if int(found.group(2), 36) <= now.timestamp():
        return None
    return int(found.group(1), 36)


def telegram_url(bot_username: str, token: str) -> str:
    """`https://t.me/<bot>?start=<token>`: opens the bot, whose Start button sends `/start <token>`."""
    if not _BOT.fullmatch(bot_username):
        raise ValueError("a Telegram bot username is 4-32 characters of letters, digits and _")
    return f"https://t.me/{bot_username}?start={token}"
