"""Meta message-template creation payloads for the disruption notice, one per passenger language.

Reference: https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
Submit each payload to `POST /{waba_id}/message_templates`; Meta reviews it before use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

BODY_KEY = "template.disruption_notice"
BUTTON_KEY = "template.see_options"
PLACEHOLDERS = ("airline", "flight", "route", "date")
EXAMPLE_VALUES = ("Rebook Air", "RB1234", "MAD → LHR", "12 Mar 2026")
MAX_BODY = 1024
MAX_QUICK_REPLY_TEXT = 25
MAX_NAME = 512

_NAME = re.compile(r"[a-z0-9_]+")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _positional_body(text: str, locale: str) -> str:
    """Swap our named str.format fields for Meta's {{1}}..{{4}}, refusing anything Meta would."""
    found = set(_PLACEHOLDER.findall(text))
    unknown = found - set(PLACEHOLDERS)
    missing = set(PLACEHOLDERS) - found
    if unknown or missing:
        raise ValueError(
            f"{BODY_KEY} [{locale}]: unknown placeholders {sorted(unknown)}, missing {sorted(missing)}"
        )
    body = text
    for index, name in enumerate(PLACEHOLDERS, start=1):
        body = body.replace("{" + name + "}", "{{" + str(index) + "}}")
    stripped = body.strip()
    if stripped.startswith("{{") or stripped.endswith("}}"):
        raise ValueError(
            f"{BODY_KEY} [{locale}]: Meta rejects a body that starts or ends with a variable"
        )
    if len(stripped) > MAX_BODY:
        raise ValueError(f"{BODY_KEY} [{locale}]: body longer than {MAX_BODY} characters")
    return stripped


def template_definitions(
    *,
    name_prefix: str = "rebook_disruption_notice",
    render: Callable[[str, str], str],
    locales: Sequence[str],
    meta_language: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Build one UTILITY template per locale under one name, as Meta groups translations by name."""
    if not _NAME.fullmatch(name_prefix) or len(name_prefix) > MAX_NAME:
        raise ValueError("template names are lowercase letters, digits and underscores")
    definitions: list[dict[str, Any]] = []
    for locale in locales:
        language = meta_language.get(locale)
        if not language:
            raise ValueError(f"no Meta language code for locale {locale!r}")
        button = " ".join(render(BUTTON_KEY, locale).split())
        if not 0 < len(button) <= MAX_QUICK_REPLY_TEXT:
            raise ValueError(
                f"{BUTTON_KEY} [{locale}]: must be 1-{MAX_QUICK_REPLY_TEXT} characters"
            )
        definitions.append(
            {
                "name": name_prefix,
                "language": language,
                "category": "UTILITY",
                "parameter_format": "POSITIONAL",
                "components": [
                    {
                        "type": "BODY",
                        "text": _positional_body(render(BODY_KEY, locale), locale),
                        "example": {"body_text": [list(EXAMPLE_VALUES)]},
                    },
                    {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": button}]},
                ],
            }
        )
    return definitions
