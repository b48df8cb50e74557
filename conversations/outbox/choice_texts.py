"""The passenger's own choices as the messages show them: extra menu entries after the flights, and the answers to a choice.

Kept beside `rendering` (which calls it) so the renderer only asks: which extras does this
conversation offer (`conversations.choices.extras_of`), and what does each of these message kinds say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import locales
from conversations.choices import Extra, Extras, number_of, token
from conversations.engine import MessageKind
from conversations.models import Conversation
from conversations.ports import ChoiceView
from locales.formatting import format_date, format_time
from rebooking_core import airports
from rebooking_core.models import Flight

#: The message kinds this module words.
KINDS = frozenset(
    {
        MessageKind.REFUND_RECORDED,
        MessageKind.KEEP_CONFIRMED,
        MessageKind.ASK_DATE,
        MessageKind.DATE_OUT_OF_RANGE,
        MessageKind.CHOICE_NOT_OFFERED,
        MessageKind.CHOICE_ALREADY,
    }
)


def _day(day: dt.date | str | None, tz: str, loc: str) -> str:
    """A calendar day as the passenger's language writes it (noon, so the airport's zone never moves the day)."""
    if day is None:
        return ""
    value = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return format_date(dt.datetime.combine(value, dt.time(12), dt.UTC), tz, loc)


def new_time(flight: Flight, loc: str) -> str:
    """The delayed flight's expected departure, local at its airport."""
    return format_time(flight.est_dep_utc or flight.dep_utc, airports.get(flight.origin).tz, loc)


def menu(
    offer_id: int, offered: Extras, options: int, flight: Flight, loc: str
) -> tuple[ChoiceView, ...]:
    """The extras as menu entries, numbered after the `options` flights."""
    tz = airports.get(flight.origin).tz
    values = {"new_time": new_time(flight, loc), "latest": _day(offered.latest, tz, loc)}
    views = []
    for extra in offered.offered:
        number = number_of(extra, offered, options)
        if number is None:
            continue
        title = locales.render(f"choice.{extra.value}.title", loc)
        description = _render(f"choice.{extra.value}.description", loc, values)
        views.append(
            ChoiceView(
                token=token(extra, offer_id), number=number, title=title, description=description, own=True
            )
        )
    return tuple(views)


def _render(key: str, loc: str, values: Mapping[str, object]) -> str:
    wanted = locales.placeholders(key, loc)
    return locales.render(key, loc, **{k: v for k, v in values.items() if k in wanted})


def text(
    kind: MessageKind,
    params: Mapping[str, object],
    conv: Conversation,
    flight: Flight,
    offered: Extras,
    base: Mapping[str, object],
) -> str:
    """The body of one of `KINDS`."""
    loc = conv.locale
    tz = airports.get(flight.origin).tz
    values: dict[str, object] = {
        **base,
        "new_time": new_time(flight, loc),
        "earliest": _day(str(params.get("earliest") or "") or offered.earliest, tz, loc),
        "latest": _day(str(params.get("latest") or "") or offered.latest, tz, loc),
    }
    choice = str(params.get("choice") or Extra.REFUND.value)
    key = {
        MessageKind.REFUND_RECORDED: "choice.refund.recorded",
        MessageKind.KEEP_CONFIRMED: "choice.keep.confirmed",
        MessageKind.ASK_DATE: "choice.later.ask",
        MessageKind.DATE_OUT_OF_RANGE: "choice.later.out_of_range",
        MessageKind.CHOICE_NOT_OFFERED: f"choice.{choice}.not_offered",
        MessageKind.CHOICE_ALREADY: f"choice.{choice}.already",
    }[kind]
    return _render(key, loc, values)
