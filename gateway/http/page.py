"""The passenger page under /p/<token>: server-rendered, works without JavaScript, changes nothing on GET.

Link-preview bots and mail scanners fetch every link they see, so a GET only shows; each action
is a POST carrying a CSRF token derived from the link, answered with a redirect back to the page
(a reload never repeats it). Every answer is `Cache-Control: no-store`, `Referrer-Policy:
no-referrer` and under a Content-Security-Policy that allows no script at all. An expired link
and a token that never existed get the same page, so the answer never tells whether a booking
exists.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

import locales
from conversations.choices import NONE, Extra, load_extras
from conversations.engine import Status
from conversations.optin import deep_links
from conversations.page import actions, links, own_choices
from conversations.page.actions import Outcome
from conversations.page.models import PageLink
from conversations.page.own_choices import ChoiceOutcome
from conversations.page.rights import rights_view
from conversations.page.view import PageView, page_view
from gateway.container import Container
from gateway.http.html import TEMPLATES, html, message, redirect, render
from rebooking_core.models import Flight

NOTICES: Mapping[str, str] = {
    Outcome.BOOKED: "page.notice_booked",
    Outcome.ALREADY_BOOKED: "page.notice_already",
    Outcome.STALE: "page.notice_stale",
    Outcome.NOT_NOW: "page.notice_not_now",
    Outcome.AGENT: "page.notice_agent",
    Outcome.REFUND: "page.notice_refund",
    Outcome.SAVED: "page.notice_saved",
    Outcome.LANGUAGE: "page.notice_language",
    ChoiceOutcome.REFUND_RECORDED: "page.notice_refund_recorded",
    ChoiceOutcome.KEPT: "page.notice_kept",
    ChoiceOutcome.DATED: "page.notice_dated",
    ChoiceOutcome.DATE_REFUSED: "page.notice_date_refused",
    ChoiceOutcome.NOT_OFFERED: "page.notice_not_now",
    ChoiceOutcome.NOT_NOW: "page.notice_not_now",
}
STATUS_TEXT: Mapping[Status, str] = {
    Status.PENDING: "page.status_pending",
    Status.CONFIRMING: "page.status_pending",
    Status.AGENT: "page.status_agent",
    Status.CLOSED: "page.status_closed",
    Status.OPTED_OUT: "page.status_opted_out",
}


class Limiter:
    """A sliding minute per key (client address, link): guessing tokens or hammering one link gets 429."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._seen: dict[str, collections.deque[float]] = {}

    def allow(self, *keys: str) -> bool:
        now = self.clock()
        if len(self._seen) > 10_000:  # forget idle keys so a scan of addresses cannot grow this without bound
            self._seen = {k: q for k, q in self._seen.items() if q and now - q[-1] < 60}
        ok = True
        for key in keys:
            seen = self._seen.setdefault(key, collections.deque())
            while seen and now - seen[0] >= 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                ok = False
            else:
                seen.append(now)
        return ok


def _expired(request: Request, c: Container, token: str) -> HTMLResponse:
    """The same answer for an expired link and a token that never was one of ours."""
    hashed = links.token_hash(token) if links.well_formed(token) else ""
    renew = f"/p/{token}/renew" if hashed else None
    return message(
        request,
        c,
        "page.expired_title",
        "page.expired_body",
        status=404,
        renew_action=renew,
        csrf=links.csrf_token(hashed) if hashed else "",
    )


def _telegram_link(c: Container, view: PageView, passenger_id: int | None) -> str | None:
    """The bot's deep link for this passenger, while Telegram runs and they have not joined it yet."""
    bot = c.settings.telegram.bot_username
    if not bot or "telegram" not in c.channels or passenger_id is None or any(ch.channel == "telegram" for ch in view.channels):
        return None
    token = deep_links.mint(passenger_id, now=c.clock(), ttl=c.settings.telegram.link_ttl)
    return deep_links.telegram_url(bot, token)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _form(request: Request) -> Mapping[str, Any]:
    form = await request.form()
    return {key: form.getlist(key) for key in form}


