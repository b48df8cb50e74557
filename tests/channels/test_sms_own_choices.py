"""A UCS-2 SMS (Spanish with accents, Arabic) over its segment budget gives up flight lines before the refund it owes."""

from __future__ import annotations

import re

import pytest

import locales
from channels.segments import count_segments, encoding
from channels.sms import render_sms
from conversations.ports import ChoiceView, OutboundMessage, RightsNotice

PAGE = "https://rebook.example/p/AbCdEfGhIjKlMnOpQrStUv"


def offer_sms(loc: str, flights: int = 3) -> OutboundMessage:
    """A first offer as the renderer words it: catalog body, flights, then a refund and another date, numbered on."""
    body = locales.render(
        "offer.cancelled", loc, airline="Rebook Air", flight="RB100", origin="Madrid", destination="París", date="12 dic"
    )
    views = [
        ChoiceView(
            token=f"opt:{n}",
            number=n,
            title=locales.render("option.title", loc, dep=f"0{6 + n}:15", flights=f"RB10{2 * n}"),
            description=locales.render("option.direct", loc, arr=f"12 dic 1{n}:40"),
        )
        for n in range(1, flights + 1)
    ]
    for extra, values in (("refund", {}), ("later", {"latest": "26 dic"})):
        views.append(
            ChoiceView(
                token=f"{extra}:7",
                number=len(views) + 1,
                title=locales.render(f"choice.{extra}.title", loc),
                description=locales.render(f"choice.{extra}.description", loc, **values),
                own=True,
            )
        )
    return OutboundMessage(
        idempotency_key="k",
        to="+34600000000",
        locale=loc,
        body=body,
        choices=tuple(views),
        choices_prompt=locales.render("offer.prompt", loc, count=flights),
        page_link=PAGE,
        rights=RightsNotice(text="", short="EU261", link="https://r.example/eu261", tag="EU261"),
    )


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d)\) ", text, flags=re.M)]


@pytest.mark.parametrize("loc", ["es", "ar"])
def test_a_ucs2_offer_keeps_the_refund_line_and_drops_the_last_flight_first(loc: str) -> None:
    message = offer_sms(loc)
    text = render_sms(message, 4)
    assert encoding(text) == "UCS-2" and count_segments(text) <= 4
    refund = locales.render("choice.refund.title", loc)
    assert f"4) {refund}" in text, text
    shown = numbers(text)
    # The first flight always stays; whatever flight lines went, they went from the end.
    assert shown[0] == 1 and 4 in shown
    flights_shown = [n for n in shown if n <= 3]
    assert flights_shown == list(range(1, len(flights_shown) + 1))
    # Something had to give: all five lines do not fit four UCS-2 segments here.
    assert len(shown) < 5


@pytest.mark.parametrize("loc", ["es", "ar"])
def test_in_one_segment_the_first_flight_and_the_refund_stay(loc: str) -> None:
    text = render_sms(offer_sms(loc), 1)
    assert count_segments(text) == 1
    assert numbers(text) == [1, 4], text


def test_a_flight_only_menu_still_drops_its_trailing_options() -> None:
    message = offer_sms("es", flights=5)
    flights_only = OutboundMessage(**{**message.__dict__, "choices": tuple(c for c in message.choices if not c.own)})
    shown = numbers(render_sms(flights_only, 2))
    assert shown and shown == list(range(1, len(shown) + 1)) and len(shown) < 5
