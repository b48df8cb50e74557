"""The e-mail channel against a local SMTP relay (aiosmtpd): MIME structure, headers, errors mapped once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels.email import EmailChannel, render_html, render_text
from conversations.ports import (
    ChoiceView,
    InvalidCredentials,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
)
from tests.fakes.smtp import NO_SUCH_MAILBOX, PASSWORD, USERNAME, LocalSmtp, free_port

# aiosmtpd 1.4 warns about its own deprecated Session.login_data while authenticating.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:aiosmtpd.*")

PAGE = "https://rebook.example.test/p/AbCdEfGhIjKlMnOpQrStUv"
FROM = "Rebook Air <noreply@rebook.example.test>"


def offer(**overrides: object) -> OutboundMessage:
    values: dict[str, object] = {
        "idempotency_key": "c7-v0-1",
        "to": "ada.lovelace@example.com",
        "locale": "en",
        "body": "Rebook Air: We're sorry, your flight RB196 from Frankfurt to Hamburg is cancelled. We've held seats.",
        "choices": (
            ChoiceView("opt:3:11", 1, "10:25 RB190", "Thu, Dec 17 · Direct, arrives 11:25"),
            ChoiceView("opt:3:12", 2, "13:05 RB192", "Thu, Dec 17 · Direct, arrives 14:05"),
        ),
        "footer": "Seats held until 8:07 AM.",
        "page_link": PAGE,
        "thread": "conversation-7",
    }
    values.update(overrides)
    return OutboundMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def smtp() -> Iterator[LocalSmtp]:
    with LocalSmtp() as server:
        yield server


def channel(smtp: LocalSmtp, **overrides: object) -> EmailChannel:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "from_address": FROM,
        "username": USERNAME,
        "password": PASSWORD,
        "tls": "none",
        "unsubscribe_mailbox": "unsubscribe@rebook.example.test",
    }
    values.update(overrides)
    return EmailChannel(**values)  # type: ignore[arg-type]


async def test_an_offer_is_multipart_with_both_parts_and_every_header(smtp: LocalSmtp) -> None:
    result = await channel(smtp).send(offer())

    [got] = smtp.fake.received
    mail = got.message
    assert result.provider == "smtp" and result.provider_message_id.startswith("0100019a-fake-")
    assert got.recipients == ["ada.lovelace@example.com"]
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    page = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for part in (text, page):
        assert "RB196" in part
        assert f"{PAGE}/confirm/11" in part and f"{PAGE}/confirm/12" in part
        assert "Replies to this e-mail are not read" in part
    assert text.startswith(offer().body)
    assert mail["From"] == FROM and mail["To"] == "ada.lovelace@example.com"
    assert mail["Subject"] == "Rebook Air: We're sorry, your flight RB196 from Frankfurt to Hamburg is cancelled."
    assert mail["Message-ID"].startswith("<rebook.") and mail["Message-ID"].endswith("@rebook.example.test>")
    assert mail["In-Reply-To"] == mail["References"]
    assert mail["List-Unsubscribe"].strip() == (
        "<https://rebook.example.test/email/unsubscribe/AbCdEfGhIjKlMnOpQrStUv>, "
        "<mailto:unsubscribe@rebook.example.test?subject=unsubscribe>"
    )
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Content-Language"] == "en"
    assert "Ada" not in str(mail.items()).replace("ada.lovelace@example.com", "")


async def test_a_resend_keeps_its_message_id_and_a_conversation_keeps_its_thread(smtp: LocalSmtp) -> None:
    email = channel(smtp)
    await email.send(offer())
    await email.send(offer())
    await email.send(offer(idempotency_key="c7-v1-1", choices=(), body="You're rebooked on RB190."))
    await email.send(offer(idempotency_key="c8-v0-1", thread="conversation-8"))

    first, again, booked, other = (r.message for r in smtp.fake.received)
    assert first["Message-ID"] == again["Message-ID"] != booked["Message-ID"]
    assert first["In-Reply-To"] == booked["In-Reply-To"] != other["In-Reply-To"]


def test_arabic_is_right_to_left_and_every_link_goes_to_a_confirm_step_never_a_booking() -> None:
    page = render_html(offer(locale="ar"), "https://rebook.example.test/email/unsubscribe/x")
    text = render_text(offer(locale="ar"))

    assert '<html lang="ar" dir="rtl">' in page
    assert "اختر الخيار 1" in text
    assert all("/confirm/" in line or line.endswith(PAGE) for line in text.splitlines() if "https://" in line)


def test_without_a_page_link_there_are_no_links_and_no_one_click_header() -> None:
    email = EmailChannel(host="127.0.0.1", port=25, from_address=FROM, tls="none")
    mail = email.compose(offer(page_link=None))

    assert "https://" not in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert mail["List-Unsubscribe"] == "<mailto:noreply@rebook.example.test?subject=unsubscribe>"
    assert mail["List-Unsubscribe-Post"] is None


async def test_smtp_replies_map_to_the_channel_errors(smtp: LocalSmtp) -> None:
    email = channel(smtp)
    smtp.fake.fail_next("454 4.7.0 Throttling failure: Maximum sending rate exceeded. Try again in 7 seconds.")
    with pytest.raises(RateLimited) as throttled:
        await email.send(offer())
    smtp.fake.fail_next("421 4.3.2 Service not available")
    with pytest.raises(ProviderUnavailable) as unavailable:
        await email.send(offer())
    with pytest.raises(RecipientUnreachable) as unknown:
        await email.send(offer(to=NO_SUCH_MAILBOX))
    with pytest.raises(RecipientUnreachable) as malformed:
        await email.send(offer(to="ada@example.com\r\nRCPT TO:<eve@example.com>"))
    with pytest.raises(InvalidCredentials) as refused:
        await channel(smtp, password="wrong").send(offer())
    with pytest.raises(ProviderUnavailable) as offline:
        await channel(smtp, port=free_port()).send(offer())

    assert (throttled.value.code, throttled.value.retry_after) == ("454", 7.0)
    assert unavailable.value.code == "421"
    assert (unknown.value.code, malformed.value.code) == ("550", "invalid_address")
    assert refused.value.code == "535"
    assert offline.value.code == "connect"
    assert smtp.fake.received == []
