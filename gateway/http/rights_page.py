"""The public full text of a passenger-rights regime, per language: where a first message's notice links.

`GET /rights/{regime}?lang=xx` (eu261, uk261, appr): what the passenger may choose, the care owed,
the compensation table, how to claim and where to complain. It names no booking and no passenger,
so it needs no token; the amounts come from the regimes' own data (`rebooking_core.rights.notice.bands`),
never from a catalog text, so the page and the engine cannot disagree.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

import locales
from gateway.container import Container
from gateway.http.html import browser_locale, html, message, render
from locales.formatting import format_money
from rebooking_core.rights.notice import LEGAL_TITLES, NOTICES, bands


def router(c: Container) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/rights/{regime}")
    async def rights(request: Request, regime: str, lang: str | None = None) -> HTMLResponse:
        """One regime's rights in the language asked for (else the browser's); 404 for a regime we do not know."""
        loc = locales.negotiate(lang) if lang else browser_locale(request)
        if regime not in NOTICES:
            return message(request, c, "page.not_found", status=404, loc=loc)
        currency, table = bands(regime)
        rows = [
            (
                locales.render(band.key, loc),
                [format_money(amount, currency, loc) for amount in band.amounts],
            )
            for band in table
        ]
        family = "appr" if regime == "appr" else "261"
        return html(
            render(
                "rights.html",
                loc,
                c,
                regime=regime,
                family=family,
                rows=rows,
                basis=LEGAL_TITLES[regime],
            )
        )

    return r
