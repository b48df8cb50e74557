"""Passenger-facing text: gettext catalogs per language and locale-aware formats, via babel only."""

from .catalog import (
    DEFAULT,
    SUPPORTED,
    Catalogs,
    catalog_problems,
    is_rtl,
    keys,
    messages,
    negotiate,
    placeholders,
    render,
)
from .formatting import format_date, format_datetime, format_money, format_time

__all__ = [
    "DEFAULT",
    "SUPPORTED",
    "Catalogs",
    "catalog_problems",
    "format_date",
    "format_datetime",
    "format_money",
    "format_time",
    "is_rtl",
    "keys",
    "messages",
    "negotiate",
    "placeholders",
    "render",
]
