"""SMS rendering within a segment budget, and SmsChannel driving the real twilio SDK at a local fake."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from channels.segments import count_segments, encoding
from channels.sms import (
    IDEMPOTENCY_HEADER,
    SmsChannel,
    normalize_e164,
    parse_inbound,
    parse_status,
    render_sms,
    verify_signature,
)
from conversations.ports import (
    ChoiceView,
    DeliveryState,
    InvalidCredentials,
    MessageRejected,
    OptedOut,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
    ReasonClass,
    RecipientUnreachable,
)
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"
PASSENGER = "+447700900123"
SENDER = "+14155550100"


def fixture(name: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def message(
    body: str = "Your flight BA123 LHR-JFK is cancelled.",
    choices: tuple[ChoiceView, ...] = (),
    prompt: str = "Reply with a number.",
    link: str | None = None,
    key: str = "msg-1",
) -> OutboundMessage:
    return OutboundMessage(
        idempotency_key=key,
        to=PASSENGER,
        locale="en",
        body=body,
        choices=choices,
        choices_prompt=prompt,
        page_link=link,
    )


def options(count: int, description: str = "arrives 18:40, same cabin") -> tuple[ChoiceView, ...]:
    return tuple(
        ChoiceView(
            token=f"t{i}", number=i, title=f"BA{100 + i} 17:{10 + i:02d}", description=description
        )
        for i in range(1, count + 1)
    )


# ---------------------------------------------------------------- render_sms


def test_render_layout_in_order() -> None:
    msg = message(choices=options(2), link="https://rebook.example/p/abc")
    assert render_sms(msg, 4) == (
        "Your flight BA123 LHR-JFK is cancelled.\n"
        "1) BA101 17:11 - arrives 18:40, same cabin\n"
        "2) BA102 17:12 - arrives 18:40, same cabin\n"
        "Reply with a number.\n"
        "https://rebook.example/p/abc"
    )


def test_render_keeps_choice_numbers_even_when_not_consecutive() -> None:
    picks = (
        ChoiceView("a", 2, "BA200", ""),
        ChoiceView("b", 5, "BA500", ""),
    )
    text = render_sms(message(choices=picks), 1)
    assert "2) BA200" in text and "5) BA500" in text
    assert "1)" not in text


def test_render_ignores_template() -> None:
    from conversations.ports import TemplateCall

    msg = message(choices=options(1))
    with_template = OutboundMessage(
        **{**msg.__dict__, "template": TemplateCall("flight_cancelled", "en", ("BA123",), None, "")}
    )
    assert render_sms(with_template, 4) == render_sms(msg, 4)


def test_render_uses_unicode_punctuation_only_when_already_ucs2() -> None:
    gsm = render_sms(message(choices=options(1)), 4)
    assert encoding(gsm) == "GSM-7"
    ucs = render_sms(message(body="Rejs odwołany.", choices=options(1)), 4)
    assert "1) BA101 17:11 — arrives" in ucs


def test_render_shortens_descriptions_first() -> None:
    msg = message(choices=options(3, description="x" * 100))
    assert count_segments(render_sms(msg, 9)) == 3
    text = render_sms(msg, 2)
    assert count_segments(text) == 2
    assert all(f"{n}) BA10{n} 17:1{n} - xxxxxxxxxx" in text for n in (1, 2, 3))
    assert text.count("...") == 3  # every description cut, every option kept
    assert msg.body in text


def test_render_drops_descriptions_before_options() -> None:
    msg = message(choices=options(6, description="d" * 40))
    text = render_sms(msg, 1)
    assert count_segments(text) == 1
    assert "ddd" not in text
    assert "1) BA101 17:11" in text


def test_render_drops_trailing_options_never_the_first() -> None:
    msg = message(body="b" * 100, choices=options(9))
    text = render_sms(msg, 1)
    assert count_segments(text) == 1
    assert "1) BA101" in text
    assert "9) BA109" not in text
    assert msg.body in text


def test_render_truncates_body_last() -> None:
    msg = message(body="word " * 100, choices=options(3), link="https://rebook.example/p/abc")
    text = render_sms(msg, 1)
    assert count_segments(text) == 1
    lines = text.split("\n")
    assert lines[0].endswith(" word...")  # cut between words, not inside one
    assert lines[1] == "1) BA101 17:11"
    assert "https://rebook.example/p/abc" not in text  # the link went before the options and the body did
    assert "Reply with a number." in lines


LINK = "https://rebook.example/p/4kQ9xZbW2mNc7RtY1vLp0a"


def test_the_page_link_rides_along_when_the_budget_allows() -> None:
    text = render_sms(message(choices=options(3), link=LINK), 4)
    assert text.split("\n")[-1] == LINK
    assert all(f"{i}) BA10{i}" in text for i in (1, 2, 3))


def test_the_page_link_is_dropped_before_any_option_is() -> None:
    """A body that leaves one segment room for three bare options but not for the link too: the options stay."""
    bare = options(3, description="")
    menu = render_sms(message(body="", choices=bare), 1)
    body = "x" * (160 - len(menu) - 5)
    three_bare = render_sms(message(body=body, choices=bare), 1)
    assert count_segments(three_bare) == 1 and len(three_bare) + len(LINK) > 160
    text = render_sms(message(body=body, choices=bare, link=LINK), 1)
    assert text == three_bare
    assert LINK not in text and all(f"{i}) BA10{i}" in text for i in (1, 2, 3))


def test_the_page_link_stays_whole_or_not_at_all() -> None:
    for segments in (1, 2, 3):
        text = render_sms(message(body="word " * 60, choices=options(5), link=LINK), segments)
        assert count_segments(text) <= segments
        assert LINK in text or "rebook.example" not in text


def test_arabic_ucs2_text_fits_fewer_options_than_english() -> None:
    choices = tuple(
        ChoiceView(f"t{i}", i, f"رحلة BA{100 + i} الساعة 17:{10 + i}", "") for i in range(1, 10)
    )
    arabic = OutboundMessage(
        idempotency_key="k",
        to=PASSENGER,
        locale="ar",
        body="تم إلغاء رحلتك BA123 من لندن إلى نيويورك. نعتذر عن الإزعاج.",
        choices=choices,
        choices_prompt="أرسل رقم الخيار.",
    )
    text = render_sms(arabic, 2)
    assert encoding(text) == "UCS-2"
    assert count_segments(text) <= 2
    shown = [c.number for c in choices if f"{c.number}) {c.title}" in text]
    assert shown[0] == 1 and shown == list(range(1, len(shown) + 1))
    assert 1 <= len(shown) < 9
    english = render_sms(message(choices=options(9, description="")), 2)
    assert "9) BA109" in english


def test_render_caps_at_nine_choices() -> None:
    text = render_sms(message(choices=options(12, description="")), 10)
    assert "9) BA109" in text and "10) BA110" not in text


def test_render_never_exceeds_twilio_body_limit() -> None:
    text = render_sms(message(body="a" * 5000), 20)
    assert len(text) <= 1600


def test_render_extreme_budget_still_fits() -> None:
    huge = (ChoiceView("t", 1, "T" * 400, ""),)
    text = render_sms(message(choices=huge), 1)
    assert count_segments(text) == 1


def test_render_rejects_zero_budget() -> None:
    with pytest.raises(ValueError):
        render_sms(message(), 0)


# ---------------------------------------------------------------- SmsChannel against the fake


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    yield FakeTwilio()


@pytest.fixture
def server(fake: FakeTwilio) -> Iterator[LocalServer]:
    with LocalServer(fake.app) as srv:
        yield srv
        fake.release()


@pytest.fixture
async def channel(fake: FakeTwilio, server: LocalServer) -> AsyncIterator[SmsChannel]:
    ch = SmsChannel(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=SENDER,
        api_base=server.url,
        status_callback_url="https://rebook.example/webhooks/twilio/status",
    )
    yield ch
    await ch.aclose()


def test_channel_declares_its_limits() -> None:
    ch = SmsChannel(account_sid="AC1", auth_token="t", from_number=SENDER, max_segments=3)
    assert ch.capabilities.max_segments == 3
    assert ch.capabilities.max_choices == 9
    assert ch.capabilities.rate_per_second == 1.0
    assert ch.capabilities.session_window is None
    assert ch.capabilities.supports_templates is False
    assert SmsChannel.capabilities.max_segments == 4  # class default untouched


async def test_send_success(channel: SmsChannel, fake: FakeTwilio) -> None:
    msg = message(choices=options(2), key="offer-42:sms")
    result = await channel.send(msg)

    assert result.provider == "twilio"
    assert result.provider_message_id.startswith("SM") and len(result.provider_message_id) == 34
    assert len(fake.requests) == 1
    req = fake.requests[0]
    assert req.account_sid == fake.account_sid
    assert req.form["To"] == PASSENGER
    assert req.form["From"] == SENDER
    assert req.form["Body"] == render_sms(msg, 4)
    assert req.form["StatusCallback"] == "https://rebook.example/webhooks/twilio/status"
    expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
    assert req.headers["authorization"] == f"Basic {expected}"
    assert req.headers[IDEMPOTENCY_HEADER.lower()] == "offer-42:sms"
    assert result.segments == count_segments(req.form["Body"])


async def test_send_with_messaging_service(fake: FakeTwilio, server: LocalServer) -> None:
    ch = SmsChannel(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number="MG" + "1" * 32,
        api_base=server.url,
    )
    try:
        await ch.send(message())
    finally:
        await ch.aclose()
    form = fake.requests[0].form
    assert form["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in form and "StatusCallback" not in form


async def test_concurrent_sends_carry_their_own_idempotency_keys(
    channel: SmsChannel, fake: FakeTwilio
) -> None:
    keys = [f"k{i}" for i in range(5)]
    await asyncio.gather(*(channel.send(message(key=k)) for k in keys))
    assert sorted(r.headers[IDEMPOTENCY_HEADER.lower()] for r in fake.requests) == keys


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2.5", 2.5), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", 1.0)],
)
async def test_retry_after_forms(
    channel: SmsChannel, fake: FakeTwilio, header: str, seconds: float
) -> None:
    fake.fail_next(1, status=429, code=20429, retry_after=header)
    with pytest.raises(RateLimited) as info:
        await channel.send(message())
    assert info.value.retry_after == seconds


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (500, 20500, ProviderUnavailable),
        (503, 20503, ProviderUnavailable),
        (400, 21610, OptedOut),
        (400, 21211, RecipientUnreachable),
        (400, 21614, RecipientUnreachable),
        (400, 21612, RecipientUnreachable),
        (400, 30006, RecipientUnreachable),
        (404, 20404, InvalidCredentials),
        (400, 21408, MessageRejected),
        (400, 21617, MessageRejected),
    ],
)
async def test_error_mapping(
    channel: SmsChannel, fake: FakeTwilio, status: int, code: int, error: type[Exception]
) -> None:
    fake.fail_next(1, status=status, code=code)
    with pytest.raises(error) as info:
        await channel.send(message())
    assert getattr(info.value, "code", None) == str(code)


async def test_timeout_is_provider_unavailable(fake: FakeTwilio, server: LocalServer) -> None:
    fake.hang_next(1)
    ch = SmsChannel(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number=SENDER,
        api_base=server.url,
        timeout_seconds=0.2,
    )
    try:
        with pytest.raises(ProviderUnavailable):
            await ch.send(message())
    finally:
        fake.release()
        await ch.aclose()


def test_channel_builds_no_session_outside_a_loop() -> None:
    ch = SmsChannel(account_sid="AC1", auth_token="t", from_number=SENDER)
    assert ch._http is None


async def test_aclose_closes_session_and_is_idempotent(channel: SmsChannel) -> None:
    await channel.send(message())
    http = channel._http
    assert http is not None and http.session is not None
    await channel.aclose()
    assert http.session.closed
    await channel.aclose()


# ---------------------------------------------------------------- parsing and signatures


def test_parse_inbound_fixture() -> None:
    event = parse_inbound(fixture("inbound_sms"))
    assert (event.provider, event.channel) == ("twilio", "sms")
    assert event.event_id == "SM0f3c2b6a9e1d4c7b8a5f2e1d0c9b8a71"
    assert event.sender == "+12125550123"
    assert event.text == "2"
    assert event.choice_token is None
    assert event.received_at.tzinfo is not None


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("+12125550123", "+12125550123"),
        (" +1 (212) 555-0123 ", "+12125550123"),
        ("0044 7700 900123", "+447700900123"),
        ("+44.7700.900.123", "+447700900123"),
    ],
)
def test_normalize_e164(raw: str, normalized: str) -> None:
    assert normalize_e164(raw) == normalized


@pytest.mark.parametrize("raw", ["", "12125550123", "+0123456", "+1234", "+1" + "2" * 15, "TWILIO"])
def test_normalize_e164_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_e164(raw)


def test_parse_inbound_malformed() -> None:
    with pytest.raises(ValueError, match="MessageSid"):
        parse_inbound(fixture("inbound_sms_no_sid"))
    form = fixture("inbound_sms")
    del form["From"]
    with pytest.raises(ValueError, match="From"):
        parse_inbound(form)


@pytest.mark.parametrize(
    ("name", "state", "code", "reason"),
    [
        ("status_sent", DeliveryState.SENT, None, None),
        ("status_delivered", DeliveryState.DELIVERED, None, None),
        ("status_undelivered_30003", DeliveryState.FAILED, "30003", ReasonClass.PERMANENT),
        ("status_failed_30001", DeliveryState.FAILED, "30001", ReasonClass.TEMPORARY),
        ("status_failed_21610", DeliveryState.FAILED, "21610", ReasonClass.POLICY),
    ],
)
def test_parse_status_fixtures(
    name: str, state: DeliveryState, code: str | None, reason: ReasonClass | None
) -> None:
    form = fixture(name)
    receipt = parse_status(form)
    assert receipt.provider == "twilio"
    assert receipt.provider_message_id == form["MessageSid"]
    assert receipt.event_id == f"{form['MessageSid']}:{form['MessageStatus']}"
    assert receipt.state is state
    assert receipt.error_code == code
    assert receipt.reason_class is reason


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("queued", DeliveryState.QUEUED),
        ("accepted", DeliveryState.QUEUED),
        ("sending", DeliveryState.QUEUED),
        ("read", DeliveryState.READ),
    ],
)
def test_parse_status_states(status: str, state: DeliveryState) -> None:
    form = {**fixture("status_sent"), "MessageStatus": status}
    assert parse_status(form).state is state


def test_parse_status_failed_without_code_is_permanent() -> None:
    form = {**fixture("status_sent"), "MessageStatus": "failed"}
    receipt = parse_status(form)
    assert receipt.error_code is None
    assert receipt.reason_class is ReasonClass.PERMANENT


def test_parse_status_malformed() -> None:
    form = fixture("status_sent")
    del form["MessageSid"]
    with pytest.raises(ValueError, match="MessageSid"):
        parse_status(form)


def test_verify_signature() -> None:
    from twilio.request_validator import RequestValidator

    url = "https://rebook.example/webhooks/twilio/sms"
    form = fixture("inbound_sms")
    good = RequestValidator("token").compute_signature(url, form)
    assert verify_signature("token", url, form, good)
    assert not verify_signature("other", url, form, good)
    assert not verify_signature("token", url, {**form, "Body": "3"}, good)
    assert not verify_signature("token", url, form, None)
    assert not verify_signature("token", url, form, "")
