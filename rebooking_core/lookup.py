"""Finding passengers by what an operator knows: a booking locator, a phone number or an e-mail address.

Addresses are stored encrypted; they are found through their blind index (a keyed hash of the
normalised value, `infra.crypto.Keyring.blind_index`), the way inbound messages find their sender.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, select

from infra import crypto
from rebooking_core.models import Booking, ContactPoint, Passenger

PHONE_CHANNELS = ("sms", "whatsapp")
EMAIL_CHANNELS = ("email",)
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
#: What people write inside a number: spaces, dots, dashes, brackets.
_SEPARATORS = re.compile(r"[\s().\-/]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class BadLookup(ValueError):
    """A lookup value that cannot name anyone (the message says what form it takes, never the value)."""


def phone_number(raw: str) -> str:
    """A phone number as contact points store it (E.164, `+` first): separators dropped, `00` read as `+`."""
    number = _SEPARATORS.sub("", raw)
    if number.startswith("00"):
        number = "+" + number[2:]
    if _E164.match(number) is None:
        raise BadLookup("phone must be an international number, e.g. +4915112345678")
    return number


def email_address(raw: str) -> str:
    address = raw.strip()
    if _EMAIL.match(address) is None:
        raise BadLookup("email must be an e-mail address, e.g. name@example.com")
    return address


def passengers_matching(*, locator: str | None = None, phone: str | None = None, email: str | None = None) -> Select[Any]:
    """Ids of passengers matching every criterion given (at least one); raises BadLookup for a malformed phone or e-mail."""
    if locator is None and phone is None and email is None:
        raise BadLookup("give a locator, a phone or an email")
    query = select(Passenger.id)
    if locator is not None:
        query = query.where(Passenger.booking_id.in_(select(Booking.id).where(Booking.locator == locator.strip().upper())))
    ring = crypto.keyring()
    for value, channels in ((phone and phone_number(phone), PHONE_CHANNELS), (email and email_address(email), EMAIL_CHANNELS)):
        if value:
            reachable = select(ContactPoint.passenger_id).where(
                ContactPoint.channel.in_(channels), ContactPoint.address_hash == ring.blind_index(value)
            )
            query = query.where(Passenger.id.in_(reachable))
    return query


def bookings_matching(*, locator: str | None = None, phone: str | None = None, email: str | None = None) -> Select[Any]:
    """Ids of the bookings of those passengers (a conversation belongs to a booking)."""
    matching = passengers_matching(locator=locator, phone=phone, email=email).subquery()
    return select(Passenger.booking_id).where(Passenger.id.in_(select(matching.c.id)))
