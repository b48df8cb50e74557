"""Booking a chosen option: the rules (`rules`), the statements per database (`store`), `book_option`."""

from rebooking_core.booking.book import book_option
from rebooking_core.booking.rules import BookingResult, BookingStatus
from rebooking_core.booking.statements import OPTION_HEAD

__all__ = ["OPTION_HEAD", "BookingResult", "BookingStatus", "book_option"]
