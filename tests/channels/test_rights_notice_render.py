"""Each channel shows a first message's notice of rights within its limits (issue #21.4), from the real renderers."""

from __future__ import annotations

import datetime as dt

import pytest

from channels.email import render_html, render_text
from channels.segments import count_segments
from channels.sms import render_sms
from channels.telegram import render_telegram
from channels.whatsapp.render import MAX_INTERACTIVE_BODY, render_whatsapp
from conversations.ports import ChoiceView, OutboundMessage, RightsNotice, TemplateRequired

RIGHTS = RightsNotice(
    text="Under EU Regulation 261/2004 you may choose a refund or rerouting, and care while you wait; compensation may be due.",
    short="EU261 rights: refund or rerouting, care; compensation may be due:",
    link="https://rebook.example.com/rights/eu261?lang=en",
    tag="EU261",
)
PAGE = "https://rebook.example.com/p/3RMgfc8kr4es0cQxe5uuyG"


def offer(
    body: str = "Rebook Air: Your flight RB100 is cancelled. We've held seats for you.",
    options: int = 3,
) -> OutboundMessage:
    choices = tuple(
        ChoiceView(
            token=f"opt:1:{n}",
            number=n,
            title=f"{8 + n}:30 RB10{n}",
            description="Direct, arrives Tue, Dec 8, 12:00 PM",
        )
        for n in range(1, options + 1)
    )
    return OutboundMessage(
        idempotency_key="k",
        to="+15550001234",
        locale="en",
        body=body,
        choices=choices,
        choices_prompt="Reply 1-3, or AGENT.",
        page_link=PAGE,
        rights=RIGHTS,
        window_open_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )


def test_sms_keeps_the_short_notice_and_its_link_whole_before_the_page_link() -> None:
    text = render_sms(offer(), 4)
    assert f"{RIGHTS.short} {RIGHTS.link}\n{PAGE}" in text
    assert RIGHTS.text not in text  # the SMS gets the short version only
    assert count_segments(text) <= 4


def test_sms_without_room_shrinks_the_notice_to_its_tag_and_the_page_before_losing_an_option() -> (
    None
):
    message = offer(body="Rebook Air: " + "Your flight RB100 is cancelled. " * 5)
    text = render_sms(message, 2)
    assert count_segments(text) <= 2
    assert f"EU261: {PAGE}" in text
    assert RIGHTS.short not in text
    assert all(f"{n}) " in text for n in (1, 2, 3))


def test_sms_of_a_message_without_notice_is_unchanged() -> None:
    plain = OutboundMessage(**{**offer().__dict__, "rights": None})
    assert "rights" not in render_sms(plain, 4)


def test_whatsapp_interactive_body_carries_the_full_notice_and_ends_with_the_page() -> None:
    payload = render_whatsapp(offer(), dt.datetime.now(dt.UTC))
    assert payload.kind == "buttons"
    assert f"{RIGHTS.text}\n{RIGHTS.link}\n\n{PAGE}" in payload.text
    assert payload.text.endswith(PAGE)
    long = render_whatsapp(offer(body="x " * 2000), dt.datetime.now(dt.UTC))
    assert (
        len(long.text) <= MAX_INTERACTIVE_BODY and f"{RIGHTS.text}\n{RIGHTS.link}" in long.text
    )  # the body is cut, not the notice


def test_whatsapp_outside_the_window_never_sends_the_notice_as_free_text() -> None:
    closed = OutboundMessage(**{**offer().__dict__, "window_open_until": None, "template": None})
    with pytest.raises(TemplateRequired):
        render_whatsapp(closed, dt.datetime.now(dt.UTC))


def test_email_and_telegram_show_the_full_notice_with_the_link() -> None:
    message = offer()
    assert f"{RIGHTS.text}\nYour rights in full: {RIGHTS.link}" in render_text(message)
    html = render_html(message, None)
    assert RIGHTS.text.replace("'", "&#x27;") in html and f'href="{RIGHTS.link}"' in html
    assert f"{RIGHTS.text}\n{RIGHTS.link}" in render_telegram(message).text
