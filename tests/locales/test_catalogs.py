"""The shipped catalogs are complete and consistent, and render() falls back and fails loudly."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po

import locales
from consent.keywords import Keyword, classify
from locales.catalog import read_catalog, shipped

# The contract with the engine and the adapters: every key and the parameters it takes.
CONTRACT: dict[str, frozenset[str]] = {
    "offer.cancelled": frozenset({"airline", "flight", "origin", "destination", "date"}),
    "offer.delayed": frozenset({"airline", "flight", "origin", "destination", "new_time"}),
    "offer.prompt": frozenset({"count"}),
    "offer.list_button": frozenset(),
    "offer.expires": frozenset({"time"}),
    "offer.reminder": frozenset({"time"}),
    "offer.refreshed": frozenset(),
    "offer.seat_gone": frozenset(),
    "offer.updated_cancelled": frozenset({"airline", "flight"}),
    "offer.updated_delayed": frozenset({"airline", "flight", "new_time"}),
    "story.lifted": frozenset({"airline", "flight"}),
    "story.kept": frozenset({"airline", "flight", "contact"}),
    "booking.changed": frozenset({"airline", "flight", "contact"}),
    "offer.overflow": frozenset({"airline", "flight", "origin", "destination", "date"}),
    "offer.diverted": frozenset({"airline", "flight", "origin", "destination", "date"}),
    "offer.updated_overflow": frozenset({"airline", "flight"}),
    "offer.updated_diverted": frozenset({"airline", "flight"}),
    "option.title": frozenset({"dep", "flights"}),
    "option.direct": frozenset({"arr"}),
    "option.connection": frozenset({"via", "arr"}),
    "option.compensation": frozenset({"amount"}),
    "booked.confirmation": frozenset({"flights", "origin", "dep", "destination", "arr", "locator"}),
    "booked.already": frozenset({"flights", "locator"}),
    "protected.cancelled": frozenset({"airline", "flight", "flights", "dep", "locator"}),
    "protected.delayed": frozenset({"airline", "flight", "new_time", "flights", "dep", "locator"}),
    "protected.moved": frozenset({"airline", "flight", "flights", "dep", "locator"}),
    "protected.prompt": frozenset(),
    "change.closed": frozenset({"airline", "contact"}),
    "change.none": frozenset({"airline"}),
    "escalated.agent": frozenset(),
    "escalated.no_options": frozenset({"airline", "flight"}),
    "escalated.deadline": frozenset(),
    "reply.not_understood": frozenset({"count"}),
    "reply.stop_hint": frozenset(),
    "keyword.stop": frozenset({"airline"}),
    "keyword.start": frozenset({"airline"}),
    "keyword.help": frozenset({"airline", "contact"}),
    "template.disruption_notice": frozenset({"airline", "flight", "route", "date"}),
    "template.see_options": frozenset(),
    "template.broadcast_notice": frozenset({"airline", "text"}),
    "template.escalation_notice": frozenset({"airline", "flight"}),
    "agent.refund": frozenset({"airline", "locator"}),
    # The passenger's own choices (conversations/choices.py).
    "choice.refund.title": frozenset(),
    "choice.refund.description": frozenset(),
    "choice.keep.title": frozenset(),
    "choice.keep.description": frozenset({"new_time"}),
    "choice.later.title": frozenset(),
    "choice.later.description": frozenset({"latest"}),
    "choice.refund.words": frozenset(),
    "choice.keep.words": frozenset(),
    "choice.later.words": frozenset(),
    "choice.refund.recorded": frozenset({"airline", "flight"}),
    "choice.refund.already": frozenset({"airline"}),
    "choice.refund.not_offered": frozenset({"airline", "flight"}),
    "choice.keep.confirmed": frozenset({"airline", "flight", "new_time"}),
    "choice.keep.already": frozenset({"airline", "flight", "new_time"}),
    "choice.keep.not_offered": frozenset({"airline", "flight"}),
    "choice.later.ask": frozenset({"airline", "earliest", "latest"}),
    "choice.later.out_of_range": frozenset({"airline", "earliest", "latest"}),
    "choice.later.not_offered": frozenset({"airline", "flight"}),
    "choice.later.offer": frozenset({"airline", "day", "destination"}),
    "choice.later.nothing": frozenset({"airline", "day", "destination"}),
    "page.keep": frozenset(),
    "page.later": frozenset(),
    "page.notice_refund_recorded": frozenset(),
    "page.notice_kept": frozenset(),
    "page.notice_dated": frozenset(),
    "page.notice_date_refused": frozenset(),
    "agent.voucher": frozenset({"airline", "amount"}),
    "care.voucher": frozenset({"airline", "flight"}),
    "care.meal": frozenset({"amount", "time", "code"}),
    "care.hotel": frozenset({"hotel", "code"}),
    "care.hotel_desk": frozenset({"airline", "code"}),
    "care.transfer": frozenset({"amount", "code"}),
    "page.care": frozenset(),
    "broadcast.weather": frozenset({"airline", "origin", "flight"}),
    "broadcast.check_status": frozenset({"airline", "origin", "flight"}),
    "slack.take_next": frozenset(),
    "slack.take": frozenset(),
    "slack.rebook_option": frozenset({"number"}),
    "slack.offer_refund": frozenset(),
    "slack.send_voucher": frozenset(),
    "slack.return_to_bot": frozenset(),
    "slack.close_case": frozenset(),
    "slack.escalations": frozenset(),
    "slack.waiting": frozenset(),
    "slack.taken": frozenset(),
    "slack.done": frozenset(),
    "slack.waiting_by_reason": frozenset(),
    "slack.waiting_by_tier": frozenset(),
    "slack.tier": frozenset({"tier"}),
    "slack.none": frozenset(),
    "slack.waiting_count": frozenset({"count"}),
    "slack.passenger": frozenset(),
    "slack.nobody_yet": frozenset(),
    "slack.option_times": frozenset({"arr", "dep"}),
    "slack.seats_left": frozenset({"count"}),
    "slack.loyalty": frozenset(),
    "slack.miles": frozenset({"miles"}),
    "slack.preferences": frozenset({"preferences"}),
    "slack.no_options": frozenset(),
    "slack.nothing_yet": frozenset(),
    "slack.disruption": frozenset(),
    "slack.reason": frozenset(),
    "slack.language_channel": frozenset(),
    "slack.owner": frozenset(),
    "slack.conversation": frozenset(),
    "slack.escalation": frozenset(),
    "slack.options": frozenset(),
    "slack.transcript": frozenset(),
    "slack.thread_hint": frozenset({"prefix"}),
    "slack.progress": frozenset({"done", "failed", "id", "sent", "skipped", "state", "target", "total"}),
    "slack.progress_sending": frozenset(),
    "slack.progress_done": frozenset(),
    "slack.reply_owned": frozenset({"owner"}),
    "slack.reply_not_claimed": frozenset(),
    "slack.reply_not_open": frozenset(),
    "slack.reply_queue_empty": frozenset(),
    "slack.reply_queue_busy": frozenset(),
    "slack.reply_already_booked": frozenset(),
    "slack.reply_stale_option": frozenset(),
    "slack.reply_booking_failed": frozenset({"detail"}),
    "slack.reply_unknown": frozenset(),
    "slack.usage": frozenset(),
    "slack.broadcast_received": frozenset({"target"}),
    "slack.broadcast_refused": frozenset({"reason"}),
    "slack.erased": frozenset(),
    "slack.erased_note": frozenset({"id"}),
    "slack.story_replanned": frozenset({"what", "count"}),
    "slack.story_no_options": frozenset({"what"}),
    "slack.story_lifted": frozenset(),
    "slack.booking_changed": frozenset(),
    "slack.story_cancelled": frozenset(),
    "slack.story_diverted": frozenset(),
    "slack.story_overflow": frozenset(),
    "slack.story_delayed": frozenset({"time"}),
    # The passenger page and e-mail (issue #19).
    "page.title": frozenset({"airline"}),
    "page.skip": frozenset(),
    "page.cancelled": frozenset({"date", "destination", "flight", "origin"}),
    "page.delayed": frozenset({"destination", "flight", "new_time", "origin"}),
    "page.options": frozenset(),
    "page.option": frozenset({"count"}),
    "page.departs": frozenset(),
    "page.arrives": frozenset(),
    "page.stops": frozenset(),
    "page.direct": frozenset(),
    "page.cabin": frozenset(),
    "page.cabin_first": frozenset(),
    "page.cabin_business": frozenset(),
    "page.cabin_premium": frozenset(),
    "page.cabin_economy": frozenset(),
    "page.seat": frozenset(),
    "page.seat_held": frozenset(),
    "page.seat_not_held": frozenset(),
    "page.choose": frozenset({"count"}),
    "page.confirm": frozenset(),
    "page.back": frozenset(),
    "page.other": frozenset(),
    "page.refund": frozenset(),
    "page.agent": frozenset(),
    "page.language": frozenset(),
    "page.change_language": frozenset(),
    "page.preferences": frozenset(),
    "page.preferences_hint": frozenset(),
    "page.allowed": frozenset(),
    "page.preferred": frozenset(),
    "page.save": frozenset(),
    "page.channel_sms": frozenset(),
    "page.channel_whatsapp": frozenset(),
    "page.channel_email": frozenset(),
    "page.channel_push": frozenset(),
    "page.channel_telegram": frozenset(),
    "page.telegram": frozenset(),
    "page.telegram_hint": frozenset(),
    "telegram.invite": frozenset({"link"}),
    "telegram.chosen": frozenset({"choice"}),
    "telegram.invalid_button": frozenset(),
    "page.booked": frozenset(),
    "page.change": frozenset(),
    "page.reference": frozenset({"locator"}),
    "page.notice_booked": frozenset(),
    "page.notice_already": frozenset(),
    "page.notice_stale": frozenset(),
    "page.notice_not_now": frozenset(),
    "page.notice_agent": frozenset(),
    "page.notice_refund": frozenset(),
    "page.notice_saved": frozenset(),
    "page.notice_language": frozenset(),
    "page.status_pending": frozenset(),
    "page.status_agent": frozenset(),
    "page.status_waiting": frozenset(),
    "page.status_closed": frozenset(),
    "page.status_opted_out": frozenset(),
    "page.expired_title": frozenset(),
    "page.expired_body": frozenset(),
    "page.renew": frozenset(),
    "page.renewed": frozenset(),
    "page.help": frozenset({"contact"}),
    "page.forbidden_title": frozenset(),
    "page.forbidden_body": frozenset(),
    "page.not_found": frozenset(),
    "page.too_many": frozenset(),
    "page.unsubscribed": frozenset(),
    "email.open_page": frozenset(),
    "email.choose": frozenset({"count"}),
    "email.footer": frozenset(),
    "email.unsubscribe": frozenset(),
    # Notice of rights (issue #21 point 4): first messages, the passenger page, the rights page, the desk's amount hold.
    "rights.notice.eu261": frozenset(),
    "rights.notice.eu261.sms": frozenset(),
    "rights.notice.eu261.tag": frozenset(),
    "rights.notice.uk261": frozenset(),
    "rights.notice.uk261.sms": frozenset(),
    "rights.notice.uk261.tag": frozenset(),
    "rights.notice.appr": frozenset(),
    "rights.notice.appr.sms": frozenset(),
    "rights.notice.appr.tag": frozenset(),
    "rights.amount": frozenset({"amount"}),
    "rights.read_more": frozenset(),
    "rights.page.title.eu261": frozenset(),
    "rights.page.title.uk261": frozenset(),
    "rights.page.title.appr": frozenset(),
    "rights.page.scope.eu261": frozenset(),
    "rights.page.scope.uk261": frozenset(),
    "rights.page.scope.appr": frozenset(),
    "rights.page.h_choice": frozenset(),
    "rights.page.h_care": frozenset(),
    "rights.page.h_compensation": frozenset(),
    "rights.page.h_claim": frozenset(),
    "rights.page.h_enforcement": frozenset(),
    "rights.page.choice_261": frozenset(),
    "rights.page.choice_appr": frozenset(),
    "rights.page.care_261": frozenset(),
    "rights.page.care_appr": frozenset(),
    "rights.page.compensation_261": frozenset(),
    "rights.page.compensation_appr": frozenset(),
    "rights.page.rerouting_261": frozenset(),
    "rights.page.claim": frozenset({"contact"}),
    "rights.page.enforcement.eu261": frozenset(),
    "rights.page.enforcement.uk261": frozenset(),
    "rights.page.enforcement.appr": frozenset(),
    "rights.page.col_distance": frozenset(),
    "rights.page.col_delay": frozenset(),
    "rights.page.col_amount": frozenset(),
    "rights.page.col_large": frozenset(),
    "rights.page.col_small": frozenset(),
    "rights.band.261_short": frozenset(),
    "rights.band.261_medium": frozenset(),
    "rights.band.261_long": frozenset(),
    "rights.band.appr_3h": frozenset(),
    "rights.band.appr_6h": frozenset(),
    "rights.band.appr_9h": frozenset(),
    "rights.page.basis": frozenset({"basis"}),
    "slack.amount_held": frozenset({"engine", "named"}),
    "slack.amount_held_none": frozenset({"named"}),
    "slack.confirm_word": frozenset(),
}

# Realistic, long-ish values: what a passenger would actually read.
SAMPLE: dict[str, object] = {
    "airline": "Iberia",
    "flight": "IB3170",
    "origin": "Madrid",
    "destination": "London",
    "date": "Tue, Dec 1",
    "new_time": "Tue, Dec 1, 11:45 PM",
    "count": 3,
    "time": "2:05 PM",
    "dep": "2:05 PM",
    "flights": "IB3170 + IB7450",
    "arr": "11:45 PM",
    "via": "Barcelona",
    "amount": "€600",
    "locator": "X7K2QP",
    "earliest": "Tue, Dec 1",
    "latest": "Tue, Dec 15",
    "day": "Tue, Dec 8",
    "contact": "iberia.com/help",
    "route": "MAD-LHR",
    "text": "Check in opens at 6 AM.",
    "link": "https://t.me/IberiaRebookBot?start=2n9c-1kq3x7c-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "choice": "1) 2:05 PM IB3170",
    "code": "K7QX-M2ZD-9HRT",
    "hotel": "Hotel Aeropuerto Barajas Terminal 4",
}

# GSM 03.38 default alphabet plus its extension table: what fits 160 characters per SMS segment.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
    "^{}\\[~]|€"
)

LANGS = locales.SUPPORTED


def _po_bytes(texts: dict[str, str], *, fuzzy: frozenset[str] = frozenset()) -> bytes:
    """Write a small catalog the way babel does, so corruption tests use real .po syntax."""
    catalog = Catalog(locale="es", domain="rebook", fuzzy=False)
    for key, text in texts.items():
        catalog.add(key, text, flags=["fuzzy"] if key in fuzzy else [])
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    return buffer.getvalue()


@pytest.mark.parametrize("lang", LANGS)
def test_every_catalog_parses_with_its_language_and_no_loose_ends(lang: str) -> None:
    path = shipped().path(lang)
    with path.open("rb") as fileobj:
        catalog = read_po(fileobj, abort_invalid=True)
    assert str(catalog.locale) == lang
    entries = [m for m in catalog if m.id]
    assert entries
    assert [m.id for m in entries if m.fuzzy or not m.string] == []
    assert len({m.id for m in entries}) == len(entries)


def test_english_defines_exactly_the_contracted_keys_and_placeholders() -> None:
    assert locales.keys() == CONTRACT.keys()
    for key, names in CONTRACT.items():
        assert locales.placeholders(key, "en") == names, key


@pytest.mark.parametrize("lang", LANGS)
def test_every_language_has_every_key_with_the_same_placeholders(lang: str) -> None:
    assert locales.catalog_problems(locales.messages(lang), locales.messages("en")) == []
    assert locales.messages(lang).keys() == CONTRACT.keys()


def test_consistency_check_catches_a_corrupted_catalog() -> None:
    texts = dict(locales.messages("es"))
    del texts["offer.expires"]
    texts["offer.cancelled"] = texts["offer.cancelled"].replace("{date}", "")
    texts["keyword.help"] = texts["keyword.help"].replace("{contact}", "{contacto}")
    texts["option.title"] = "{dep.hour} {flights}"
    texts["offer.seat_gone"] = "{"
    texts["offer.bogus"] = "?"
    data = _po_bytes(texts, fuzzy=frozenset({"offer.refreshed"}))

    problems = locales.catalog_problems(read_catalog(io.BytesIO(data)), locales.messages("en"))

    joined = "\n".join(problems)
    assert "missing key 'offer.expires'" in joined
    assert "missing key 'offer.refreshed'" in joined  # a fuzzy entry is not a translation
    assert "unknown key 'offer.bogus'" in joined
    assert "'offer.cancelled': placeholders" in joined
    assert "'keyword.help': placeholders" in joined
    assert "'option.title': placeholders must be plain names" in joined
    assert "'offer.seat_gone': malformed placeholder" in joined
    assert len(problems) == 8


def test_a_syntax_error_in_a_po_file_is_refused() -> None:
    broken = b'msgid "offer.expires"\nmsgstrr "Asientos {time}."\n'
    with pytest.raises(PoFileError):
        read_catalog(io.BytesIO(broken))


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("es-MX", "es"),
        ("es_MX", "es"),
        ("ES", "es"),
        (" de-AT ", "de"),
        ("fr-CA", "fr"),
        ("ar-EG", "ar"),
        ("zh-Hant-TW", "en"),
        ("pt-BR", "en"),
        ("xx", "en"),
        ("", "en"),
        (None, "en"),
        ("e", "en"),
        ("english", "en"),
    ],
)
def test_negotiate(tag: str | None, expected: str) -> None:
    assert locales.negotiate(tag) == expected


def test_render_uses_the_language_of_a_regional_tag() -> None:
    text = locales.render("offer.expires", "es-MX", time="14:05")
    assert text == locales.messages("es")["offer.expires"].format(time="14:05")
    assert "14:05" in text
    assert text != locales.render("offer.expires", "en", time="14:05")


def test_render_falls_back_to_english_for_an_unknown_language() -> None:
    assert locales.render("reply.stop_hint", "xx") == "To stop these messages, reply STOP."


def _write(root: Path, name: str, texts: dict[str, str]) -> None:
    folder = root / name / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "rebook.po").write_bytes(_po_bytes(texts))


def test_fallback_chain_goes_region_then_language_then_english(tmp_path: Path) -> None:
    _write(tmp_path, "en", {"a": "A-en {x}", "b": "B-en", "c": "C-en"})
    _write(tmp_path, "es", {"a": "A-es {x}", "b": "B-es"})
    _write(tmp_path, "es_MX", {"a": "A-mx {x}"})
    catalogs = locales.Catalogs(tmp_path)

    assert catalogs.render("a", "es-MX", x=1) == "A-mx 1"
    assert catalogs.render("b", "es-MX") == "B-es"
    assert catalogs.render("c", "es-MX") == "C-en"
    assert catalogs.render("a", "es-AR", x=1) == "A-es 1"
    assert catalogs.render("a", "fr", x=1) == "A-en 1"
    with pytest.raises(KeyError, match="'d'"):
        catalogs.render("d", "es-MX")


def test_unknown_key_raises_key_error() -> None:
    with pytest.raises(KeyError, match="no.such.key"):
        locales.render("no.such.key", "es")
    with pytest.raises(KeyError):
        locales.placeholders("no.such.key", "en")


def test_missing_parameter_is_named_in_the_error() -> None:
    with pytest.raises(
        ValueError, match=r"'offer\.cancelled' \(de\) needs parameter\(s\): date, flight"
    ):
        locales.render("offer.cancelled", "de", airline="LH", origin="FRA", destination="JFK")


def test_extra_parameters_are_ignored() -> None:
    assert (
        locales.render("offer.expires", "en", time="14:05", unused="x") == "Seats held until 14:05."
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", ["offer.list_button", "template.see_options"])
def test_button_labels_fit_twenty_characters(lang: str, key: str) -> None:
    assert 0 < len(locales.render(key, lang)) <= 20


@pytest.mark.parametrize("lang", LANGS)
def test_option_title_fits_a_button_row(lang: str) -> None:
    assert len(locales.render("option.title", lang, dep="14:05", flights="RB123")) <= 20


def test_english_fits_one_sms_segment() -> None:
    for key in CONTRACT:
        if key.startswith(("slack.", "rights.page.")):
            continue  # agent-facing Slack text and the rights page's paragraphs, never sent as an SMS
        text = locales.render(key, "en", **SAMPLE)
        assert len(text) <= 160, (key, len(text))


@pytest.mark.parametrize("lang", ["en", "de"])
def test_english_and_german_stay_in_the_gsm7_alphabet(lang: str) -> None:
    for key, text in locales.messages(lang).items():
        outside = sorted(set(text) - GSM7)
        assert outside == [], (key, outside)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("key", ["template.disruption_notice", "template.broadcast_notice", "template.escalation_notice"])
def test_whatsapp_template_body_neither_starts_nor_ends_with_a_placeholder(
    lang: str, key: str
) -> None:
    body = locales.messages(lang)[key]
    assert not body.startswith("{")
    assert not re.search(r"\}\W*$", body)


def _keyword_words(text: str) -> set[Keyword]:
    return {kw for token in re.findall(r"\w+", text) if (kw := classify(token)) is not None}


@pytest.mark.parametrize("lang", LANGS)
def test_keywords_in_the_text_are_words_the_passenger_can_send_back(lang: str) -> None:
    for key, english in locales.messages("en").items():
        wanted = {
            kw
            for kw in (Keyword.STOP, Keyword.START, Keyword.AGENT)
            if re.search(rf"\b{kw.name}\b", english)
        }
        assert wanted <= _keyword_words(locales.messages(lang)[key]), (lang, key)


def test_own_language_keywords_are_used_where_they_exist() -> None:
    assert "AGENTE" in locales.render("offer.prompt", "es", count=3)
    assert "STOPP" in locales.render("reply.stop_hint", "de")
    assert "CONSEILLER" in locales.render("offer.prompt", "fr", count=3)
    assert "موظف" in locales.render("offer.prompt", "ar", count=3)


@pytest.mark.parametrize(
    ("tag", "rtl"),
    [
        ("ar", True),
        ("ar-EG", True),
        ("en", False),
        ("es", False),
        ("de", False),
        ("fr", False),
        ("he", False),
    ],
)
def test_is_rtl_follows_the_rendered_language(tag: str, rtl: bool) -> None:
    assert locales.is_rtl(tag) is rtl
