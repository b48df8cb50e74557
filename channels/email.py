"""E-mail over SMTP with aiosmtplib: multipart plain text + HTML, links to the passenger page, one-click unsubscribe.

Works with any relay: Amazon SES's SMTP interface (email-smtp.<region>.amazonaws.com:587, STARTTLS,
SMTP credentials made from an IAM user), Postmark (smtp.postmarkapp.com), a local Postfix. Setup:
REBOOK_EMAIL__HOST, __PORT, __USERNAME, __PASSWORD, __FROM, __TLS (starttls | tls | none). With SES,
point the identity's bounce, complaint and delivery notifications at an SNS topic subscribed to
`POST /webhooks/ses` (webhooks/ses.py).

Every option links to the page's confirm step (`/p/<token>/confirm/<option>`), never to a booking:
mail scanners open links, and a GET books nothing. Replies are not read (the footer says so).
Headers carry the address and nothing else about the passenger: no name, no booking reference.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import html
import re
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Final, Literal

import aiosmtplib

import locales
from conversations.ports import (
    AddressProblem,
    AddressRejected,
    Capabilities,
    ChannelError,
    ChoiceView,
    DeliveryReceipt,
    DeliveryState,
    InvalidCredentials,
    MessageRejected,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
    ReasonClass,
    RecipientUnreachable,
    SendResult,
)

PROVIDER: Final = "smtp"
#: Who judges addresses (bounces, complaints): SES, through SNS.
FEEDBACK_PROVIDER: Final = "ses"
CHANNEL: Final = "email"
#: The most options an e-mail lists (the page shows every one anyway).
MAX_CHOICES: Final = 10
#: SES's maximum message is 40 MB; a passenger message stays far below. Plain-text bodies are cut here.
MAX_BODY_CHARS: Final = 20_000
#: SES's default sending quota for a production account (the sandbox is 1/s); pacing is a setting.
RATE_PER_SECOND: Final = 14.0
#: A choice token as the renderer writes it (`conversations.outbox.rendering.choice_token`).
_CHOICE = re.compile(r"^opt:\d+:(\d+)$")
#: SES answers DATA with "250 Ok <message id>"; that id is what its notifications name.
_QUEUED_AS = re.compile(r"^(?:ok|queued as)\s+(\S+)", re.IGNORECASE)
#: A throttling reply may say when to come back ("try again in 7 seconds"); SMTP has no header for it.
_RETRY_AFTER = re.compile(r"(?:retry after|try again in)\s+(\d+(?:\.\d+)?)\s*s", re.IGNORECASE)

# SMTP reply codes (RFC 5321 §4.2.3), mapped once to our error tree:
#   421 service not available, closing      -> ProviderUnavailable (temporary)
#   450/451/452 mailbox busy, local error, storage -> ProviderUnavailable (temporary)
#   454 (SES) throttling / TLS not available -> RateLimited (temporary)
#   530/534/535 authentication required or failed -> InvalidCredentials
#   550/551/553 mailbox unavailable or name not allowed -> RecipientUnreachable
#   552/554 message rejected (size, content, policy)   -> MessageRejected
_TEMPORARY: Final = frozenset({421, 450, 451, 452})
_THROTTLED: Final = frozenset({454})
_CREDENTIALS: Final = frozenset({530, 534, 535})
_RECIPIENT: Final = frozenset({550, 551, 553})


def map_error(exc: Exception) -> ChannelError:
    """The one place SMTP failures become ChannelErrors."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        code, text = exc.code, exc.message
        if code in _THROTTLED:
            found = _RETRY_AFTER.search(text)
            return RateLimited(text, code=str(code), retry_after=float(found.group(1)) if found else 1.0)
        if code in _CREDENTIALS:
            return InvalidCredentials(text, code=str(code))
        if code in _RECIPIENT:
            return RecipientUnreachable(text, code=str(code))
        if code in _TEMPORARY or 400 <= code < 500:
            return ProviderUnavailable(text, code=str(code))
        return MessageRejected(text, code=str(code))
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPConnectTimeoutError):
        return ProviderUnavailable(str(exc), code="connect")
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPTimeoutError | OSError | TimeoutError):
        return ProviderUnavailable(str(exc) or type(exc).__name__, code="transport")
    return ProviderUnavailable(str(exc) or type(exc).__name__, code="smtp")


def _option_id(choice: ChoiceView) -> str | None:
    found = _CHOICE.match(choice.token)
    return found.group(1) if found else None


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "rebook.invalid"


def _subject(message: OutboundMessage) -> str:
    """The header if there is one, else the body's first sentence: catalog text, no personal data."""
    text = message.header or message.body
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return first if len(first) <= 90 else first[:89].rstrip() + "…"


def _links(message: OutboundMessage) -> tuple[list[tuple[str, str]], str | None]:
    """(label, url) for each option's confirm step, and the page; none without a page link."""
    page = message.page_link
    if not page:
        return [], None
    options = []
    for choice in message.choices[:MAX_CHOICES]:
        option = _option_id(choice)
        if option is not None:
            label = locales.render("email.choose", message.locale, count=choice.number)
            options.append((label, f"{page}/confirm/{option}"))
    return options, page


