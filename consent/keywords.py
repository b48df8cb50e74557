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
                # Every opt-out word an airline's SMS provider or carrier body honours by default, so a
                # passenger who was taught one of them elsewhere is never messaged again here. A form
                # written with a space or hyphen also matches with the separator dropped or doubled.
                "en": (
                    # Twilio, default opt-out keywords for long codes and Messaging Services:
                    # https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out
                    "STOP",
                    "STOPALL",
                    "UNSUBSCRIBE",
                    "CANCEL",
                    "END",
                    "QUIT",
                    "REVOKE",
                    "OPTOUT",
                    # Telnyx, default block-rule keywords (also STOP STOPALL UNSUBSCRIBE CANCEL END QUIT):
                    # https://developers.telnyx.com/docs/messaging/messages/advanced-opt-in-out
                    "STOP ALL",
                    # AWS End User Messaging SMS, required opt-out keywords (also ARRET, below, and
                    # CANCEL END OPTOUT QUIT STOP UNSUBSCRIBE):
                    # https://docs.aws.amazon.com/sms-voice/latest/userguide/keywords-required.html
                    "OPT-OUT",
                    "REMOVE",
                    "TD",
                    # CTIA Messaging Principles and Best Practices (2023), opt-out keywords
                    # STOP QUIT END REVOKE OPT OUT CANCEL UNSUBSCRIBE; Vonage short codes require
                    # STOP END QUIT CANCEL UNSUBSCRIBE (developer.vonage.com/en/opt-out-assist/guides/key-word-setup).
                    "OPT OUT",
                ),
                "es": ("ALTO", "PARAR", "BAJA"),
                "de": ("STOPP", "HALT", "ABMELDEN"),
                # ARRET/ARRÊT: AWS's required list (Canadian French); the verbs are how French speakers
                # ask to be removed (se désabonner / se désinscrire), not in a provider's default list.
                "fr": ("ARRET", "ARRÊT", "ARRÊTER", "DÉSABONNER", "SE DÉSABONNER", "DÉSINSCRIRE", "SE DÉSINSCRIRE"),
                "ar": ("توقف", "إيقاف"),
            }
        ),
        Keyword.START: MappingProxyType(
            {
                # Twilio: START YES UNSTOP; Telnyx and AWS: START UNSTOP; Vonage short codes: START JOIN.
                "en": ("START", "UNSTOP", "YES", "JOIN"),
                "es": ("SI", "SÍ", "ALTA"),
                "de": ("JA",),
                "fr": ("OUI",),
                "ar": ("نعم", "ابدأ"),
            }
        ),
        Keyword.HELP: MappingProxyType(
            {
                # Twilio: HELP INFO; AWS asks Canadian senders for AIDE (French, below) beside HELP.
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
        "REMOVE",
        "TD",
        "JOIN",
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
"""Everyday words ("no more", "halt", "yes", "remove my bag") that count only as a whole reply, never inside a sentence."""

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
#: Between the words of a reply: spaces, underscores, ASCII hyphen, U+2010-U+2015 hyphens and dashes.
_SEPARATORS = re.compile("[\\s_\\-\u2010-\u2015]+")
_LEADING = "¡¿«\"'“‘„"
_TRAILING = ".!»\"'”’"


def fold(text: str) -> str:
    """Compare words as people type them: any case, with or without accents, hamza, tatweel or invisible marks."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(
        ch for ch in decomposed if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
    )
    return _INNER_HYPHEN.sub("", bare.translate(_ARABIC_FOLD))


def _phrase(text: str) -> str:
    """A folded reply with its words separated by one space, however they were separated."""
    return " ".join(part for part in _SEPARATORS.split(fold(text)) if part)


def _index(
    words: Mapping[Keyword, Mapping[str, tuple[str, ...]]], *, near: bool
) -> Mapping[str, Keyword]:
    """Folded phrase → keyword, built once from the table; "opt out" is also found as "optout"."""
    index: dict[str, Keyword] = {}
    for keyword, by_lang in words.items():
        for lang_words in by_lang.values():
            for word in lang_words:
                if not (near and word in EXACT_ONLY):
                    phrase = _phrase(word)
                    index[phrase] = keyword
                    index[phrase.replace(" ", "")] = keyword
    return MappingProxyType(index)


_EXACT = _index(WORDS, near=False)
_NEAR = _index(WORDS, near=True)


def _has_digit(text: str) -> bool:
    """Digits are option numbers, never keywords, in any script."""
    return any(ch.isdigit() for ch in text)


def classify(text: str | None) -> Keyword | None:
    """The keyword a reply is, when the whole reply is one keyword ("STOP", "opt out", "Arrêt !")."""
    if text is None:
        return None
    word = text.strip().lstrip(_LEADING).rstrip(_TRAILING).strip()
    if not word or _has_digit(word):
        return None
    return _EXACT.get(_phrase(word))


def near_keyword(text: str | None) -> Keyword | None:
    """A keyword inside a longer reply ("stop please"), so the engine can hint instead of acting."""
    if text is None or classify(text) is not None:
        return None
    tokens = re.findall(r"\w+", fold(text))
    candidates = tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    found = {_NEAR[c] for c in candidates if c in _NEAR and not _has_digit(c)}
    return next((keyword for keyword in NEAR_PRIORITY if keyword in found), None)
