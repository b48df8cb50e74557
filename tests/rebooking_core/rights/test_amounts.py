"""The amount parser finds every money amount an agent can write, and nothing that is not money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rebooking_core.rights.amounts import Money, amounts_in, differs


def eur(v: str) -> Money:
    return Money(Decimal(v), "EUR")


CASES: list[tuple[str, tuple[Money, ...]]] = [
    ("You will receive €250.", (eur("250"),)),
    ("You will receive 250 EUR.", (eur("250"),)),
    ("compensation of 600€ is due", (eur("600"),)),
    ("£220 is on its way", (Money(Decimal("220"), "GBP"),)),
    ("CAD 400 for the delay", (Money(Decimal("400"), "CAD"),)),
    ("C$1,000 for 9 hours", (Money(Decimal("1000"), "CAD"),)),
    ("CA$700", (Money(Decimal("700"), "CAD"),)),
    ("1.000 € Entschädigung", (eur("1000"),)),
    ("250,50 € de frais", (eur("250.50"),)),
    ("1,000.50 EUR", (eur("1000.50"),)),
    ("1\u202f000 € (French spacing)", (eur("1000"),)),
    ("250,00\u00a0€ as babel formats it", (eur("250.00"),)),
    ("600 euros", (eur("600"),)),
    ("300 pounds", (Money(Decimal("300"), "GBP"),)),
    ("US$ 99.5 meal", (Money(Decimal("99.5"), "USD"),)),
    ("$400 refund", (Money(Decimal("400"), ""),)),
    ("EUR250", (eur("250"),)),
    ("€250 now and €350 later", (eur("250"), eur("350"))),
    ("flight RB250 at gate 12, seat 14C", ()),
    ("Europe 2025 and 400 km", ()),
    ("Your booking ABC123 is confirmed for 10:45", ()),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_amounts_in_text(text: str, expected: tuple[Money, ...]) -> None:
    assert amounts_in(text) == expected


@pytest.mark.parametrize(
    ("named", "amount", "currency", "different"),
    [
        (eur("250"), 250, "EUR", False),
        (eur("250.00"), 250, "EUR", False),
        (eur("600"), 250, "EUR", True),
        (eur("250"), 250, "GBP", True),
        (Money(Decimal("250"), ""), 250, "EUR", False),
        (eur("250"), None, "", True),
        (eur("250"), 0, "EUR", True),
    ],
)
def test_differs_from_the_engine(
    named: Money, amount: int | None, currency: str, different: bool
) -> None:
    assert differs(named, amount, currency) is different
