"""The care-voucher message and page lines, from the locale catalogs: one line per voucher with its code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import locales
from locales.formatting import format_datetime, format_money
from rebooking_core import airports

__all__ = ["care_body", "voucher_line"]


def voucher_line(voucher: Mapping[str, Any], loc: str, *, airline: str) -> str:
    """What one voucher is good for, where, until when, and its code."""
    kind = str(voucher["kind"])
    amount = format_money(int(voucher["amount"]), str(voucher["currency"]), loc)
    code = str(voucher["code"])
    if kind == "hotel":
        hotel = voucher.get("hotel")
        if hotel:
            return locales.render("care.hotel", loc, hotel=hotel, code=code)
        return locales.render("care.hotel_desk", loc, airline=airline, code=code)
    if kind == "transfer":
        return locales.render("care.transfer", loc, amount=amount, code=code)
    until = voucher["valid_until"]
    at = until if isinstance(until, dt.datetime) else dt.datetime.fromisoformat(str(until))
    try:
        tz = airports.get(str(voucher.get("airport", ""))).tz
    except KeyError:
        tz = "UTC"
    return locales.render(
        "care.meal", loc, amount=amount, time=format_datetime(at, tz, loc), code=code
    )


def care_body(vouchers: Iterable[Mapping[str, Any]], loc: str, *, airline: str, flight: str) -> str:
    """The whole message: why, then a line per voucher."""
    lines = [voucher_line(v, loc, airline=airline) for v in vouchers]
    return "\n".join([locales.render("care.voucher", loc, airline=airline, flight=flight), *lines])
