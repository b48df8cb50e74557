"""WhatsApp adapter: pure rendering, real pywa_async sends against the local Graph fake, parsing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

import locales
from channels.whatsapp import WhatsAppChannel, parse_webhook, render_whatsapp, verify_signature
from channels.whatsapp.client import DEFAULT_TEMPLATES
from channels.whatsapp.render import clip, shorten_title
from channels.whatsapp.templates import template_definitions
from conversations.broadcasts.broadcaster import TEMPLATE_KEY as BROADCAST_KEY
from conversations.ports import (
    ChoiceView,
    DeliveryReceipt,
    DeliveryState,
    InboundText,
    InvalidCredentials,
    MessageRejected,
    OptedOut,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
    ReasonClass,
    RecipientUnreachable,
    TemplateCall,
    TemplateRequired,
)
from tests.fakes.graph_api import FakeGraphAPI
from tests.fakes.server import LocalServer

FIXTURES = Path(__file__).parent / "fixtures" / "whatsapp"
NOW = dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC)
OPEN = NOW + dt.timedelta(hours=3)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def choices(n: int, title: str = "IB{n} Madrid → London Heathrow 18:40") -> tuple[ChoiceView, ...]:
    return tuple(
        ChoiceView(
            token=f"opt.7f3a9c.{i}",
            number=i,
            title=title.format(n=3160 + i),
            description=f"Arrives 21:{i:02d}, +{i} h later than planned, same cabin, seat held for you",
        )
        for i in range(1, n + 1)
    )


TEMPLATE = TemplateCall(
    key="disruption_notice",
    locale="es",
    params=("Iberia", "IB3166", "MAD → LHR", "12 mar"),
    quick_reply_payload="offer.7f3a9c.show",
    quick_reply_title="Ver mis opciones",
)


def live(**overrides: Any) -> OutboundMessage:
    """A message whose window is open by the wall clock the channel reads."""
    overrides.setdefault("window_open_until", dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    return message(**overrides)


def message(**overrides: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "idempotency_key": "msg-0001",
        "to": "+34600111222",
        "locale": "es",
        "body": "Your flight IB3166 to London was cancelled. Pick a new flight:",
        "choices_prompt": "Choose an option",
        "list_button": "See flights",
        "template": TEMPLATE,
        "window_open_until": OPEN,
    }
    values.update(overrides)
    return OutboundMessage(**values)


# --------------------------------------------------------------------------- renderer


@pytest.mark.parametrize(
    ("overrides", "kind", "count"),
    [
        ({"window_open_until": None, "choices": choices(3)}, "template", 0),
        ({"window_open_until": NOW, "choices": choices(3)}, "template", 0),
        ({"window_open_until": NOW - dt.timedelta(minutes=1)}, "template", 0),
        ({"choices": ()}, "text", 0),
        ({"choices": choices(1)}, "buttons", 1),
        ({"choices": choices(3)}, "buttons", 3),
        ({"choices": choices(4)}, "list", 4),
        ({"choices": choices(7)}, "list", 7),
        ({"choices": choices(12)}, "list", 10),
    ],
)
def test_render_picks_the_shape_meta_accepts(
    overrides: dict[str, Any], kind: str, count: int
) -> None:
    payload = render_whatsapp(message(**overrides), NOW)
    assert payload.kind == kind
    assert payload.to == "34600111222"
    assert len(payload.buttons) + len(payload.rows) == count
    for button in payload.buttons:
        assert len(button.title) <= 20
        assert len(button.id) <= 256
    for row in payload.rows:
        assert len(row.title) <= 24
        assert len(row.description) <= 72
    if kind in ("buttons", "list"):
        assert len(payload.text) <= 1024
        assert len(payload.header) <= 60 and len(payload.footer) <= 60
    if kind == "list":
        assert 0 < len(payload.list_button) <= 20
        assert [r.id for r in payload.rows] == [f"opt.7f3a9c.{i}" for i in range(1, count + 1)]


def test_closed_window_sends_the_template_call() -> None:
    payload = render_whatsapp(message(window_open_until=None, choices=choices(3)), NOW)
    assert payload.template is not None
    assert payload.template.params == TEMPLATE.params
    assert payload.template.quick_reply_payload == "offer.7f3a9c.show"
    assert payload.template.locale == "es"


def test_closed_window_without_template_is_refused() -> None:
    with pytest.raises(TemplateRequired):
        render_whatsapp(message(window_open_until=None, template=None), NOW)


def test_template_params_are_flattened_to_one_line() -> None:
    call = TemplateCall("k", "en", ("Rebook\nAir", "RB  1", "A\tB", "x"), None, "See")
    payload = render_whatsapp(message(window_open_until=None, template=call), NOW)
    assert payload.template is not None
    assert payload.template.params == ("Rebook Air", "RB 1", "A B", "x")


def test_button_titles_are_shortened_by_words_with_the_number() -> None:
    payload = render_whatsapp(message(choices=choices(3)), NOW)
    assert [b.title for b in payload.buttons] == [
        "1. IB3161 Madrid…",
        "2. IB3162 Madrid…",
        "3. IB3163 Madrid…",
    ]
    assert "1. IB3161 Madrid → London Heathrow 18:40" in payload.text


def test_short_button_titles_are_kept_as_they_are() -> None:
    short = (ChoiceView("a", 1, "Keep my booking", ""), ChoiceView("b", 2, "Call me", ""))
    payload = render_whatsapp(message(choices=short), NOW)
    assert [b.title for b in payload.buttons] == ["Keep my booking", "Call me"]
    assert "1. Keep my booking" not in payload.text


def test_duplicate_short_titles_get_numbers() -> None:
    same = (ChoiceView("a", 1, "Tomorrow", ""), ChoiceView("b", 2, "Tomorrow", ""))
    payload = render_whatsapp(message(choices=same), NOW)
    assert [b.title for b in payload.buttons] == ["1. Tomorrow", "2. Tomorrow"]


@pytest.mark.parametrize("limit", [20, 24])
def test_shorten_title_never_exceeds_the_limit(limit: int) -> None:
    for title in [
        "",
        "x" * 80,
        "Supercalifragilistic expialidocious",
        "Vuelo IB3167 mañana a las 07:15",
    ]:
        assert len(shorten_title(ChoiceView("t", 12, title, ""), limit)) <= limit


def test_long_arabic_body_is_truncated_to_1024_with_an_ellipsis() -> None:
    body = "تم إلغاء رحلتك. " * 200
    payload = render_whatsapp(
        message(body=body, choices=choices(3), page_link="https://rebook.example/p/abc"), NOW
    )
    assert len(payload.text) <= 1024
    assert "…" in payload.text
    assert payload.text.endswith("https://rebook.example/p/abc")


def test_long_text_is_truncated_to_4096() -> None:
    payload = render_whatsapp(message(body="a" * 5000, choices=()), NOW)
    assert payload.kind == "text"
    assert len(payload.text) == 4096 and payload.text.endswith("…")


def test_header_footer_and_list_labels_are_clipped() -> None:
    payload = render_whatsapp(
        message(
            choices=choices(5),
            header="H" * 80,
            footer="F" * 80,
            list_button="Show me every available flight",
        ),
        NOW,
    )
    assert len(payload.header) == 60 and len(payload.footer) == 60
    assert len(payload.list_button) <= 20


def test_token_that_does_not_fit_is_refused_not_cut() -> None:
    bad = (ChoiceView("x" * 257, 1, "A", ""),)
    with pytest.raises(MessageRejected):
        render_whatsapp(message(choices=bad), NOW)


def test_invalid_recipient_is_unreachable() -> None:
    with pytest.raises(RecipientUnreachable):
        render_whatsapp(message(to="not-a-number"), NOW)


def test_clip() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("abcd", 3) == "ab…"


# --------------------------------------------------------------------------- channel via pywa


@pytest.fixture
def graph() -> Iterator[tuple[FakeGraphAPI, str]]:
    fake = FakeGraphAPI()
    with LocalServer(fake.app()) as srv:
        yield fake, srv.url


@pytest.fixture
async def channel(graph: tuple[FakeGraphAPI, str]) -> AsyncIterator[WhatsAppChannel]:
    fake, url = graph
    ch = WhatsAppChannel(phone_number_id=fake.phone_number_id, token=fake.token, api_base=url)
    yield ch
    await ch.aclose()


def test_channel_declares_its_limits() -> None:
    ch = WhatsAppChannel(phone_number_id="1", token="t")
    assert ch.capabilities.max_buttons == 3 and ch.capabilities.max_list_rows == 10
    assert ch.capabilities.session_window == dt.timedelta(hours=24)
    assert ch.capabilities.rate_per_second == 80 and ch.capabilities.supports_templates


def test_unknown_meta_language_is_refused_at_construction() -> None:
    with pytest.raises(ValueError):
        WhatsAppChannel(
            phone_number_id="1", token="t", templates={"disruption_notice": {"en": ("n", "xx_YY")}}
        )


def test_a_template_key_without_an_english_fallback_is_refused() -> None:
    with pytest.raises(ValueError, match="broadcast_notice"):
        WhatsAppChannel(
            phone_number_id="1",
            token="t",
            templates={
                "disruption_notice": {"en": ("n", "en_US")},
                "broadcast_notice": {"es": ("b", "es")},
            },
        )


async def test_template_send_carries_name_language_params_and_payload(
    channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str]
) -> None:
    fake, _ = graph
    result = await channel.send(live(window_open_until=None, choices=choices(3)))
    assert result.provider == "meta"
    assert result.provider_message_id.startswith("wamid.")
    [req] = fake.requests
    assert req.version == "v21.0" and req.phone_number_id == fake.phone_number_id
    body = req.body
    assert body["to"] == "34600111222" and body["type"] == "template"
    assert body["biz_opaque_callback_data"] == "msg-0001"
    template = body["template"]
    assert template["name"] == "rebook_disruption_notice"
    assert template["language"] == {"code": "es"}
    comps = template["components"]
    assert [p["text"] for p in comps[0]["parameters"]] == list(TEMPLATE.params)
    assert comps[1]["sub_type"].lower() == "quick_reply"
    assert comps[1]["parameters"] == [{"type": "payload", "payload": "offer.7f3a9c.show"}]


async def test_unknown_locale_falls_back_to_english_template(
    channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str]
) -> None:
    fake, _ = graph
    call = TemplateCall("disruption_notice", "pt-BR", TEMPLATE.params, None, "Ver")
    await channel.send(live(locale="pt-BR", window_open_until=None, template=call))
    template = fake.bodies[0]["template"]
    assert template["language"] == {"code": "en_US"}
    assert len(template["components"]) == 1


def _ops_broadcast(text: str, locale: str) -> OutboundMessage:
    """Shaped like conversations.broadcasts.broadcaster builds it: the ops text is the body and a parameter."""
    call = TemplateCall(BROADCAST_KEY, locale, ("Iberia", text), None, "")
    return message(body=text, locale=locale, window_open_until=None, template=call, list_button="")


@pytest.mark.parametrize(("locale", "language"), [("es", "es"), ("ar", "ar"), ("pt", "en_US")])
async def test_broadcast_outside_the_window_goes_out_as_the_broadcast_template(
    channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str], locale: str, language: str
) -> None:
    fake, _ = graph
    text = "Check-in for IB3166 now opens at 06:00,\nat desk 12."
    result = await channel.send(_ops_broadcast(text, locale))
    assert result.provider_message_id.startswith("wamid.")
    [body] = fake.bodies
    assert body["type"] == "template"
    template = body["template"]
    assert template["name"] == "rebook_broadcast_notice"
    assert template["language"] == {"code": language}
    [component] = template["components"]
    assert [p["text"] for p in component["parameters"]] == [
        "Iberia",
        "Check-in for IB3166 now opens at 06:00, at desk 12.",
    ]


async def test_broadcast_inside_the_window_is_sent_as_written(
    channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str]
) -> None:
    fake, _ = graph
    open_message = replace(
        _ops_broadcast("Gate changed to B12.", "es"),
        window_open_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    await channel.send(open_message)
    [body] = fake.bodies
    assert body["type"] == "text" and body["text"]["body"] == "Gate changed to B12."


def test_each_template_key_picks_its_own_template() -> None:
    ch = WhatsAppChannel(phone_number_id="1", token="t")
    assert ch.template_for("disruption_notice", "de") == ("rebook_disruption_notice", "de")
    assert ch.template_for(BROADCAST_KEY, "de") == ("rebook_broadcast_notice", "de")
    assert ch.template_for(BROADCAST_KEY, "fr-CA") == ("rebook_broadcast_notice", "fr")


async def test_a_key_without_an_approved_template_is_refused_before_sending(
    graph: tuple[FakeGraphAPI, str],
) -> None:
    fake, url = graph
    ch = WhatsAppChannel(
        phone_number_id=fake.phone_number_id,
        token=fake.token,
        api_base=url,
        templates={"disruption_notice": DEFAULT_TEMPLATES["disruption_notice"]},
    )
    try:
        with pytest.raises(TemplateRequired) as info:
            await ch.send(_ops_broadcast("Gate changed to B12.", "es"))
        assert info.value.code == "unknown_template"
        with pytest.raises(TemplateRequired):
            ch.template_for("no_such_key", "en")
    finally:
        await ch.aclose()
    assert fake.requests == []


async def test_buttons_send(channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str]) -> None:
    fake, _ = graph
    await channel.send(live(choices=choices(3), header="Flight cancelled"))
    interactive = fake.bodies[0]["interactive"]
    assert interactive["type"] == "button"
    assert interactive["header"] == {"type": "text", "text": "Flight cancelled"}
    replies = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [r["id"] for r in replies] == ["opt.7f3a9c.1", "opt.7f3a9c.2", "opt.7f3a9c.3"]
    assert all(len(r["title"]) <= 20 for r in replies)


async def test_list_send_of_twelve_options_carries_ten_rows(
    channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str]
) -> None:
    fake, _ = graph
    await channel.send(live(choices=choices(12)))
    interactive = fake.bodies[0]["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "See flights"
    [section] = interactive["action"]["sections"]
    assert [r["id"] for r in section["rows"]] == [f"opt.7f3a9c.{i}" for i in range(1, 11)]


async def test_text_send(channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str]) -> None:
    fake, _ = graph
    await channel.send(live(choices=(), body="Your new booking is confirmed."))
    assert fake.bodies[0]["type"] == "text"
    assert fake.bodies[0]["text"]["body"] == "Your new booking is confirmed."


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, 131047, TemplateRequired),
        (400, 131026, RecipientUnreachable),
        (400, 131050, OptedOut),
        (400, 131056, RateLimited),
        (400, 131000, ProviderUnavailable),
        (503, 2, ProviderUnavailable),
        (400, 132001, MessageRejected),
        (400, 100, MessageRejected),
        (401, 0, InvalidCredentials),
    ],
)
async def test_graph_error_codes_map_to_the_channel_error_tree(
    channel: WhatsAppChannel,
    graph: tuple[FakeGraphAPI, str],
    status: int,
    code: int,
    error: type[Exception],
) -> None:
    fake, _ = graph
    fake.fail_next(1, status=status, code=code)
    with pytest.raises(error) as info:
        await channel.send(live())
    assert getattr(info.value, "code", None) == str(code)


async def test_fake_rejects_what_meta_rejects_and_we_map_it(
    channel: WhatsAppChannel, graph: tuple[FakeGraphAPI, str]
) -> None:
    fake, _ = graph
    call = TemplateCall("disruption_notice", "es", ("only", "three", "params"), None, "Ver")
    with pytest.raises(MessageRejected) as info:
        await channel.send(live(window_open_until=None, template=call))
    assert info.value.code == "132000"


# --------------------------------------------------------------------------- webhook parsing


def test_parse_text_message() -> None:
    [event] = parse_webhook(fixture("text_message"))
    assert isinstance(event, InboundText)
    assert event.provider == "meta" and event.channel == "whatsapp"
    assert event.event_id.startswith("wamid.")
    assert event.sender == "+34600111222"
    assert event.text == "Hola, ¿qué opciones tengo?"
    assert event.choice_token is None
    assert event.received_at == dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("name", "token", "sender"),
    [
        ("button_reply", "opt.7f3a9c.2", "+34600111222"),
        ("list_reply", "opt.7f3a9c.5", "+4915112345678"),
        ("template_quick_reply", "offer.7f3a9c.show", "+33612345678"),
    ],
)
def test_parse_taps_carry_the_choice_token(name: str, token: str, sender: str) -> None:
    [event] = parse_webhook(fixture(name))
    assert isinstance(event, InboundText)
    assert event.choice_token == token
    assert event.sender == sender


def test_parse_failed_status_with_131047_is_policy() -> None:
    [receipt] = parse_webhook(fixture("status_failed_131047"))
    assert isinstance(receipt, DeliveryReceipt)
    assert receipt.state is DeliveryState.FAILED
    assert receipt.error_code == "131047"
    assert receipt.reason_class is ReasonClass.POLICY
    assert receipt.event_id == f"{receipt.provider_message_id}:failed"


def test_parse_delivered_status_has_no_reason() -> None:
    [receipt] = parse_webhook(fixture("status_delivered"))
    assert isinstance(receipt, DeliveryReceipt)
    assert receipt.state is DeliveryState.DELIVERED
    assert receipt.reason_class is None and receipt.error_code is None


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (131050, ReasonClass.POLICY),
        (131026, ReasonClass.PERMANENT),
        (130429, ReasonClass.TEMPORARY),
        (131056, ReasonClass.TEMPORARY),
        (131000, ReasonClass.TEMPORARY),
        (130472, ReasonClass.PERMANENT),
    ],
)
def test_failure_reason_classes(code: int, reason: ReasonClass) -> None:
    payload = fixture("status_failed_131047")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]["code"] = code
    [receipt] = parse_webhook(payload)
    assert isinstance(receipt, DeliveryReceipt)
    assert receipt.reason_class is reason and receipt.error_code == str(code)


@pytest.mark.parametrize("name", ["template_status_update", "reaction_message"])
def test_unknown_but_valid_events_yield_nothing(name: str) -> None:
    assert parse_webhook(fixture(name)) == []


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "x",
        {},
        {"entry": {}},
        {"entry": [{"id": "1"}]},
        {"entry": [{"changes": {}}]},
        {"entry": [{"changes": ["x"]}]},
        {"entry": [{"changes": [{"field": "messages", "value": []}]}]},
        {
            "entry": [
                {"changes": [{"field": "messages", "value": {"messages": [{"type": "text"}]}}]}
            ]
        },
    ],
)
def test_malformed_payloads_raise(payload: Any) -> None:
    with pytest.raises(ValueError):
        parse_webhook(payload)


def test_verify_signature() -> None:
    body = b'{"entry":[]}'
    good = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert verify_signature("s3cret", body, good)
    assert verify_signature("s3cret", body, good.upper().replace("SHA256=", "sha256="))
    assert not verify_signature("s3cret", body + b" ", good)
    assert not verify_signature("other", body, good)
    assert not verify_signature("s3cret", body, None)
    assert not verify_signature("s3cret", body, "sha1=" + good[7:])
    assert not verify_signature("s3cret", body, "sha256=é")
    assert not verify_signature("", body, good)


# --------------------------------------------------------------------------- template definitions

CATALOG = {
    (
        "template.disruption_notice",
        "en",
    ): "Hello from {airline}: flight {flight} ({route}) on {date} is disrupted. Tap below.",
    ("template.see_options", "en"): "See my options",
    (
        "template.disruption_notice",
        "ar",
    ): "مرحبا من {airline}: تأثرت رحلتك {flight} ({route}) بتاريخ {date}. اضغط أدناه.",
    ("template.see_options", "ar"): "عرض خياراتي",
}


def fake_render(key: str, locale: str) -> str:
    return CATALOG[(key, locale)]


def test_template_definitions_build_meta_payloads() -> None:
    defs = template_definitions(
        render=fake_render, locales=["en", "ar"], meta_language={"en": "en_US", "ar": "ar"}
    )
    assert [d["language"] for d in defs] == ["en_US", "ar"]
    en = defs[0]
    assert en["name"] == "rebook_disruption_notice" and en["category"] == "UTILITY"
    body, buttons = en["components"]
    assert body["type"] == "BODY"
    assert (
        body["text"] == "Hello from {{1}}: flight {{2}} ({{3}}) on {{4}} is disrupted. Tap below."
    )
    assert len(body["example"]["body_text"][0]) == 4
    assert buttons == {
        "type": "BUTTONS",
        "buttons": [{"type": "QUICK_REPLY", "text": "See my options"}],
    }
    assert defs[1]["components"][1]["buttons"][0]["text"] == "عرض خياراتي"


@pytest.mark.parametrize(
    "body",
    [
        "Flight {flight} ({route}) on {date}.",
        "{airline} {flight} {route} {date} {name}.",
        "Hello {airline} {flight} {route} {date}",
    ],
)
def test_template_definitions_refuse_bad_bodies(body: str) -> None:
    def render(key: str, locale: str) -> str:
        return body if key == "template.disruption_notice" else "See my options"

    with pytest.raises(ValueError):
        template_definitions(render=render, locales=["en"], meta_language={"en": "en_US"})


def test_broadcast_definitions_carry_the_ops_text_as_the_second_parameter() -> None:
    def render(key: str, locale: str) -> str:
        assert key == "template.broadcast_notice"
        return locales.render(key, locale, airline="{airline}", text="{text}")

    defs = template_definitions(
        name_prefix="rebook_broadcast_notice",
        render=render,
        locales=list(locales.SUPPORTED),
        meta_language=dict.fromkeys(locales.SUPPORTED, "en_US"),
        key=BROADCAST_KEY,
    )
    assert len(defs) == len(locales.SUPPORTED)
    for definition in defs:
        assert definition["name"] == "rebook_broadcast_notice"
        [body] = definition["components"]
        assert "{{1}}" in body["text"] and "{{2}}" in body["text"]
        assert "{{3}}" not in body["text"]
        assert len(body["example"]["body_text"][0]) == 2


def test_template_definitions_refuse_an_unknown_key() -> None:
    with pytest.raises(ValueError, match="no_such_key"):
        template_definitions(
            render=fake_render, locales=["en"], meta_language={"en": "en_US"}, key="no_such_key"
        )


def test_template_definitions_need_a_language_per_locale() -> None:
    with pytest.raises(ValueError):
        template_definitions(
            render=fake_render, locales=["en", "ar"], meta_language={"en": "en_US"}
        )


# --------------------------------------------------------------------------- the fake enforces Meta's limits


def _interactive(kind: str, action: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": "34600111222",
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": "Pick one"}, "action": action},
    }


def _reply(i: int, title: str = "Option") -> dict[str, Any]:
    return {"type": "reply", "reply": {"id": f"id{i}", "title": f"{title} {i}"}}


def _rows(n: int, title: str = "Row") -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "title": f"{title} {i}"} for i in range(n)]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (_interactive("button", {"buttons": [_reply(i) for i in range(4)]}), 131009),
        (_interactive("button", {"buttons": [_reply(1, "x" * 20)]}), 131009),
        (
            _interactive(
                "list", {"button": "See", "sections": [{"title": "A", "rows": _rows(11)}]}
            ),
            131009,
        ),
        (
            _interactive(
                "list", {"button": "See", "sections": [{"title": "A", "rows": _rows(1, "y" * 24)}]}
            ),
            131009,
        ),
        (
            {
                "messaging_product": "whatsapp",
                "to": "1",
                "type": "text",
                "text": {"body": "z" * 4097},
            },
            131009,
        ),
        (
            {
                "messaging_product": "whatsapp",
                "to": "1",
                "type": "template",
                "template": {"name": "nope", "language": {"code": "en_US"}},
            },
            132001,
        ),
    ],
)
def test_fake_graph_rejects_what_meta_rejects(
    graph: tuple[FakeGraphAPI, str], body: dict[str, Any], code: int
) -> None:
    fake, url = graph
    response = httpx.post(
        f"{url}/v21.0/{fake.phone_number_id}/messages",
        json=body,
        headers={"Authorization": f"Bearer {fake.token}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_fake_graph_accepts_a_valid_list(graph: tuple[FakeGraphAPI, str]) -> None:
    fake, url = graph
    body = _interactive("list", {"button": "See", "sections": [{"title": "A", "rows": _rows(10)}]})
    response = httpx.post(
        f"{url}/v21.0/{fake.phone_number_id}/messages",
        json=body,
        headers={"Authorization": f"Bearer {fake.token}"},
    )
    assert response.status_code == 200
    assert response.json()["contacts"] == [{"input": "34600111222", "wa_id": "34600111222"}]
