"""Rendering: a neutral message degraded to the Cloud API payload Meta accepts now (template, buttons, list, text)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from channels.whatsapp import ids
from conversations.ports import (
    ChoiceView,
    MessageRejected,
    OutboundMessage,
    RecipientUnreachable,
    TemplateRequired,
)

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_HEADER = 60
MAX_FOOTER = 60
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_BUTTON = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_SECTION_TITLE = 24
MAX_QUICK_REPLY_PAYLOAD = 256
ELLIPSIS = "…"

_E164 = re.compile(r"\+?([1-9]\d{6,14})")


@dataclass(frozen=True)
class WhatsAppButton:
    id: str
    title: str


@dataclass(frozen=True)
class WhatsAppRow:
    id: str
    title: str
    description: str


@dataclass(frozen=True)
class WhatsAppTemplate:
    """Which approved template to send; the channel maps (`key`, `locale`) to a Meta name + language."""

    key: str
    locale: str
    params: tuple[str, ...]
    quick_reply_payload: str | None


@dataclass(frozen=True)
class WhatsAppPayload:
    """One Cloud API message already fitted to Meta's limits, so sending never trips them."""

    kind: Literal["template", "buttons", "list", "text"]
    to: str
    text: str = ""
    header: str = ""
    footer: str = ""
    buttons: tuple[WhatsAppButton, ...] = ()
    list_button: str = ""
    section_title: str = ""
    rows: tuple[WhatsAppRow, ...] = ()
    template: WhatsAppTemplate | None = None


