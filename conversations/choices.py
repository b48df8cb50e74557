"""The passenger's own choices beside the offered flights: a refund instead, keeping a delayed flight, a later date.

Which of them a conversation offers is decided here, from what the booking's conversation already
holds (its impact and cause), the disruption and the rights engine (`refund_right`), and the
airline's settings. The renderer shows them after the options, numbered on (an SMS "4" is the
first of them when three options were shown); a reply names one by its token (a tapped button or
list row), that number, or a word of the passenger's language (`choice.<name>.words`). Whoever
reads a reply asks `event_for`, so every channel and the page turn the same answer into the same
engine event, and a choice not offered becomes `ChoiceUnavailable` (the passenger is told why).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

import locales
from conversations.engine import (
    ChoiceUnavailable,
    DateGiven,
    Event,
    KeepChosen,
    LaterDateAsked,
    RefundChosen,
    TextReceived,
)
from conversations.impact_json import impact_from_json
from conversations.models import Conversation
from conversations.ports import InboundText
from locales.dates import parse_day
from rebooking_core import claims
from rebooking_core.impact import ImpactedBooking
from rebooking_core.models import Disruption, Flight
from rebooking_core.rights.carriers import Carriers
from rebooking_core.types import DisruptionKind

#: The basis a refund records when only the airline's policy, not a regime, grants it.
POLICY_BASIS = "airline policy: refund on request"


class Extra(StrEnum):
    """A choice beside the offered flights, in the order they are shown."""

    REFUND = "refund"
    KEEP = "keep"
    LATER = "later"


@dataclass(frozen=True)
class ChoiceConfig:
    """The airline's settings for the passenger's own choices (REBOOK_CHOICES__*)."""

    enabled: bool = True
    #: Offer a refund even where no regime gives a right to one.
    refund_by_policy: bool = False
    #: How far after the original departure a later date may be (days).
    later_days: int = 14
    #: Days named with nothing leaving on them before a person takes over (each one answered "nothing on <day>").
    later_tries: int = 3
    carriers: Carriers = field(default_factory=Carriers)


#: Off: no extra choice is shown or read (a renderer or router built without settings).
OFF = ChoiceConfig(enabled=False)


@dataclass(frozen=True)
class Extras:
    """What one conversation offers besides its flights, and the legal basis a refund would record."""

    offered: tuple[Extra, ...] = ()
    refund_basis: str = ""
    #: The range a later date may fall in.
    earliest: dt.date | None = None
    latest: dt.date | None = None


NONE = Extras()

_TOKEN = re.compile(r"^(refund|keep|later):(\d+)$")


def token(extra: Extra, offer_id: int) -> str:
    """What a button or list row carries back (Telegram signs it; 64 bytes are plenty)."""
    return f"{extra.value}:{offer_id}"


def read_token(value: str | None) -> Extra | None:
    """The choice a tapped token names, None for any other token."""
    m = _TOKEN.match(value or "")
    return Extra(m.group(1)) if m else None


def number_of(extra: Extra, extras: Extras, options: int) -> int | None:
    """The number the menu shows for `extra`: after the `options` flights, in `Extras.offered` order."""
    if extra not in extras.offered:
        return None
    return options + 1 + extras.offered.index(extra)


def by_number(number: int, extras: Extras, options: int) -> Extra | None:
    """The extra a typed number names, None when it names a flight or nothing."""
    index = number - options - 1
    return extras.offered[index] if 0 <= index < len(extras.offered) else None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip(" .!")


def by_word(text: str | None, locale: str) -> Extra | None:
    """The choice a typed word names ("refund", "Erstattung", "R"), in the passenger's language or English."""
    if not text or len(text) > 40:
        return None
    said = _fold(text)
    for extra in Extra:
        for loc in dict.fromkeys((locale, "en")):
            words = locales.render(f"choice.{extra.value}.words", loc)
            if said in {_fold(w) for w in words.split(",") if w.strip()}:
                return extra
    return None


