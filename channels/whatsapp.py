"""WhatsApp Cloud API adapter (Meta) through pywa_async: render, send, map errors, parse webhooks.

API: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
Setup: create a Meta app with the WhatsApp product, a system-user token with
`whatsapp_business_messaging`, an approved UTILITY template per message key and language (see
`channels.whatsapp_templates`), and subscribe the app's webhook to the `messages` field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import httpx
from pywa.types.callback import Button, Section, SectionList, SectionRow
from pywa_async.client import WhatsApp
from pywa_async.errors import AuthorizationError, WhatsAppError
from pywa_async.types.templates import QuickReplyButton, TemplateLanguage

from conversations.ports import (
    Capabilities,
    ChannelError,
    ChoiceView,
    DeliveryReceipt,
    DeliveryState,
    InboundText,
    InvalidCredentials,
    MessageRejected,
    OptedOut,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
    ReasonClass,
    RecipientUnreachable,
    SendResult,
    TemplateRequired,
)
from infra.http import DEFAULT_MAX_CONNECTIONS, async_client

PROVIDER = "meta"
CHANNEL = "whatsapp"

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
MAX_TRACKER = 512
ELLIPSIS = "…"

_META_LANGUAGES: Mapping[str, str] = MappingProxyType(
    {"en": "en_US", "es": "es", "de": "de", "fr": "fr", "ar": "ar"}
)

DEFAULT_TEMPLATES: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        key: MappingProxyType(
            {loc: (f"rebook_{key}", code) for loc, code in _META_LANGUAGES.items()}
        )
        for key in ("disruption_notice", "escalation_notice", "broadcast_notice")
    }
)


_E164 = re.compile(r"\+?([1-9]\d{6,14})")


# ---------------------------------------------------------------------------- rendering


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
    match = _E164.fullmatch(to.strip())
    if match is None:
        raise RecipientUnreachable("recipient is not an E.164 number", code="invalid_number")
    return match.group(1)


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
        text=_interactive_body(message, [lines, message.choices_prompt, message.deep_link or ""]),
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
        text=_interactive_body(message, [message.choices_prompt, message.deep_link or ""]),
        header=clip(message.header, MAX_HEADER),
        footer=clip(message.footer, MAX_FOOTER),
        list_button=clip(label, MAX_LIST_BUTTON),
        section_title=clip(" ".join((message.choices_prompt or label).split()), MAX_SECTION_TITLE),
        rows=rows,
    )


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
            [message.deep_link or ""],
            MAX_TEXT,
        )
        if not text:
            raise MessageRejected("a text message needs a body", code="empty_body")
        return WhatsAppPayload(kind="text", to=to, text=text)
    if len(choices) <= MAX_BUTTONS:
        return _render_buttons(message, to, choices)
    return _render_list(message, to, choices)


# ---------------------------------------------------------------------------- errors

_RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})
_UNAVAILABLE_CODES = frozenset({1, 2, 131000})
_UNREACHABLE_CODES = frozenset({131026, 131030, 131021})
_PAIR_RATE_LIMIT_SECONDS = 6.0


def _retry_after(response: httpx.Response | None, default: float) -> float:
    if response is None:
        return default
    raw = response.headers.get("Retry-After")
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if value >= 0 else default


# Template errors (132000 params, 132001 missing translation, 132012 format) and any other 4xx
# fall through to MessageRejected; credentials cover pywa's AuthorizationError family
# (0, 3, 10, 190, 200-299) and a bare 401.
def map_error(exc: Exception) -> ChannelError:
    """Translate every pywa/httpx failure into the ChannelError tree, in this one place."""
    if isinstance(exc, httpx.TimeoutException):
        return ProviderUnavailable("WhatsApp Cloud API timed out", code="timeout")
    if isinstance(exc, httpx.HTTPError):
        return ProviderUnavailable("WhatsApp Cloud API unreachable", code="transport")
    if not isinstance(exc, WhatsAppError):
        return MessageRejected(f"unexpected {type(exc).__name__}", code="unexpected")
    code = exc.code
    status = exc.status_code or 0
    text = f"WhatsApp error {code}"
    if status == 429 or code in _RATE_LIMIT_CODES:
        default = _PAIR_RATE_LIMIT_SECONDS if code == 131056 else 1.0
        return RateLimited(
            text, code=str(code), retry_after=_retry_after(exc.raw_response, default)
        )
    if code in _UNAVAILABLE_CODES or status >= 500:
        return ProviderUnavailable(text, code=str(code))
    if code == 131047:
        return TemplateRequired(text, code=str(code))
    if code in _UNREACHABLE_CODES:
        return RecipientUnreachable(text, code=str(code))
    if code == 131050:
        return OptedOut(text, code=str(code))
    if isinstance(exc, AuthorizationError) or status == 401:
        return InvalidCredentials(text, code=str(code))
    return MessageRejected(text, code=str(code))


# ---------------------------------------------------------------------------- channel


def _quiet_sdk_debug_logs() -> None:
    """pywa's DEBUG logs carry phone numbers and message bodies; keep them out of our logs."""
    for name in ("pywa", "pywa_async"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


class WhatsAppChannel:
    """Sends through the real pywa_async client, aimed at `api_base` (Meta or a local fake)."""

    name = CHANNEL
    provider = PROVIDER
    capabilities = Capabilities(
        max_body_chars=MAX_TEXT,
        max_choices=MAX_ROWS,
        max_buttons=MAX_BUTTONS,
        max_button_title=MAX_BUTTON_TITLE,
        max_list_rows=MAX_ROWS,
        max_row_title=MAX_ROW_TITLE,
        max_row_description=MAX_ROW_DESCRIPTION,
        supports_templates=True,
        session_window=dt.timedelta(hours=24),
        rate_per_second=80.0,
    )

    def __init__(
        self,
        *,
        phone_number_id: str,
        token: str,
        phone_number_ids: tuple[str, ...] = (),
        api_base: str = "https://graph.facebook.com",
        api_version: str = "21.0",
        templates: Mapping[str, Mapping[str, tuple[str, str]]] = DEFAULT_TEMPLATES,
        timeout: float = 10.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        if not phone_number_id or not token:
            raise ValueError("phone_number_id and token are required")
        lacking = sorted(key for key, by_locale in templates.items() if "en" not in by_locale)
        if lacking:
            raise ValueError(f"templates {lacking} must include the 'en' fallback")
        known = {lang.value for lang in TemplateLanguage}
        unknown = sorted(
            code
            for by_locale in templates.values()
            for _, code in by_locale.values()
            if code not in known
        )
        if unknown:
            raise ValueError(f"unknown Meta template language codes: {unknown}")
        self._phone_number_id = phone_number_id
        #: The business phone numbers this app sends from; each is its own lane (80 messages/s apiece).
        self.senders: tuple[str, ...] = tuple(dict.fromkeys(n for n in (phone_number_id, *phone_number_ids) if n))
        self._token = token
        self._api_base = api_base.rstrip("/")
        self._api_version = api_version
        self._templates = {key: dict(by_locale) for key, by_locale in templates.items()}
        self._timeout = timeout
        self._max_connections = max_connections
        self._http: httpx.AsyncClient | None = None
        self._wa: WhatsApp | None = None

    def _client(self) -> WhatsApp:
        """Built on first use so the httpx client belongs to the running event loop."""
        if self._wa is None:
            _quiet_sdk_debug_logs()
            http = self._new_http()
            wa = WhatsApp(
                phone_id=self._phone_number_id,
                token=self._token,
                session=http,
                api_version=self._api_version,
            )
            http.base_url = httpx.URL(self._api_base + http.base_url.path)
            self._http, self._wa = http, wa
        return self._wa

    def _new_http(self) -> httpx.AsyncClient:
        """httpx over a bounded aiohttp pool: httpx's own pool cost ~2 ms of CPU a send at 64 in flight."""
        return async_client(timeout=self._timeout, max_connections=self._max_connections)

    def template_for(self, key: str, locale: str) -> tuple[str, str]:
        """Approved template for a message kind in the passenger's locale, falling back to English."""
        by_locale = self._templates.get(key)
        if by_locale is None:
            raise TemplateRequired(
                "no approved template bound to this key", code="unknown_template"
            )
        base = locale.replace("-", "_").split("_")[0].lower()
        return by_locale.get(locale) or by_locale.get(base) or by_locale["en"]

    async def send(self, message: OutboundMessage) -> SendResult:
        payload = render_whatsapp(message, dt.datetime.now(dt.UTC))
        tracker = (
            message.idempotency_key if 0 < len(message.idempotency_key) <= MAX_TRACKER else None
        )
        sender = message.sender if message.sender in self.senders else self._phone_number_id
        try:
            wamid = await self._send(self._client(), payload, tracker, sender)
        except (WhatsAppError, httpx.HTTPError) as exc:
            raise map_error(exc) from exc
        return SendResult(provider=PROVIDER, provider_message_id=wamid)

    async def _send(self, wa: WhatsApp, payload: WhatsAppPayload, tracker: str | None, sender: str) -> str:
        if payload.kind == "template" and payload.template is not None:
            name, language = self.template_for(payload.template.key, payload.template.locale)
            params: list[Any] = [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": p} for p in payload.template.params],
                }
            ]
            if payload.template.quick_reply_payload is not None:
                params.append(
                    QuickReplyButton.params(
                        callback_data=payload.template.quick_reply_payload, index=0
                    )
                )
            sent_template = await wa.send_template(
                to=payload.to,
                name=name,
                language=TemplateLanguage(language),
                params=params,
                tracker=tracker,
                sender=sender,
            )
            return str(sent_template.id)
        if payload.kind == "buttons":
            sent = await wa.send_message(
                to=payload.to,
                text=payload.text,
                header=payload.header or None,
                footer=payload.footer or None,
                buttons=[Button(title=b.title, callback_data=b.id) for b in payload.buttons],
                tracker=tracker,
                sender=sender,
            )
            return str(sent.id)
        if payload.kind == "list":
            rows = [
                SectionRow(title=r.title, callback_data=r.id, description=r.description or None)
                for r in payload.rows
            ]
            sent = await wa.send_message(
                to=payload.to,
                text=payload.text,
                header=payload.header or None,
                footer=payload.footer or None,
                buttons=SectionList(
                    button_title=payload.list_button,
                    sections=[Section(title=payload.section_title, rows=rows)],
                ),
                tracker=tracker,
                sender=sender,
            )
            return str(sent.id)
        sent = await wa.send_message(to=payload.to, text=payload.text, tracker=tracker, sender=sender)
        return str(sent.id)

    async def aclose(self) -> None:
        http, self._http, self._wa = self._http, None, None
        if http is not None:
            await http.aclose()


# ---------------------------------------------------------------------------- webhooks


def verify_signature(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Check `X-Hub-Signature-256: sha256=<hex>` in constant time; anything missing or odd fails."""
    if not app_secret or not header:
        return False
    scheme, _, given = header.strip().partition("=")
    if scheme.lower() != "sha256" or not given:
        return False
    try:
        given_bytes = given.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), given_bytes)


_STATUS_STATES: Mapping[str, DeliveryState] = MappingProxyType(
    {
        "sent": DeliveryState.SENT,
        "delivered": DeliveryState.DELIVERED,
        "read": DeliveryState.READ,
        "failed": DeliveryState.FAILED,
    }
)
_FAILURE_REASONS: Mapping[int, ReasonClass] = MappingProxyType(
    {
        131047: ReasonClass.POLICY,
        131050: ReasonClass.POLICY,
        131026: ReasonClass.PERMANENT,
        130429: ReasonClass.TEMPORARY,
        131056: ReasonClass.TEMPORARY,
        131000: ReasonClass.TEMPORARY,
    }
)


#: The digits of a WhatsApp id: an E.164 number without its plus (at most 15 digits, ASCII only).
_WA_ID = re.compile(r"[1-9][0-9]{0,14}")
#: 9999-12-31T23:59:59Z: the last second both databases and `datetime` can hold.
_LATEST_TIMESTAMP = 253402300799
_MAX_TIMESTAMP_DIGITS = len(str(_LATEST_TIMESTAMP))


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not an object")
    return value


def _list(container: Mapping[str, Any], key: str, where: str, *, required: bool) -> list[Any]:
    value = container.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}.{key} is not a list")
    return value


def _str(container: Mapping[str, Any], key: str, where: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}.{key} is missing")
    return value


def _timestamp(container: Mapping[str, Any], where: str) -> dt.datetime:
    """Meta sends epoch seconds as a string of digits; anything else (1e20, -1, NaN, 10**30) is malformed."""
    raw = container.get("timestamp")
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= _MAX_TIMESTAMP_DIGITS:
        seconds = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        seconds = raw
    else:
        raise ValueError(f"{where}.timestamp is not epoch seconds")
    if not 0 <= seconds <= _LATEST_TIMESTAMP:
        raise ValueError(f"{where}.timestamp is out of range")
    # Nothing was sent after it arrived: a stamp from the future (a skewed clock, or one opening the
    # 24 h window for ever) is read as now.
    return min(dt.datetime.fromtimestamp(seconds, dt.UTC), dt.datetime.now(dt.UTC))


def _sender(message: Mapping[str, Any], contacts: list[Any]) -> str | None:
    """The phone number; Meta may omit `from` for business-scoped users, then try the contact."""
    raw = message.get("from")
    if not isinstance(raw, str) or not raw:
        wa_ids = [c.get("wa_id") for c in contacts if isinstance(c, dict)]
        raw = next((w for w in wa_ids if isinstance(w, str) and w), None)
    if raw is None:
        return None
    digits = raw.lstrip("+")
    return "+" + digits if _WA_ID.fullmatch(digits) else None


def _reply(message: Mapping[str, Any], where: str) -> tuple[str | None, str | None] | None:
    """(text, choice_token) for the message types we act on; None for any other type."""
    kind = message.get("type")
    if kind == "text":
        body = _obj(message.get("text"), f"{where}.text").get("body")
        return (body if isinstance(body, str) else ""), None
    if kind == "button":
        button = _obj(message.get("button"), f"{where}.button")
        label = button.get("text")
        return (label if isinstance(label, str) else None), _str(
            button, "payload", f"{where}.button"
        )
    if kind == "interactive":
        interactive = _obj(message.get("interactive"), f"{where}.interactive")
        sub = interactive.get("type")
        if sub in ("button_reply", "list_reply"):
            chosen = _obj(interactive.get(sub), f"{where}.interactive.{sub}")
            title = chosen.get("title")
            return (title if isinstance(title, str) else None), _str(chosen, "id", f"{where}.{sub}")
    return None


def _messages(value: Mapping[str, Any], where: str) -> list[InboundText]:
    contacts = _list(value, "contacts", where, required=False)
    metadata = value.get("metadata")
    number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    recipient = number if isinstance(number, str) and number.isascii() and number.isdigit() else ""
    events: list[InboundText] = []
    for i, raw in enumerate(_list(value, "messages", where, required=False)):
        at = f"{where}.messages[{i}]"
        message = _obj(raw, at)
        event_id = _str(message, "id", at)
        reply = _reply(message, at)
        sender = _sender(message, contacts)
        if reply is None or sender is None:
            continue
        text, token = reply
        events.append(
            InboundText(
                provider=PROVIDER,
                event_id=event_id,
                channel=CHANNEL,
                sender=sender,
                text=text,
                choice_token=token,
                received_at=_timestamp(message, at),
                recipient=recipient,
            )
        )
    return events


def _statuses(value: Mapping[str, Any], where: str) -> list[DeliveryReceipt]:
    receipts: list[DeliveryReceipt] = []
    for i, raw in enumerate(_list(value, "statuses", where, required=False)):
        at = f"{where}.statuses[{i}]"
        status = _obj(raw, at)
        wamid = _str(status, "id", at)
        named = status.get("status")
        state = _STATUS_STATES.get(named) if isinstance(named, str) else None
        if state is None:
            continue
        errors = _list(status, "errors", at, required=False)
        first = _obj(errors[0], f"{at}.errors[0]") if errors else {}
        code = first.get("code")
        # Only scalars are read as codes: str() of a nested structure could recurse past the limit.
        error_code = str(code) if isinstance(code, int | str) and not isinstance(code, bool) else None
        reason: ReasonClass | None = None
        if state is DeliveryState.FAILED:
            numeric = code if isinstance(code, int) else -1
            reason = _FAILURE_REASONS.get(numeric, ReasonClass.PERMANENT)
        receipts.append(
            DeliveryReceipt(
                provider=PROVIDER,
                event_id=f"{wamid}:{state.value}",
                provider_message_id=wamid,
                state=state,
                error_code=error_code,
                reason_class=reason,
                at=_timestamp(status, at),
            )
        )
    return receipts


def parse_webhook(payload: object) -> list[InboundText | DeliveryReceipt]:
    """Turn a Cloud API webhook body into neutral events; unknown kinds yield none, bad shapes raise."""
    root = _obj(payload, "payload")
    events: list[InboundText | DeliveryReceipt] = []
    for e, raw_entry in enumerate(_list(root, "entry", "payload", required=True)):
        entry = _obj(raw_entry, f"entry[{e}]")
        for c, raw_change in enumerate(_list(entry, "changes", f"entry[{e}]", required=True)):
            where = f"entry[{e}].changes[{c}]"
            change = _obj(raw_change, where)
            if change.get("field") != "messages":
                continue
            value = _obj(change.get("value"), f"{where}.value")
            events.extend(_messages(value, f"{where}.value"))
            events.extend(_statuses(value, f"{where}.value"))
    return events
