"""The channel: the pywa_async client aimed at `api_base` (Meta or a local fake), and the send."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import httpx
from pywa.types.callback import Button, Section, SectionList, SectionRow
from pywa.types.sent_update import RecipientType
from pywa.utils import UserIdentifier
from pywa_async.client import WhatsApp
from pywa_async.errors import WhatsAppError
from pywa_async.types.templates import QuickReplyButton, TemplateLanguage

from channels.whatsapp.errors import map_error
from channels.whatsapp.names import CHANNEL, PROVIDER
from channels.whatsapp.render import (
    MAX_BUTTON_TITLE,
    MAX_BUTTONS,
    MAX_ROW_DESCRIPTION,
    MAX_ROW_TITLE,
    MAX_ROWS,
    MAX_TEXT,
    WhatsAppPayload,
    render_whatsapp,
    shown_text,
)
from conversations.ports import (
    Capabilities,
    OutboundMessage,
    RecipientUnreachable,
    SendResult,
    TemplateRequired,
)
from infra.http import DEFAULT_MAX_CONNECTIONS, async_client

MAX_TRACKER = 512
_PHONE_FIRST = (UserIdentifier.WA_ID, UserIdentifier.BSUID, UserIdentifier.PARENT_BSUID)
#: The recipients pywa sends in the Cloud API's `recipient` field instead of `to`.
_BY_USER_ID = frozenset({RecipientType.BSUID, RecipientType.PARENT_BSUID})

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
                # pywa 4 prefers the BSUID; we answer on the number when we have it, as sends do.
                user_identifier_priority=_PHONE_FIRST,
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
        if not payload.to.isdigit() and RecipientType.from_recipient(payload.to) not in _BY_USER_ID:
            # pywa would take a BSUID it does not recognise for a group id and send it as `to`.
            raise RecipientUnreachable("pywa cannot address this BSUID", code="unsupported_bsuid")
        tracker = (
            message.idempotency_key if 0 < len(message.idempotency_key) <= MAX_TRACKER else None
        )
        sender = message.sender if message.sender in self.senders else self._phone_number_id
        try:
            wamid = await self._send(self._client(), payload, tracker, sender)
        except (WhatsAppError, httpx.HTTPError) as exc:
            raise map_error(exc) from exc
        return SendResult(provider=PROVIDER, provider_message_id=wamid, text=shown_text(payload))

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
