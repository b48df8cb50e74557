"""Keyword replies are recognised in every shipped language; sentences only yield a hint."""

from __future__ import annotations

import pytest

from consent.keywords import EXACT_ONLY, WORDS, Keyword, classify, fold, near_keyword

TABLE = [
    (keyword, lang, word)
    for keyword, by_lang in WORDS.items()
    for lang, words in by_lang.items()
    for word in words
]


def test_the_table_covers_every_keyword_in_every_shipped_language() -> None:
    assert set(WORDS) == set(Keyword)
    for by_lang in WORDS.values():
        assert set(by_lang) == {"en", "es", "de", "fr", "ar"}


def test_no_word_means_two_keywords() -> None:
    seen: dict[str, Keyword] = {}
    for keyword, _, word in TABLE:
        assert seen.setdefault(fold(word), keyword) is keyword, word


@pytest.mark.parametrize(("keyword", "lang", "word"), TABLE)
def test_every_table_word_is_its_keyword_however_it_is_typed(
    keyword: Keyword, lang: str, word: str
) -> None:
    for variant in (
        word,
        word.lower(),
        word.title(),
        f"  {word}\n",
        f"{word}.",
        f"{word}!",
        f"{word}!!",
    ):
        assert classify(variant) is keyword, (lang, variant)


@pytest.mark.parametrize(("keyword", "lang", "word"), TABLE)
def test_a_table_word_inside_a_sentence_is_not_an_exact_keyword(
    keyword: Keyword, lang: str, word: str
) -> None:
    sentence = f"{word.lower()} please"
    assert classify(sentence) is None
    expected = None if word in EXACT_ONLY else keyword
    assert near_keyword(sentence) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Stop.", Keyword.STOP),
        ("stop", Keyword.STOP),
        ("arrêt", Keyword.STOP),
        ("Arret", Keyword.STOP),
        ("ARRÊT!", Keyword.STOP),
        ("opt-out", Keyword.STOP),
        ("Stopp", Keyword.STOP),
        ("baja", Keyword.STOP),
        ("إيقاف", Keyword.STOP),
        ("ايقاف", Keyword.STOP),  # typed without the hamza, as many do
        ("«توقف»", Keyword.STOP),  # copied with the quotes our Arabic text shows
        ("si", Keyword.START),
        ("Sí", Keyword.START),
        ("ابدا", Keyword.START),
        ("Oui", Keyword.START),
        ("Hilfe", Keyword.HELP),
        ("¡Ayuda!", Keyword.HELP),
        ("مساعده", Keyword.HELP),
        ("agente", Keyword.AGENT),
        ("Mitarbeiter", Keyword.AGENT),
        ("conseiller", Keyword.AGENT),
        ("موظف", Keyword.AGENT),
        ("mas", Keyword.MORE),
        ("más", Keyword.MORE),
        ("opciones", Keyword.MORE),
        ("المزيد", Keyword.MORE),
        ("stop please", None),
        ("stop?", None),
        ("2", None),
        ("10", None),
        ("٢", None),
        ("stop2", None),
        ("", None),
        ("   ", None),
        (None, None),
        ("stopping", None),
        ("hello", None),
    ],
)
def test_classify(text: str | None, expected: Keyword | None) -> None:
    assert classify(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stop please", Keyword.STOP),
        ("STOP!!! no more", Keyword.STOP),
        ("stop?", Keyword.STOP),
        ("please unsubscribe me", Keyword.STOP),
        ("dame de baja por favor", Keyword.STOP),
        ("bitte abmelden", Keyword.STOP),
        ("I need help", Keyword.HELP),
        ("Ich brauche Hilfe", Keyword.HELP),
        ("can I talk to a human", Keyword.AGENT),
        ("quiero hablar con un agente", Keyword.AGENT),
        ("je voudrais un conseiller", Keyword.AGENT),
        ("أريد التحدث مع موظف", Keyword.AGENT),
        ("what other options are there", Keyword.MORE),
        ("please stop, I want an agent", Keyword.STOP),
        ("agent and help", Keyword.AGENT),
        ("no more messages", None),
        ("yes please rebook me", None),
        ("je ne veux plus", None),
        ("das ist halt so", None),
        ("2 please", None),
        ("stop", None),
        ("Help.", None),
        ("", None),
        (None, None),
    ],
)
def test_near_keyword(text: str | None, expected: Keyword | None) -> None:
    assert near_keyword(text) is expected


def test_digits_are_never_keywords() -> None:
    for text in ("1", "2", "3.", "02", "٣", "1 2"):
        assert classify(text) is None
        assert near_keyword(text) is None


