"""Read a travel date a passenger typed ("12 Dec", "Dec 12", "2026-12-12", "12/12", "12. Dezember") in their language.

Month names come from CLDR through babel (wide and abbreviated, format and stand-alone) for the
passenger's language and English, so "12 dic" reads in Spanish and "12 Dec" anywhere. Numeric
forms are read day first ("12/11" is 12 November), as every shipped language but US English
writes them; a date without a year is its next occurrence on or after `today`. Anything else is
not a date (None): the reply is then read as before.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from babel import dates as babel_dates

from .formatting import _locale

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[./](\d{1,2})(?:[./](\d{2}|\d{4}))?\.?$")
_DAY_MONTH = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th|er|º|\.)?\s*(?:de\s+)?([^\d\s.,]+)\.?(?:\s*,?\s*(\d{4}))?$"
)
_MONTH_DAY = re.compile(r"^([^\d\s.,]+)\.?\s*(\d{1,2})(?:st|nd|rd|th)?(?:\s*,?\s*(\d{4}))?$")


def _fold(text: str) -> str:
    """Case and accents aside ("déc" is "dec"), as passengers type on any keyboard."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().rstrip(".")


@lru_cache(maxsize=32)
def _months(locale: str) -> dict[str, int]:
    """Every name of every month in `locale` and in English, folded, to its number."""
    names: dict[str, int] = {}
    for loc in ("en", locale):
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in babel_dates.get_month_names(
                    width, context=context, locale=_locale(loc)
                ).items():
                    names.setdefault(_fold(str(name)), int(number))
    return names


def _day(year: int | None, month: int, day: int, today: dt.date) -> dt.date | None:
    """The date, or its next occurrence from `today` when no year was given; None for no such date."""
    try:
        if year is not None:
            return dt.date(year + 2000 if year < 100 else year, month, day)
        found = dt.date(today.year, month, day)
        return found if found >= today else dt.date(today.year + 1, month, day)
    except ValueError:
        return None


def parse_day(text: str, locale: str, *, today: dt.date) -> dt.date | None:
    """The calendar day `text` names in `locale` (or English), None when it names none."""
    value = " ".join(text.split())
    if not value or len(value) > 40:
        return None
    if m := _ISO.match(value):
        return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)), today)
    if m := _NUMERIC.match(value):
        year = int(m.group(3)) if m.group(3) else None
        return _day(year, int(m.group(2)), int(m.group(1)), today)
    months = _months(locale)
    if m := _DAY_MONTH.match(value):
        month = months.get(_fold(m.group(2)))
        if month is not None:
            return _day(int(m.group(3)) if m.group(3) else None, month, int(m.group(1)), today)
    if m := _MONTH_DAY.match(value):
        month = months.get(_fold(m.group(1)))
        if month is not None:
            return _day(int(m.group(3)) if m.group(3) else None, month, int(m.group(2)), today)
    return None