def render_text(message: OutboundMessage) -> str:
    """The plain-text part: body, numbered options each with its link, the page, the footer."""
    options, page = _links(message)
    by_number = dict(zip([c.number for c in message.choices if _option_id(c)], options, strict=False))
    lines = [message.body[:MAX_BODY_CHARS]]
    for choice in message.choices[:MAX_CHOICES]:
        lines += ["", f"{choice.number}. {choice.title}"]
        if choice.description:
            lines.append(f"   {choice.description}")
        if choice.number in by_number:
            label, url = by_number[choice.number]
            lines.append(f"   {label}: {url}")
    if page:
        lines += ["", f"{locales.render('email.open_page', message.locale)}: {page}"]
    if message.rights is not None:
        lines += ["", message.rights.text]
        if message.rights.link:
            lines.append(f"{locales.render('rights.read_more', message.locale)}: {message.rights.link}")
    if message.footer:
        lines += ["", message.footer]
    lines += ["", "--", locales.render("email.footer", message.locale)]
    return "\n".join(lines)


def shown_text(mail: EmailMessage) -> str:
    """What the conversation log keeps of a mail: its subject and its plain-text part, as composed."""
    plain = mail.get_body(preferencelist=("plain",))
    body = plain.get_content() if isinstance(plain, EmailMessage) else ""
    return f"{mail['Subject']}\n\n{body}".rstrip("\n")


def render_html(message: OutboundMessage, unsubscribe: str | None) -> str:
    """The HTML part: the same content, semantic and readable without images or styles, RTL where needed."""
    loc = message.locale
    lang = locales.negotiate(loc)
    direction = "rtl" if locales.is_rtl(loc) else "ltr"
    esc = html.escape
    options, page = _links(message)
    by_number = dict(zip([c.number for c in message.choices if _option_id(c)], options, strict=False))
    parts = [
        f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">',
        f"<title>{esc(_subject(message))}</title></head>",
        '<body style="font-family:sans-serif;line-height:1.5;color:#1b1b1b;background:#ffffff">',
        f"<p>{esc(message.body[:MAX_BODY_CHARS])}</p>",
    ]
    if message.choices:
        parts.append("<ol>")
        for choice in message.choices[:MAX_CHOICES]:
            item = f"<strong>{esc(choice.title)}</strong>"
            if choice.description:
                item += f"<br>{esc(choice.description)}"
            if choice.number in by_number:
                label, url = by_number[choice.number]
                item += f'<br><a href="{esc(url)}" style="color:#0b3d6b">{esc(label)}</a>'
            parts.append(f'<li value="{choice.number}">{item}</li>')
        parts.append("</ol>")
    if page:
        label = locales.render("email.open_page", loc)
        parts.append(f'<p><a href="{esc(page)}" style="color:#0b3d6b;font-weight:bold">{esc(label)}</a></p>')
    if message.rights is not None:
        notice = esc(message.rights.text)
        if message.rights.link:
            more = esc(locales.render("rights.read_more", loc))
            notice += f' <a href="{esc(message.rights.link)}" style="color:#0b3d6b">{more}</a>'
        parts.append(f"<p>{notice}</p>")
    if message.footer:
        parts.append(f"<p>{esc(message.footer)}</p>")
    parts.append(f'<hr><p style="font-size:90%">{esc(locales.render("email.footer", loc))}')
    if unsubscribe:
        parts.append(f' <a href="{esc(unsubscribe)}" style="color:#0b3d6b">{esc(locales.render("email.unsubscribe", loc))}</a>')
    parts.append("</p></body></html>")
    return "".join(parts)


