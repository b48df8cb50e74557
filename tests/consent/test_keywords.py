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
