"""Locale- and time-zone-aware formatting of the times, dates and amounts passengers read."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, localedata
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from .catalog import split_tag

_HARD_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
_DECIMALS = re.compile(r"\.0+")


@lru_cache(maxsize=64)
def _babel_locale(lang: str, region: str | None) -> Locale:
    """Regional conventions (es_MX) when CLDR has them, else the language's own."""
    if region and localedata.exists(f"{lang}_{region}"):
        return Locale.parse(f"{lang}_{region}")
    return Locale.parse(lang)


def _locale(locale: str) -> Locale:
    """Formats follow the same language as the text, so an unsupported tag formats as English."""
    return _babel_locale(*split_tag(locale))


def _require_aware(when_utc: datetime) -> None:
    """Refuse naive datetimes: guessing their zone would show a passenger the wrong hour."""
    if when_utc.tzinfo is None or when_utc.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware UTC instant")


def _plain(text: str) -> str:
    """CLDR's no-break spaces are outside GSM-7 and would push an SMS to UCS-2 (70 chars a segment)."""
    return text.translate(_HARD_SPACES)


def format_time(when_utc: datetime, tz: str, locale: str) -> str:
    """Short local time at the airport ("14:05", "2:05 PM")."""
    _require_aware(when_utc)
    return _time(when_utc, tz, locale)


def format_date(when_utc: datetime, tz: str, locale: str) -> str:
    """Short local date with weekday ("Tue, Dec 1", "Di., 1. Dez."), as people say it."""
    _require_aware(when_utc)
    return _date(when_utc, tz, locale)


def format_datetime(when_utc: datetime, tz: str, locale: str) -> str:
    """Local date and time joined by the locale's own glue ("Tue, Dec 1, 2:05 PM")."""
    _require_aware(when_utc)
    return _datetime(when_utc, tz, locale)


# A disruption formats the same few departure times for thousands of passengers; babel is slow.
# Aware datetimes hash by instant, and the text depends only on (instant, tz, locale).
@lru_cache(maxsize=8192)
def _time(when_utc: datetime, tz: str, locale: str) -> str:
    """Cached core of format_time; the instant is already known to be aware."""
    return _plain(babel_dates.format_time(when_utc, "short", tzinfo=ZoneInfo(tz), locale=_locale(locale)))


@lru_cache(maxsize=8192)
def _date(when_utc: datetime, tz: str, locale: str) -> str:
    """Cached core of format_date; the instant is already known to be aware."""
    return _plain(babel_dates.format_skeleton("MMMEd", when_utc, tzinfo=ZoneInfo(tz), locale=_locale(locale)))


@lru_cache(maxsize=8192)
def _datetime(when_utc: datetime, tz: str, locale: str) -> str:
    """Cached core of format_datetime; the instant is already known to be aware."""
    glue = str(_locale(locale).datetime_formats["short"])
    return glue.replace("{1}", _date(when_utc, tz, locale)).replace("{0}", _time(when_utc, tz, locale))


def format_number(value: int, locale: str) -> str:
    """A whole number with the locale's grouping ("412,000", "412.000")."""
    return _plain(babel_numbers.format_decimal(value, locale=_locale(locale)))


def format_money(amount: Decimal | int, currency: str, locale: str) -> str:
    """Amount in the locale's currency format; whole amounts drop the decimals ("€600")."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be Decimal or int, not {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError("money must be a finite amount")
    if not babel_numbers.is_currency(currency):
        raise ValueError(f"unknown ISO 4217 currency code {currency!r}")
    babel_locale = _locale(locale)
    if value == value.to_integral_value():
        pattern = _DECIMALS.sub("", babel_locale.currency_formats["standard"].pattern)
        text = babel_numbers.format_currency(
            value, currency, format=pattern, locale=babel_locale, currency_digits=False
        )
    else:
        text = babel_numbers.format_currency(value, currency, locale=babel_locale)
    return _plain(text)
