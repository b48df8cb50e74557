"""Money amounts named in free text ("€250", "250 EUR", "600€", "£220", "CAD 400"): what an agent's reply promises.

Pure and small on purpose: an agent's reply is checked against the rights engine's amount before it
is sent (`conversations.desk.amount_hold`), so a promise the engine did not compute is held for the
agent to confirm. Only amounts with a currency mark count: "flight 250" or "gate 12" are not money.
A bare "$" names no currency (US, Canadian…): it is compared by value alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Money", "amounts_in", "differs"]

#: Currency marks -> ISO code ("" when the mark does not say which dollar).
_MARKS: dict[str, str] = {
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "pounds": "GBP",
    "c$": "CAD",
    "ca$": "CAD",
    "cad": "CAD",
    "us$": "USD",
    "usd": "USD",
    "$": "",
    "dollars": "",
}
_SYMBOL = r"(?:CA\$|C\$|US\$|€|£|\$)"
_CODE = r"(?:EUR|GBP|CAD|USD|euros?|pounds|dollars)(?![A-Za-z])"
#: 250 / 250.00 / 250,5 / 1,000 / 1.000 / 1 000 (French) / 1,000.50 (a last group of one or two digits is decimals).
_NUMBER = r"\d{1,3}(?:[.,\u00a0\u202f]\d{3})+(?:[.,]\d{1,2})?(?!\d)|\d+(?:[.,]\d{1,2})?(?!\d)"
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:(?P<before>{_SYMBOL}|{_CODE})\s?(?P<n1>{_NUMBER})|(?P<n2>{_NUMBER})\s?(?P<after>{_SYMBOL}|{_CODE}))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Money:
    """An amount as written, normalised: `currency` an ISO code, or "" when the text does not say which."""

    amount: Decimal
    currency: str


def _number(text: str) -> Decimal:
    """The value of one matched number, telling decimals (one or two digits after the last mark) from thousands."""
    digits = re.sub(r"[\u00a0\u202f]", "", text)
    head, mark, tail = max((digits.rpartition(m) for m in ".,"), key=lambda parts: len(parts[0]))
    if mark and 1 <= len(tail) <= 2:
        return Decimal(re.sub(r"[.,]", "", head) + "." + tail)
    return Decimal(re.sub(r"[.,]", "", digits))


def amounts_in(text: str) -> tuple[Money, ...]:
    """Every money amount `text` names, in order."""
    found: list[Money] = []
    for match in _AMOUNT.finditer(text):
        mark = (match["before"] or match["after"]).lower()
        number = match["n1"] or match["n2"]
        found.append(Money(_number(number), _MARKS[mark]))
    return tuple(found)


def differs(named: Money, amount: int | None, currency: str) -> bool:
    """Whether `named` is not the engine's amount (None: the engine computed none, so any amount differs)."""
    if amount is None or amount <= 0:
        return True
    if named.currency and currency and named.currency != currency.upper():
        return True
    return named.amount != Decimal(amount)