def extras_of(
    impact: dict[str, Any],
    disruption: Disruption | None,
    flight: Flight | None,
    config: ChoiceConfig,
    *,
    today: dt.date,
) -> Extras:
    """The choices this booking's conversation offers now (pure: the caller reads the rows)."""
    if not config.enabled or disruption is None or flight is None or not impact:
        return NONE
    impacted = impact_from_json(impact)
    cause = str(impact.get("cause") or disruption.kind)
    delayed = cause == DisruptionKind.DELAYED.value
    outcome = claims.decide(
        impacted,
        disruption,
        config.carriers.licence_of(flight.carrier),
        config.carriers.size,
        claims._as_it_stands(impacted, disruption, flight),
    )
    offered: list[Extra] = []
    basis = ""
    if outcome.refund_right:
        offered.append(Extra.REFUND)
        basis = outcome.basis
    elif config.refund_by_policy:
        offered.append(Extra.REFUND)
        basis = POLICY_BASIS
    if delayed and not impacted.missed_connection:
        offered.append(Extra.KEEP)
    if not delayed or outcome.refund_right:
        offered.append(Extra.LATER)
    departure = (impacted.original_departure or impacted.not_before).date()
    earliest = max(today, impacted.not_before.date())
    return Extras(
        tuple(offered),
        basis,
        earliest,
        max(departure, earliest) + dt.timedelta(days=config.later_days),
    )


async def load_extras(
    s: AsyncSession,
    impact: dict[str, Any],
    disruption_id: int,
    flight_id: int,
    config: ChoiceConfig,
    *,
    today: dt.date,
) -> Extras:
    """`extras_of` with its disruption and flight read (two primary-key reads, often already in the session)."""
    if not config.enabled:
        return NONE
    disruption = await s.get(Disruption, disruption_id)
    flight = await s.get(Flight, flight_id)
    return extras_of(impact, disruption, flight, config, today=today)


def event_for(extra: Extra, extras: Extras, channel: str) -> Event:
    """The engine event a chosen extra is: the choice itself when offered, else `ChoiceUnavailable`."""
    if extra not in extras.offered:
        return ChoiceUnavailable(channel, extra.value)
    if extra is Extra.REFUND:
        return RefundChosen(channel, extras.refund_basis)
    if extra is Extra.KEEP:
        return KeepChosen(channel)
    return LaterDateAsked(channel)


def date_event(
    text: str | None, locale: str, extras: Extras, channel: str, *, today: dt.date
) -> Event | None:
    """A typed date as `DateGiven` (the engine checks the range), None when the text is no date or no later date is offered."""
    if Extra.LATER not in extras.offered or extras.earliest is None or extras.latest is None:
        return None
    day = parse_day(text or "", locale, today=today)
    if day is None:
        return None
    return DateGiven(channel, day, extras.earliest, extras.latest)


def on_date(
    impacted: ImpactedBooking, day: dt.date, tz: str
) -> tuple[ImpactedBooking, dt.datetime, dt.datetime]:
    """The booking searched from the start of `day` at the departure airport, and that day's [start, end) in UTC."""
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(day, dt.time(0), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    return dataclasses.replace(impacted, not_before=max(impacted.not_before, start)), start, end


_NUMBER = re.compile(r"^\s*#?(\d{1,2})[.)]?\s*$")


async def read_reply(
    s: AsyncSession,
    conv: Conversation,
    options: int,
    reply: InboundText,
    event: Event,
    config: ChoiceConfig,
    *,
    now: dt.datetime,
) -> Event:
    """A reply read as one of the passenger's own choices when it names one; else `event` (the reply as read before).

    Only a token of ours, or a reply not otherwise understood (a number past the flights, a word, a
    date), costs the two reads `load_extras` makes: a tapped flight or a keyword pays nothing.
    """
    if not config.enabled:
        return event
    extra = read_token(reply.choice_token)
    if extra is None and not isinstance(event, TextReceived):
        return event
    today = now.date()
    extras = await load_extras(
        s, conv.impact, conv.disruption_id, conv.flight_id, config, today=today
    )
    if extra is not None:
        return event_for(extra, extras, reply.channel)
    text = reply.text or ""
    if m := _NUMBER.match(text):
        numbered = by_number(int(m.group(1)), extras, options)
        return event_for(numbered, extras, reply.channel) if numbered is not None else event
    if (worded := by_word(text, conv.locale)) is not None:
        return event_for(worded, extras, reply.channel)
    return date_event(text, conv.locale, extras, reply.channel, today=today) or event