# Each provider's published default list, copied here from its documentation (not from the
# module under test), so a word dropped from `WORDS` fails a test that names its source.
PUBLISHED_OPT_OUT: dict[str, tuple[str, ...]] = {
    # https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out ("By default, Twilio handles …")
    "Twilio default": ("STOP", "UNSUBSCRIBE", "END", "QUIT", "STOPALL", "REVOKE", "OPTOUT", "CANCEL"),
    # https://docs.aws.amazon.com/sms-voice/latest/userguide/keywords-required.html
    "AWS End User Messaging SMS": ("ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD", "UNSUBSCRIBE"),
    # https://developers.telnyx.com/docs/messaging/messages/advanced-opt-in-out (default block rules)
    "Telnyx default": ("STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"),
    # https://developer.vonage.com/en/opt-out-assist/guides/key-word-setup (short codes, mandatory)
    "Vonage short code": ("STOP", "END", "QUIT", "CANCEL", "UNSUBSCRIBE"),
    # CTIA Messaging Principles and Best Practices (2023), opt-out keywords
    "CTIA": ("STOP", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE"),
    # French as the providers and French speakers write it (AWS: ARRET for Canadian French).
    "French": ("ARRET", "ARRÊT", "ARRETER", "ARRÊTER", "DESABONNER", "DÉSABONNER", "DESINSCRIRE", "DÉSINSCRIRE", "SE DÉSABONNER"),
}
PUBLISHED_OPT_IN: dict[str, tuple[str, ...]] = {
    "Twilio default": ("START", "YES", "UNSTOP"),
    "AWS End User Messaging SMS (toll-free)": ("START", "UNSTOP"),
    "Telnyx default": ("START", "UNSTOP"),
    "Vonage short code": ("START", "JOIN"),
}
PUBLISHED_HELP: dict[str, tuple[str, ...]] = {
    "Twilio default": ("HELP", "INFO"),
    "Vonage short code": ("HELP",),
    "AWS Canadian French compliance keywords": ("AIDE", "INFO"),
}


def _forms(word: str) -> list[str]:
    """The ways a passenger types one published keyword: case, padding, punctuation, separators."""
    forms = [word, word.lower(), word.title(), f"  {word.lower()} \n", f"{word}.", f"{word}!", f"«{word}»"]
    if " " in word or "-" in word:
        parts = word.replace("-", " ").split()
        forms += ["".join(parts), " ".join(parts), "-".join(parts), "  ".join(parts).lower(), " - ".join(parts), "_".join(parts)]
    return forms


@pytest.mark.parametrize(
    ("source", "word", "keyword"),
    [(src, w, Keyword.STOP) for src, ws in PUBLISHED_OPT_OUT.items() for w in ws]
    + [(src, w, Keyword.START) for src, ws in PUBLISHED_OPT_IN.items() for w in ws]
    + [(src, w, Keyword.HELP) for src, ws in PUBLISHED_HELP.items() for w in ws],
)
def test_every_published_provider_keyword_is_honoured(source: str, word: str, keyword: Keyword) -> None:
    for form in _forms(word):
        assert classify(form) is keyword, (source, form)


@pytest.mark.parametrize(
    "text",
    [
        "please don't stop my booking",
        "stop my booking",
        "don't cancel my flight",
        "cancel my flight",
        "the end",
        "remove my bag",
        "td please",
        "I will not opt out",
        "opt out of the upgrade",
        "stop all the delays",
        "s t o p",
        "sto p",
        "o p t o u t",
        "opt out opt out",
        "stop stop",
        "arrêter le vol",
        "je ne veux pas me désabonner",
        "yes stop",
        "stop2",
        "opt-out 2",
        "help me rebook",
    ],
)
def test_a_sentence_is_never_an_opt_out(text: str) -> None:
    assert classify(text) is None


def test_multi_word_forms_yield_a_hint_inside_a_sentence() -> None:
    assert near_keyword("how do I opt out") is Keyword.STOP
    assert near_keyword("je veux me désinscrire") is Keyword.STOP
    assert near_keyword("remove my bag") is None
    assert near_keyword("td please") is None


def test_invisible_marks_and_wide_letters_do_not_hide_a_keyword() -> None:
    assert classify("STOP\u200b") is Keyword.STOP  # zero-width space pasted after the word
    assert classify("\u200fتوقف") is Keyword.STOP  # right-to-left mark before Arabic
    assert classify("ＳＴＯＰ") is Keyword.STOP  # full-width letters
    assert classify("Opt\u2011Out") is Keyword.STOP  # non-breaking hyphen


def test_no_phrase_or_compact_form_means_two_keywords() -> None:
    seen: dict[str, Keyword] = {}
    for keyword, _, word in TABLE:
        spaced = " ".join(fold(word).replace("-", " ").split())
        for key in (spaced, spaced.replace(" ", "")):
            assert seen.setdefault(key, keyword) is keyword, word
