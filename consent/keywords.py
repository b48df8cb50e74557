"""Keyword policy: which passenger replies are STOP/START/HELP/AGENT/MORE, in every shipped language."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum, auto
from types import MappingProxyType


class Keyword(StrEnum):
    """A command a passenger can send as a one-word reply."""

    STOP = auto()
    START = auto()
    HELP = auto()
    AGENT = auto()
    MORE = auto()


WORDS: Mapping[Keyword, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        Keyword.STOP: MappingProxyType(
            {
                "en": (
                    "STOP",
                    "STOPALL",
                    "UNSUBSCRIBE",
                    "CANCEL",
                    "END",
                    "QUIT",
                    "REVOKE",
                    "OPTOUT",
                ),
                "es": ("ALTO", "PARAR", "BAJA"),
                "de": ("STOPP", "HALT", "ABMELDEN"),
                "fr": ("ARRET", "ARRÊT"),
                "ar": ("توقف", "إيقاف"),
            }
        ),
        Keyword.START: MappingProxyType(
            {
                "en": ("START", "UNSTOP", "YES"),
                "es": ("SI", "SÍ", "ALTA"),
                "de": ("JA",),
                "fr": ("OUI",),
                "ar": ("نعم", "ابدأ"),
            }
        ),
        Keyword.HELP: MappingProxyType(
            {
                "en": ("HELP", "INFO"),
                "es": ("AYUDA",),
                "de": ("HILFE",),
                "fr": ("AIDE",),
                "ar": ("مساعدة",),
            }
        ),
        Keyword.AGENT: MappingProxyType(
            {
                "en": ("AGENT", "HUMAN", "PERSON"),
                "es": ("AGENTE",),
                "de": ("MITARBEITER",),
                "fr": ("CONSEILLER",),
                "ar": ("موظف", "وكيل"),
            }
        ),
        Keyword.MORE: MappingProxyType(
            {
                "en": ("MORE", "OPTIONS"),
                "es": ("MAS", "MÁS", "OPCIONES"),
                "de": ("MEHR",),
                "fr": ("PLUS",),
                "ar": ("المزيد",),
            }
        ),
    }
)

EXACT_ONLY: frozenset[str] = frozenset(
    {
        "CANCEL",
        "END",
        "HALT",
        "ALTO",
        "YES",
        "SI",
        "SÍ",
        "ALTA",
        "JA",
        "OUI",
        "نعم",
        "PERSON",
        "MORE",
        "MAS",
        "MÁS",
        "MEHR",
        "PLUS",
        "المزيد",
    }
)
"""Everyday words ("no more", "halt", "yes") that count only as a whole reply, never inside a sentence."""

NEAR_PRIORITY: tuple[Keyword, ...] = (
    Keyword.STOP,
    Keyword.AGENT,
    Keyword.HELP,
    Keyword.START,
    Keyword.MORE,
)
"""When a sentence holds several keywords, the hint answers the one that matters most (opting out)."""

_ARABIC_FOLD = str.maketrans({"ـ": None, "ة": "ه", "ى": "ي"})
_INNER_HYPHEN = re.compile(r"(?<=\w)[-‐‑](?=\w)")
_LEADING = "¡¿«\"'“‘„"
_TRAILING = ".!»\"'”’"


def fold(text: str) -> str:
    """Compare words as people type them: any case, with or without accents, hamza or tatweel."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _INNER_HYPHEN.sub("", bare.translate(_ARABIC_FOLD))


def _index(
    words: Mapping[Keyword, Mapping[str, tuple[str, ...]]], *, near: bool
) -> Mapping[str, Keyword]:
    """Folded word → keyword, built once from the table."""
    index: dict[str, Keyword] = {}
    for keyword, by_lang in words.items():
        for lang_words in by_lang.values():
            for word in lang_words:
                if not (near and word in EXACT_ONLY):
                    index[fold(word)] = keyword
    return MappingProxyType(index)


_EXACT = _index(WORDS, near=False)
_NEAR = _index(WORDS, near=True)


def _has_digit(text: str) -> bool:
    """Digits are option numbers, never keywords, in any script."""
    return any(ch.isdigit() for ch in text)


def classify(text: str | None) -> Keyword | None:
    """The keyword a reply is, when it is exactly one keyword word (trailing "." or "!" allowed)."""
    if text is None:
        return None
    word = text.strip().lstrip(_LEADING).rstrip(_TRAILING).strip()
    if not word or _has_digit(word) or any(ch.isspace() for ch in word):
        return None
    return _EXACT.get(fold(word))


def near_keyword(text: str | None) -> Keyword | None:
    """A keyword inside a longer reply ("stop please"), so the engine can hint instead of acting."""
    if text is None or classify(text) is not None:
        return None
    found = {
        _NEAR[token]
        for token in re.findall(r"\w+", fold(text))
        if token in _NEAR and not _has_digit(token)
    }
    return next((keyword for keyword in NEAR_PRIORITY if keyword in found), None)
