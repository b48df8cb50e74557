"""Server-rendered HTML for passengers (the page, unsubscribe): templates, safety headers, short messages."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel import Locale
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import locales
from gateway.container import Container

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: No script anywhere; styles only from our own stylesheet; forms post only back to us; never framed.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PERSONAL_HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


@functools.cache
def languages() -> tuple[tuple[str, str], ...]:
    """Each shipped language named as it writes itself (CLDR), for the selector; read on first use."""
    return tuple((code, Locale.parse(code).get_display_name(code) or code) for code in locales.SUPPORTED)


_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=dict(PERSONAL_HEADERS))


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=dict(PERSONAL_HEADERS))


def render(name: str, loc: str, c: Container, **context: Any) -> str:
    def t(key: str, **params: object) -> str:
        return locales.render(key, loc, **params)

    return _env.get_template(name).render(
        t=t,
        lang=loc,
        dir="rtl" if locales.is_rtl(loc) else "ltr",
        airline=c.settings.airline_name,
        contact=c.settings.help_contact,
        languages=languages(),
        **context,
    )


def browser_locale(request: Request) -> str:
    """The first shipped language the browser asks for (only for pages that know no booking)."""
    for part in request.headers.get("accept-language", "").split(","):
        lang = part.split(";")[0].strip().split("-")[0].lower()
        if lang in locales.SUPPORTED:
            return lang
    return locales.DEFAULT


def message(
    request: Request, c: Container, heading: str, *paragraphs: str, status: int, loc: str | None = None, **extra: Any
) -> HTMLResponse:
    loc = loc or browser_locale(request)
    texts = [locales.render(p, loc, contact=c.settings.help_contact) for p in paragraphs]
    context = {"heading": locales.render(heading, loc), "paragraphs": texts, "live": False, "renew_action": None, "back": None}
    context.update(extra)
    return html(render("message.html", loc, c, **context), status)
