"""Message catalogs: gettext .po files keyed by message key, rendered with a fallback chain."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import IO

from babel import Locale
from babel.messages.pofile import read_po

SUPPORTED: tuple[str, ...] = ("en", "es", "de", "fr", "ar")
DEFAULT = "en"
DOMAIN = "rebook"

_ROOT = Path(__file__).resolve().parent
_TAG = re.compile(
    r"\s*(?P<lang>[A-Za-z]{2,3})(?:[-_](?P<script>[A-Za-z]{4}))?"
    r"(?:[-_](?P<region>[A-Za-z]{2}|[0-9]{3}))?(?![A-Za-z0-9])"
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def split_tag(tag: str | None) -> tuple[str, str | None]:
    """Split a BCP 47 / POSIX tag into a supported language and its region, so formats can follow the region."""
    match = _TAG.match(tag or "")
    if match is None:
        return DEFAULT, None
    lang = match["lang"].casefold()
    if lang not in SUPPORTED:
        return DEFAULT, None
    region = match["region"]
    return lang, region.upper() if region else None


def negotiate(tag: str | None) -> str:
    """Map any language tag ("es-MX", "es_MX", "ES", None) to a shipped catalog language."""
    return split_tag(tag)[0]


def read_catalog(fileobj: IO[bytes]) -> Mapping[str, str]:
    """Parse one .po file into key → text; fuzzy or empty entries are left out so they fall back."""
    catalog = read_po(fileobj, domain=DOMAIN, abort_invalid=True)
    texts: dict[str, str] = {}
    for message in catalog:
        key, text = message.id, message.string
        if isinstance(key, str) and key and isinstance(text, str) and text and not message.fuzzy:
            texts[key] = text
    return MappingProxyType(texts)


def fields(text: str) -> frozenset[str]:
    """The placeholder names a text uses, as str.format would look them up."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


class Catalogs:
    """The catalogs under one directory (<lang>/LC_MESSAGES/rebook.po), each read once on first use."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._available = frozenset(
            p.parent.parent.name for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po")
        )
        self._loaded: dict[str, Mapping[str, str]] = {}

    def path(self, lang: str) -> Path:
        """Where one language's catalog lives, in the gettext directory layout."""
        return self._root / lang / "LC_MESSAGES" / f"{DOMAIN}.po"

    def messages(self, name: str) -> Mapping[str, str]:
        """The texts of exactly one catalog (no fallback); only names on disk are cached."""
        if name not in self._available:
            return MappingProxyType({})
        texts = self._loaded.get(name)
        if texts is None:
            with self.path(name).open("rb") as fileobj:
                texts = self._loaded[name] = read_catalog(fileobj)
        return texts

    def keys(self) -> frozenset[str]:
        """Every message key; English is the reference catalog."""
        return frozenset(self.messages(DEFAULT))

    def _chain(self, locale: str) -> tuple[str, ...]:
        """Catalogs to try in order: the full tag (e.g. es_MX), its language, then English."""
        lang, region = split_tag(locale)
        wanted = (f"{lang}_{region}" if region else lang, lang, DEFAULT)
        return tuple(dict.fromkeys(name for name in wanted if name in self._available))

    def resolve(self, key: str, locale: str) -> tuple[str, str]:
        """The catalog name and text for a key along the fallback chain."""
        for name in self._chain(locale):
            text = self.messages(name).get(key)
            if text is not None:
                return name, text
        raise KeyError(f"unknown message key {key!r}")

    def placeholders(self, key: str, locale: str) -> frozenset[str]:
        """The parameters render() needs for this key in this locale."""
        return fields(self.resolve(key, locale)[1])

    def render(self, key: str, locale: str, /, **params: object) -> str:
        """Localize one message; extra params are ignored so callers can pass a shared context."""
        name, text = self.resolve(key, locale)
        missing = fields(text) - params.keys()
        if missing:
            raise ValueError(
                f"message {key!r} ({name}) needs parameter(s): {', '.join(sorted(missing))}"
            )
        return text.format(**params)


@cache
def shipped() -> Catalogs:
    """The catalogs shipped inside this package, opened on first use rather than at import."""
    return Catalogs(_ROOT)


def messages(lang: str) -> Mapping[str, str]:
    """The texts of exactly one shipped catalog, without fallback."""
    return shipped().messages(lang)


def keys() -> frozenset[str]:
    """Every message key."""
    return shipped().keys()


def placeholders(key: str, locale: str) -> frozenset[str]:
    """The parameters render() needs for this key in this locale."""
    return shipped().placeholders(key, locale)


def render(key: str, locale: str, /, **params: object) -> str:
    """Localize one message with the shipped catalogs (locale → its language → English)."""
    return shipped().render(key, locale, **params)


def is_rtl(locale: str) -> bool:
    """Whether text rendered for this locale reads right to left (for HTML dir and bidi marks)."""
    return Locale.parse(negotiate(locale)).text_direction == "rtl"


def catalog_problems(texts: Mapping[str, str], reference: Mapping[str, str]) -> list[str]:
    """Differences from the reference catalog that would break render(): keys and placeholders."""
    problems = [f"missing key {key!r}" for key in sorted(reference.keys() - texts.keys())]
    problems += [f"unknown key {key!r}" for key in sorted(texts.keys() - reference.keys())]
    for key in sorted(texts.keys() & reference.keys()):
        try:
            got, want = fields(texts[key]), fields(reference[key])
        except ValueError as exc:
            problems.append(f"{key!r}: malformed placeholder ({exc})")
            continue
        bad = sorted(name for name in got if not _NAME.match(name))
        if bad:
            problems.append(f"{key!r}: placeholders must be plain names, got {bad}")
        if got != want:
            problems.append(
                f"{key!r}: placeholders {sorted(got)} differ from reference {sorted(want)}"
            )
    return problems
