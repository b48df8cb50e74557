"""Meta message-template creation payloads (disruption notice, escalation notice, ops broadcast), one per language.

Reference: https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
Submit each payload to `POST /{waba_id}/message_templates`; Meta reviews it before use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

BODY_KEY = "template.disruption_notice"
BUTTON_KEY = "template.see_options"
PLACEHOLDERS = ("airline", "flight", "route", "date")
EXAMPLE_VALUES = ("Rebook Air", "RB1234", "MAD → LHR", "12 Mar 2026")


@dataclass(frozen=True)
class TemplateSpec:
    """What one template key needs from the catalogs, in the parameter order the sender uses."""

    body_key: str
    placeholders: tuple[str, ...]
    examples: tuple[str, ...]
    button_key: str | None


SPECS: Mapping[str, TemplateSpec] = MappingProxyType(
    {
        "disruption_notice": TemplateSpec(BODY_KEY, PLACEHOLDERS, EXAMPLE_VALUES, BUTTON_KEY),
        "escalation_notice": TemplateSpec(
            "template.escalation_notice", ("flight", "airline"), ("RB1234", "Rebook Air"), None
        ),
        "broadcast_notice": TemplateSpec(
            "template.broadcast_notice",
            ("airline", "text"),
            ("Rebook Air", "Check-in for RB1234 now opens at 06:00 at desk 12."),
            None,
        ),
    }
)
MAX_BODY = 1024
MAX_QUICK_REPLY_TEXT = 25
MAX_NAME = 512

_NAME = re.compile(r"[a-z0-9_]+")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _positional_body(text: str, locale: str, spec: TemplateSpec) -> str:
    """Swap our named str.format fields for Meta's {{1}}..{{n}}, refusing anything Meta would."""
    where = f"{spec.body_key} [{locale}]"
    found = set(_PLACEHOLDER.findall(text))
    unknown = found - set(spec.placeholders)
    missing = set(spec.placeholders) - found
    if unknown or missing:
        raise ValueError(
            f"{where}: unknown placeholders {sorted(unknown)}, missing {sorted(missing)}"
        )
    body = text
    for index, name in enumerate(spec.placeholders, start=1):
        body = body.replace("{" + name + "}", "{{" + str(index) + "}}")
    stripped = body.strip()
    if stripped.startswith("{{") or stripped.endswith("}}"):
        raise ValueError(f"{where}: Meta rejects a body that starts or ends with a variable")
    if len(stripped) > MAX_BODY:
        raise ValueError(f"{where}: body longer than {MAX_BODY} characters")
    return stripped


def template_definitions(
    *,
    name_prefix: str = "rebook_disruption_notice",
    render: Callable[[str, str], str],
    locales: Sequence[str],
    meta_language: Mapping[str, str],
    key: str = "disruption_notice",
) -> list[dict[str, Any]]:
    """Build one UTILITY template per locale under one name, as Meta groups translations by name."""
    if not _NAME.fullmatch(name_prefix) or len(name_prefix) > MAX_NAME:
        raise ValueError("template names are lowercase letters, digits and underscores")
    spec = SPECS.get(key)
    if spec is None:
        raise ValueError(f"no template definition for key {key!r}")
    definitions: list[dict[str, Any]] = []
    for locale in locales:
        language = meta_language.get(locale)
        if not language:
            raise ValueError(f"no Meta language code for locale {locale!r}")
        components: list[dict[str, Any]] = [
            {
                "type": "BODY",
                "text": _positional_body(render(spec.body_key, locale), locale, spec),
                "example": {"body_text": [list(spec.examples)]},
            }
        ]
        if spec.button_key is not None:
            button = " ".join(render(spec.button_key, locale).split())
            if not 0 < len(button) <= MAX_QUICK_REPLY_TEXT:
                raise ValueError(
                    f"{spec.button_key} [{locale}]: must be 1-{MAX_QUICK_REPLY_TEXT} characters"
                )
            components.append(
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": button}]}
            )
        definitions.append(
            {
                "name": name_prefix,
                "language": language,
                "category": "UTILITY",
                "parameter_format": "POSITIONAL",
                "components": components,
            }
        )
    return definitions
