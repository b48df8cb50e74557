"""REBOOK_CHOICES__*: the passenger's own choices beside the offered flights (conversations/choices.py, docs/choices.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ChoicesSettings(BaseModel):
    """Refund instead, keep a delayed flight, a later date: shown where the rights engine or the airline allows them."""

    #: On by default (a refund is the passenger's right under EU261 Art. 8 and must be offered). Off: offers show only
    #: flights, and "refund", "keep" or a date are not read as choices (the page's refund asks a person).
    enabled: bool = True
    #: Offer a refund on request even where no regime gives a right to one (EU261/UK261 cancellation or 5 h delay, APPR).
    refund_by_policy: bool = False
    #: A later date may be at most this many days after the original departure.
    later_days: int = Field(default=14, ge=1, le=365)
    #: Days named with no flight on them ("nothing on <day>, name another") before a person takes over.
    later_tries: int = Field(default=3, ge=1, le=10)
