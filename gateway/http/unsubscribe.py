"""`List-Unsubscribe` for e-mail: RFC 8058 one-click POST, and a page with a button for a browser's GET."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from conversations.page import links
from conversations.page.unsubscribe import unsubscribe
from gateway.container import Container
from gateway.http.html import browser_locale, html, message, render

PATH = "/email/unsubscribe/{token}"


def router(c: Container) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.post(PATH)
    async def one_click(request: Request, token: str) -> Response:
        """The mail client's POST (`List-Unsubscribe=One-Click`): the same answer whether the token was ours."""
        if links.well_formed(token):
            await unsubscribe(c.db, token, now=c.clock(), evidence="list-unsubscribe")
        return message(request, c, "page.unsubscribed", status=200, live=True)

    @r.get(PATH)
    async def confirm(request: Request, token: str) -> HTMLResponse:
        """A browser that opened the link: a GET changes nothing, the button posts."""
        loc = browser_locale(request)
        return html(
            render(
                "unsubscribe.html",
                loc,
                c,
                action=f"/email/unsubscribe/{token}" if links.well_formed(token) else "",
            )
        )

    return r
