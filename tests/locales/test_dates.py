"""A travel date as passengers type it, in each shipped language: read to the day, or not a date at all."""

from __future__ import annotations

import datetime as dt

import pytest

from locales.dates import parse_day

TODAY = dt.date(2026, 12, 6)


@pytest.mark.parametrize(
    ("text", "locale", "day"),
    [
        ("12 Dec", "en", dt.date(2026, 12, 12)),
        ("Dec 12", "en", dt.date(2026, 12, 12)),
        ("December 12th", "en", dt.date(2026, 12, 12)),
        ("2026-12-12", "en", dt.date(2026, 12, 12)),
        ("12/12", "en", dt.date(2026, 12, 12)),
        ("12.12.2026", "de", dt.date(2026, 12, 12)),
        ("12. Dezember", "de", dt.date(2026, 12, 12)),
        ("12 dic", "es", dt.date(2026, 12, 12)),
        ("12 de diciembre", "es", dt.date(2026, 12, 12)),
        ("12 déc.", "fr", dt.date(2026, 12, 12)),
        ("12 decembre", "fr", dt.date(2026, 12, 12)),
        ("12 ديسمبر", "ar", dt.date(2026, 12, 12)),
        ("١٢ ديسمبر", "ar", dt.date(2026, 12, 12)),
        ("12 Dec", "de", dt.date(2026, 12, 12)),  # English month names are read in every language
        ("3 Jan", "en", dt.date(2027, 1, 3)),  # no year: the next one on or after today
        ("6 Dec", "en", dt.date(2026, 12, 6)),
        ("1 Dec", "en", dt.date(2027, 12, 1)),
        (
            "2026-12-01",
            "en",
            dt.date(2026, 12, 1),
        ),  # a year given is kept, even in the past (the engine refuses it)
    ],
)
def test_a_typed_day_is_read(text: str, locale: str, day: dt.date) -> None:
    assert parse_day(text, locale, today=TODAY) == day


@pytest.mark.parametrize(
    "text", ["2", "", "hello", "31 Feb", "12 Smarch", "2026-13-01", "refund", "x" * 50]
)
def test_anything_else_is_not_a_date(text: str) -> None:
    assert parse_day(text, "en", today=TODAY) is None