class EmailChannel:
    """One SMTP relay; each send opens its own connection (at most `max_connections` at once)."""

    name = CHANNEL
    provider = PROVIDER
    capabilities = Capabilities(
        max_body_chars=MAX_BODY_CHARS,
        max_choices=MAX_CHOICES,
        max_buttons=0,
        max_button_title=0,
        max_list_rows=0,
        max_row_title=0,
        max_row_description=0,
        supports_templates=False,
        session_window=None,
        rate_per_second=RATE_PER_SECOND,
    )

    def __init__(
        self,
        *,
        host: str,
        port: int,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        tls: Literal["starttls", "tls", "none"] = "starttls",
        unsubscribe_mailbox: str | None = None,
        timeout_s: float = 10.0,
        max_connections: int = 16,
    ) -> None:
        self.host, self.port = host, port
        self.from_address = from_address
        self.username, self.password = username, password
        self.tls = tls
        self.unsubscribe_mailbox = unsubscribe_mailbox or parseaddr(from_address)[1]
        self.timeout_s = timeout_s
        self.domain = _domain(from_address)
        self.senders = (from_address,)
        self._slots = asyncio.Semaphore(max_connections)

    def compose(self, message: OutboundMessage) -> EmailMessage:
        """The MIME message: multipart/alternative, threading and unsubscribe headers, no personal data beyond To."""
        mail = EmailMessage()
        mail["From"] = self.from_address
        mail["To"] = message.to
        mail["Subject"] = _subject(message)
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        # The same key gives the same id: a resend after a crash is one message to a mail client.
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        mail["Message-ID"] = f"<rebook.{digest}@{self.domain}>"
        if message.thread:
            root = hashlib.sha256(message.thread.encode()).hexdigest()[:32]
            mail["In-Reply-To"] = f"<rebook.thread.{root}@{self.domain}>"
            mail["References"] = f"<rebook.thread.{root}@{self.domain}>"
        mail["Auto-Submitted"] = "auto-generated"
        unsubscribe = None
        targets = [f"<mailto:{self.unsubscribe_mailbox}?subject=unsubscribe>"]
        if message.page_link and "/p/" in message.page_link:
            base, _, token = message.page_link.rpartition("/p/")
            unsubscribe = f"{base}/email/unsubscribe/{token}"
            targets.insert(0, f"<{unsubscribe}>")
            # RFC 8058: the https target takes a POST of "List-Unsubscribe=One-Click", no confirmation.
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail["List-Unsubscribe"] = ", ".join(targets)
        mail.set_content(render_text(message))
        mail.add_alternative(render_html(message, unsubscribe), subtype="html")
        mail["Content-Language"] = locales.negotiate(message.locale)  # after the parts: set_content drops Content-*
        return mail

    async def send(self, message: OutboundMessage) -> SendResult:
        # The relay judges an address (550/553 below); only what could break the SMTP dialogue stops here.
        if not message.to.strip() or "\r" in message.to or "\n" in message.to:
            raise RecipientUnreachable("not an e-mail address", code="invalid_address")
        mail = self.compose(message)
        async with self._slots:
            try:
                _, reply = await aiosmtplib.send(
                    mail,
                    hostname=self.host,
                    port=self.port,
                    username=self.username or None,
                    password=self.password or None,
                    use_tls=self.tls == "tls",
                    start_tls=self.tls == "starttls",
                    timeout=self.timeout_s,
                )
            except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
                raise map_error(exc) from exc
        queued = _QUEUED_AS.match(reply.strip())
        message_id = queued.group(1) if queued else str(mail["Message-ID"]).strip("<>")
        return SendResult(provider=PROVIDER, provider_message_id=message_id, text=shown_text(mail))

    async def aclose(self) -> None:
        """Nothing stays open between sends."""
        return None


def _when(value: object) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(dt.UTC)


def parse_ses_feedback(notification: Mapping[str, Any], event_id: str) -> list[DeliveryReceipt | AddressRejected]:
    """An SES notification (bounce, complaint, delivery; `notificationType` or `eventType`) as neutral events.

    A permanent bounce fails the delivery (the dispatcher falls back to the next channel) and marks each
    bounced address undeliverable; a transient one only fails the delivery, for a retry elsewhere; a
    complaint withdraws consent for each complaining address; a delivery moves the receipt forward.
    Raises ValueError when the notification is not SES's shape.
    """
    kind = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail")
    if not isinstance(kind, str) or not isinstance(mail, Mapping) or not isinstance(mail.get("messageId"), str):
        raise ValueError("not an SES notification (notificationType/eventType and mail.messageId)")
    message_id = mail["messageId"]
    events: list[DeliveryReceipt | AddressRejected] = []
    if kind == "Bounce":
        bounce = notification.get("bounce") or {}
        permanent = bounce.get("bounceType") == "Permanent"
        recipients = [r for r in bounce.get("bouncedRecipients") or [] if isinstance(r, Mapping)]
        status = next((str(r["status"]) for r in recipients if r.get("status")), "")
        events.append(
            DeliveryReceipt(
                provider=PROVIDER,
                event_id=f"sns:{event_id}",
                provider_message_id=message_id,
                state=DeliveryState.FAILED,
                error_code=f"bounce:{status or bounce.get('bounceType', '')}",
                reason_class=ReasonClass.PERMANENT if permanent else ReasonClass.TEMPORARY,
                at=_when(bounce.get("timestamp")),
            )
        )
        if permanent:
            events += [
                AddressRejected(
                    FEEDBACK_PROVIDER, f"sns:{event_id}:{n}", CHANNEL, str(r["emailAddress"]), AddressProblem.UNDELIVERABLE,
                    _when(bounce.get("timestamp")),
                )
                for n, r in enumerate(recipients)
                if r.get("emailAddress")
            ]
    elif kind == "Complaint":
        complaint = notification.get("complaint") or {}
        events += [
            AddressRejected(
                FEEDBACK_PROVIDER, f"sns:{event_id}:{n}", CHANNEL, str(r["emailAddress"]), AddressProblem.COMPLAINED,
                _when(complaint.get("timestamp")),
            )
            for n, r in enumerate(complaint.get("complainedRecipients") or [])
            if isinstance(r, Mapping) and r.get("emailAddress")
        ]
    elif kind == "Delivery":
        delivery = notification.get("delivery") or {}
        events.append(
            DeliveryReceipt(
                provider=PROVIDER,
                event_id=f"sns:{event_id}",
                provider_message_id=message_id,
                state=DeliveryState.DELIVERED,
                at=_when(delivery.get("timestamp")),
            )
        )
    return events
