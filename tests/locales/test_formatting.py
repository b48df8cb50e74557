"""Times, dates and amounts come out in the airport's local time and the passenger's conventions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfoNotFoundError

import pytest

from locales import format_date, format_datetime, format_money, format_time

INSTANT = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)  # a Tuesday
LATE = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "locale", "expected"),
    [
        ("Europe/Madrid", "de", "14:05"),
        ("Asia/Dubai", "de", "17:05"),
        ("Europe/Madrid", "en", "2:05 PM"),
        ("Asia/Dubai", "en", "5:05 PM"),
        ("Europe/Madrid", "en-GB", "14:05"),
        ("America/New_York", "es", "8:05"),
        ("Asia/Dubai", "ar", "5:05 م"),
    ],
)
def test_time_is_the_airports_local_time_in_the_locales_clock(
    tz: str, locale: str, expected: str
) -> None:
    assert format_time(INSTANT, tz, locale) == expected


def test_summer_time_is_applied() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert format_time(summer, "Europe/Madrid", "fr") == "14:00"
    assert format_time(summer, "Europe/London", "fr") == "13:00"


def test_an_instant_in_another_offset_is_converted_not_relabelled() -> None:
    same_instant = INSTANT.astimezone(timezone(timedelta(hours=-7)))
    assert format_time(same_instant, "Europe/Madrid", "de") == "14:05"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Tue, Dec 1"),
        ("en-GB", "Tue 1 Dec"),
        ("de", "Di., 1. Dez."),
        ("fr", "mar. 1 déc."),
        ("es", "mar, 1 dic"),
        ("ar", "الثلاثاء، 1 ديسمبر"),
    ],
)
def test_short_date_follows_the_locale(locale: str, expected: str) -> None:
    assert format_date(INSTANT, "Europe/Madrid", locale) == expected


def test_local_date_can_be_the_next_day() -> None:
    assert format_date(LATE, "Europe/Madrid", "en") == "Tue, Dec 1"
    assert format_date(LATE, "Asia/Dubai", "en") == "Wed, Dec 2"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Tue, Dec 1, 2:05 PM"),
        ("de", "Di., 1. Dez., 14:05"),
        ("fr", "mar. 1 déc. 14:05"),
        ("ar", "الثلاثاء، 1 ديسمبر، 2:05 م"),
    ],
)
def test_datetime_joins_date_and_time_the_locales_way(locale: str, expected: str) -> None:
    assert format_datetime(INSTANT, "Europe/Madrid", locale) == expected


def test_unsupported_language_formats_like_the_english_text_it_gets() -> None:
    assert format_datetime(INSTANT, "Europe/Madrid", "ja") == format_datetime(
        INSTANT, "Europe/Madrid", "en"
    )


def test_no_break_spaces_are_replaced_for_sms() -> None:
    outputs = [
        format_time(INSTANT, "Europe/Madrid", "en"),
        format_money(Decimal("1234.5"), "EUR", "fr"),
        format_money(600, "EUR", "de"),
    ]
    assert all("\u00a0" not in text and "\u202f" not in text for text in outputs)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 12, 1, 13, 5), "Europe/Madrid", "en")


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        format_time(INSTANT, "Mars/Olympus_Mons", "en")


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (600, "EUR", "en", "€600"),
        (Decimal("600.00"), "EUR", "en", "€600"),
        (600, "EUR", "de", "600 €"),
        (Decimal("1234.5"), "EUR", "de", "1.234,50 €"),
        (Decimal("1234.5"), "EUR", "fr", "1 234,50 €"),
        (Decimal("1234.5"), "EUR", "es", "1.234,50 €"),
        (Decimal("1234.56"), "GBP", "en", "£1,234.56"),
        (400, "EUR", "ar", "\u200f400 €"),
        (1500, "JPY", "en", "¥1,500"),
    ],
)
def test_money(amount: Decimal | int, currency: str, locale: str, expected: str) -> None:
    assert format_money(amount, currency, locale) == expected


@pytest.mark.parametrize("amount", [600.0, True])
def test_money_refuses_floats_and_booleans(amount: object) -> None:
    with pytest.raises(TypeError):
        format_money(amount, "EUR", "en")  # type: ignore[arg-type]


def test_money_refuses_unknown_currency_and_non_finite_amounts() -> None:
    with pytest.raises(ValueError, match="currency"):
        format_money(600, "EURO", "en")
    with pytest.raises(ValueError, match="finite"):
        format_money(Decimal("NaN"), "EUR", "en")