def _one(form: Mapping[str, Any], key: str) -> str | None:
    values = form.get(key) or []
    return str(values[0]) if values else None


def router(c: Container) -> APIRouter:
    """The page's routes, with one per-process limiter per app."""
    limiter = Limiter(c.settings.page.requests_per_minute)
    r = APIRouter(include_in_schema=False)

    def limited(request: Request, token: str) -> HTMLResponse | None:
        if limiter.allow(f"ip:{_client(request)}", f"token:{token[:64]}"):
            return None
        refused = message(request, c, "page.too_many", status=429)
        refused.headers["Retry-After"] = "60"
        return refused

    async def live_link(token: str) -> PageLink | None:
        async with c.db.reading() as s:
            link = await links.find(s, token)
        return link if links.live(link, c.clock()) else None

    async def show(request: Request, link: PageLink, token: str, *, option_id: int | None = None, notice: str | None = None) -> HTMLResponse:
        async with c.db.reading() as s:
            conv = await links.conversation_of(s, link)
            if conv is None:
                return _expired(request, c, token)
            view = await page_view(s, link, conv, now=c.clock(), locale=conv.locale)
            choosing = conv.status in (Status.OFFERED.value, Status.ESCALATED.value)
            config, today = c.service.config.choices, c.clock().date()
            own = await load_extras(s, conv.impact, conv.disruption_id, conv.flight_id, config, today=today) if choosing else NONE
            flight = await s.get(Flight, conv.flight_id)
            rights = await rights_view(
                s, conv, flight, disruption_id=link.disruption_id, carriers=c.service.config.carriers, locale=view.locale
            ) if flight is not None else None
        csrf = links.csrf_token(link.token_hash)
        if option_id is not None:
            option = next((o for o in view.options if o.id == option_id), None)
            if option is None:
                return _not_found(request, view, token)
            return html(render("confirm.html", view.locale, c, view=view, option=option, token=token, csrf=csrf))
        key = NOTICES.get(notice or "")
        return html(
            render(
                "page.html",
                view.locale,
                c,
                view=view,
                token=token,
                csrf=csrf,
                own=[extra.value for extra in own.offered],
                own_earliest=own.earliest.isoformat() if own.earliest else "",
                own_latest=own.latest.isoformat() if own.latest else "",
                notice=locales.render(key, view.locale) if key else None,
                status_text=locales.render(STATUS_TEXT.get(view.status, "page.status_waiting"), view.locale),
                telegram=_telegram_link(c, view, conv.passenger_id),
                rights=rights,
            )
        )

    def _not_found(request: Request, view: PageView, token: str) -> HTMLResponse:
        return message(request, c, "page.not_found", status=404, loc=view.locale, back=f"/p/{token}")

    @r.get("/p/_/page.css")
    async def stylesheet() -> Response:
        return Response((TEMPLATES / "page.css").read_bytes(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @r.get("/p/{token}")
    async def page(request: Request, token: str, notice: str | None = None) -> HTMLResponse:
        if (refused := limited(request, token)) is not None:
            return refused
        link = await live_link(token)
        if link is None:
            return _expired(request, c, token)
        return await show(request, link, token, notice=notice)

    @r.get("/p/{token}/confirm/{option_id}")
    async def confirm(request: Request, token: str, option_id: str) -> HTMLResponse:
        """The confirm step an e-mail's per-option link opens: it shows, the button books."""
        if (refused := limited(request, token)) is not None:
            return refused
        link = await live_link(token)
        if link is None:
            return _expired(request, c, token)
        return await show(request, link, token, option_id=int(option_id) if option_id.isdigit() else -1)

    async def checked(request: Request, token: str) -> tuple[PageLink | None, Mapping[str, Any], HTMLResponse | None]:
        """The live link and the form, or the answer to give instead (429, 403 without a valid CSRF token, expired)."""
        if (refused := limited(request, token)) is not None:
            return None, {}, refused
        form = await _form(request)
        hashed = links.token_hash(token) if links.well_formed(token) else ""
        if not hashed or not links.csrf_ok(hashed, _one(form, "csrf")):
            return None, form, message(request, c, "page.forbidden_title", "page.forbidden_body", status=403)
        link = await live_link(token)
        if link is None:
            return None, form, _expired(request, c, token)
        return link, form, None

    def done(token: str, outcome: Outcome) -> RedirectResponse:
        return redirect(f"/p/{token}?notice={outcome.value}")

    @r.post("/p/{token}/choose")
    async def choose(request: Request, token: str) -> Response:
        link, form, refused = await checked(request, token)
        if refused is not None or link is None:
            return refused or _expired(request, c, token)
        raw = _one(form, "option_id") or ""
        outcome = await actions.choose(c.service, link, int(raw)) if raw.isdigit() and len(raw) < 19 else None
        if outcome is None:
            return message(request, c, "page.not_found", status=404, back=f"/p/{token}")
        return done(token, outcome)

    @r.post("/p/{token}/refund")
    async def refund(request: Request, token: str) -> Response:
        return await person(request, token, refund=True)

    @r.post("/p/{token}/agent")
    async def agent(request: Request, token: str) -> Response:
        return await person(request, token, refund=False)

    async def person(request: Request, token: str, *, refund: bool) -> Response:
        link, _, refused = await checked(request, token)
        if refused is not None or link is None:
            return refused or _expired(request, c, token)
        outcome = await actions.ask_for_person(c.service, link, refund=refund, now=c.clock())
        return done(token, outcome) if outcome is not None else _expired(request, c, token)

    @r.post("/p/{token}/own/{choice}")
    async def own_choice(request: Request, token: str, choice: str) -> Response:
        """Refund instead, keep my flight, or options on a later date (conversations/page/own_choices.py)."""
        link, form, refused = await checked(request, token)
        if refused is not None or link is None:
            return refused or _expired(request, c, token)
        if choice not in {e.value for e in Extra}:
            return message(request, c, "page.not_found", status=404, back=f"/p/{token}")
        if choice == Extra.LATER.value and _one(form, "date"):
            outcome = await own_choices.choose_date(c.service, link, _one(form, "date") or "", now=c.clock())
        else:
            outcome = await own_choices.choose(c.service, link, Extra(choice), now=c.clock())
        return redirect(f"/p/{token}?notice={outcome.value}") if outcome is not None else _expired(request, c, token)

    @r.post("/p/{token}/language")
    async def language(request: Request, token: str) -> Response:
        link, form, refused = await checked(request, token)
        if refused is not None or link is None:
            return refused or _expired(request, c, token)
        wanted = _one(form, "locale") or ""
        if wanted not in locales.SUPPORTED:
            return redirect(f"/p/{token}")
        return done(token, await actions.set_language(c.service, link, wanted))

    @r.post("/p/{token}/preferences")
    async def preferences(request: Request, token: str) -> Response:
        link, form, refused = await checked(request, token)
        if refused is not None or link is None:
            return refused or _expired(request, c, token)
        outcome = await actions.set_preferences(
            c.service,
            link,
            granted={str(v) for v in form.get("allow", [])},
            preferred=_one(form, "preferred"),
            evidence=f"ip:{_client(request)}",
            now=c.clock(),
        )
        return done(token, outcome) if outcome is not None else _expired(request, c, token)

    @r.post("/p/{token}/renew")
    async def renew(request: Request, token: str) -> Response:
        """Ask for a fresh link: the same answer whatever the token was, so it tells nothing."""
        if (refused := limited(request, token)) is not None:
            return refused
        form = await _form(request)
        hashed = links.token_hash(token) if links.well_formed(token) else ""
        if not hashed or not links.csrf_ok(hashed, _one(form, "csrf")):
            return message(request, c, "page.forbidden_title", "page.forbidden_body", status=403)
        async with c.db.reading() as s:
            link = await links.find(s, token)
        if link is not None:
            await actions.renew(c.service, link.id, now=c.clock())
        return message(request, c, "page.expired_title", "page.renewed", status=200, live=True)

    return r