def clip(text: str, limit: int) -> str:
    """Cut to `limit` characters with an ellipsis, because Meta rejects rather than truncates."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    return text[: limit - 1].rstrip() + ELLIPSIS


def shorten_title(choice: ChoiceView, limit: int, *, numbered: bool = False) -> str:
    """Fit a choice title by whole words behind its number, so short labels stay tellable apart."""
    title = " ".join(choice.title.split())
    if not numbered and 0 < len(title) <= limit:
        return title
    prefix = f"{choice.number}. "
    if not title:
        return clip(str(choice.number), limit)
    if len(prefix) + 2 > limit:
        return clip(title, limit)
    if len(prefix) + len(title) <= limit:
        return prefix + title
    budget = limit - len(prefix) - len(ELLIPSIS)
    kept: list[str] = []
    for word in title.split(" "):
        if len(" ".join([*kept, word])) > budget:
            break
        kept.append(word)
    while kept and not any(ch.isalnum() for ch in kept[-1]):
        kept.pop()
    return prefix + (" ".join(kept) or title[:budget]).rstrip() + ELLIPSIS


def _wa_id(to: str) -> str:
    """The wa_id digits of a phone number, or a BSUID as it is (pywa sends that as `recipient`, not `to`)."""
    match = _E164.fullmatch(to.strip())
    if match is not None:
        return match.group(1)
    if ids.BSUID.fullmatch(to) or ids.PARENT_BSUID.fullmatch(to):
        return to
    raise RecipientUnreachable("recipient is neither an E.164 number nor a BSUID", code="invalid_number")


def _window_open(message: OutboundMessage, now: dt.datetime) -> bool:
    return message.window_open_until is not None and message.window_open_until > now


def _compose(main: str, extras: list[str], limit: int) -> str:
    """Join body and trailing parts, cutting the body first so prompts and links survive."""
    suffix = "\n\n".join(part for part in extras if part)
    main = main.strip()
    if not suffix:
        return clip(main, limit)
    if not main:
        return clip(suffix, limit)
    room = limit - len(suffix) - 2
    if room >= 2:
        return clip(main, room) + "\n\n" + suffix
    return clip(main + "\n\n" + suffix, limit)


def _single_line(value: str) -> str:
    """Template parameters may not hold newlines, tabs or runs of spaces (Meta error 132018)."""
    return " ".join(value.split())


def _render_template(message: OutboundMessage, to: str) -> WhatsAppPayload:
    call = message.template
    if call is None:
        raise TemplateRequired("session window closed and no template given", code="no_template")
    payload = call.quick_reply_payload
    if payload is not None and not 0 < len(payload) <= MAX_QUICK_REPLY_PAYLOAD:
        raise MessageRejected("quick-reply payload length out of range", code="payload_length")
    template = WhatsAppTemplate(
        key=call.key,
        locale=call.locale or message.locale,
        params=tuple(_single_line(p) for p in call.params),
        quick_reply_payload=payload,
    )
    return WhatsAppPayload(kind="template", to=to, template=template)


def _render_buttons(
    message: OutboundMessage, to: str, choices: tuple[ChoiceView, ...]
) -> WhatsAppPayload:
    titles = [shorten_title(c, MAX_BUTTON_TITLE) for c in choices]
    if len(set(titles)) < len(titles):
        titles = [shorten_title(c, MAX_BUTTON_TITLE, numbered=True) for c in choices]
    shortened = any(t != c.title for t, c in zip(titles, choices, strict=True))
    lines = ""
    if shortened or any(c.description for c in choices):
        lines = "\n".join(
            f"{c.number}. {c.title}" + (f" — {c.description}" if c.description else "")
            for c in choices
        )
    buttons = tuple(
        WhatsAppButton(id=_token(c, MAX_BUTTON_ID), title=t)
        for c, t in zip(choices, titles, strict=True)
    )
    return WhatsAppPayload(
        kind="buttons",
        to=to,
        text=_interactive_body(message, [lines, message.choices_prompt, _notice(message), message.page_link or ""]),
        header=clip(message.header, MAX_HEADER),
        footer=clip(message.footer, MAX_FOOTER),
        buttons=buttons,
    )


def _render_list(
    message: OutboundMessage, to: str, choices: tuple[ChoiceView, ...]
) -> WhatsAppPayload:
    label = " ".join(message.list_button.split())
    if not label:
        raise MessageRejected(
            "a list message needs a list_button label", code="list_button_missing"
        )
    rows = tuple(
        WhatsAppRow(
            id=_token(c, MAX_ROW_ID),
            title=shorten_title(c, MAX_ROW_TITLE),
            description=clip(" ".join(c.description.split()), MAX_ROW_DESCRIPTION),
        )
        for c in choices[:MAX_ROWS]
    )
    return WhatsAppPayload(
        kind="list",
        to=to,
        text=_interactive_body(message, [message.choices_prompt, _notice(message), message.page_link or ""]),
        header=clip(message.header, MAX_HEADER),
        footer=clip(message.footer, MAX_FOOTER),
        list_button=clip(label, MAX_LIST_BUTTON),
        section_title=clip(" ".join((message.choices_prompt or label).split()), MAX_SECTION_TITLE),
        rows=rows,
    )


def _notice(message: OutboundMessage) -> str:
    """A first message's notice of rights and its link, kept whole before the page link (the body is cut first).

    Outside the 24 h window a first message is an approved template whose text Meta fixed: the notice
    then reaches the passenger on the page the template's button opens, and on the options that follow.
    """
    rights = message.rights
    if rights is None:
        return ""
    return f"{rights.text}\n{rights.link}".strip()


def _interactive_body(message: OutboundMessage, extras: list[str]) -> str:
    text = _compose(message.body, extras, MAX_INTERACTIVE_BODY)
    if not text:
        raise MessageRejected("an interactive message needs a body", code="empty_body")
    return text


def _token(choice: ChoiceView, limit: int) -> str:
    """Tokens are carried back verbatim, so one that does not fit is refused, never cut."""
    if not 0 < len(choice.token) <= limit:
        raise MessageRejected("choice token length out of range", code="token_length")
    return choice.token


def render_whatsapp(message: OutboundMessage, now: dt.datetime) -> WhatsAppPayload:
    """Degrade a rich message to what Meta accepts now: template outside 24 h, else buttons/list/text."""
    to = _wa_id(message.to)
    if not _window_open(message, now):
        return _render_template(message, to)
    choices = message.choices
    if not choices:
        text = _compose(
            "\n\n".join(p for p in (message.header, message.body, message.footer) if p),
            [_notice(message), message.page_link or ""],
            MAX_TEXT,
        )
        if not text:
            raise MessageRejected("a text message needs a body", code="empty_body")
        return WhatsAppPayload(kind="text", to=to, text=text)
    if len(choices) <= MAX_BUTTONS:
        return _render_buttons(message, to, choices)
    return _render_list(message, to, choices)


def shown_text(payload: WhatsAppPayload) -> str:
    """What the passenger's WhatsApp shows, as one text for the conversation log: header, body, footer, then the choices."""
    if payload.template is not None:
        call = payload.template
        return "\n".join([f"[template {call.key} ({call.locale})]", *call.params])
    parts = [p for p in (payload.header, payload.text, payload.footer) if p]
    choices = [f"[{b.title}]" for b in payload.buttons]
    if payload.rows:
        choices = [f"[{payload.list_button}]"] + [f"- {r.title}" + (f": {r.description}" if r.description else "") for r in payload.rows]
    return "\n\n".join(parts + (["\n".join(choices)] if choices else []))
