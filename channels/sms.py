"""SMS through Twilio: a numbered menu within a segment budget, sent with the official SDK.

API: https://www.twilio.com/docs/messaging/api/message-resource (POST
/2010-04-01/Accounts/{AccountSid}/Messages.json). Setup: buy a number (or a Messaging Service,
pass its "MG…" SID as `from_number`), point its inbound webhook at `/webhooks/twilio/sms` and
pass `status_callback_url` = `<public base>/webhooks/twilio/status`.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import datetime as dt
import email.utils
import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Final
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.segments import GSM7_PART, GSM7_SINGLE, count_segments, encoding
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
    RightsNotice,
    SendResult,
)
from infra.http import DEFAULT_MAX_CONNECTIONS, client_session

PROVIDER: Final = "twilio"
CHANNEL: Final = "sms"
MAX_BODY_CHARS: Final = 1600  # Twilio rejects longer bodies with 21617.
MAX_CHOICES: Final = 9  # a passenger answers with one digit.
MIN_DESCRIPTION: Final = 10  # a description cut shorter than this says nothing: drop it.
WORD_SLACK: Final = 15  # how far back a cut may move to land between words.
IDEMPOTENCY_HEADER: Final = "I-Twilio-Idempotency-Token"

# Twilio error codes raised when creating a message, mapped to our error tree.
SEND_ERRORS: Final[Mapping[int, type[ChannelError]]] = {
    20429: RateLimited,
    21610: OptedOut,
    21211: RecipientUnreachable,
    21612: RecipientUnreachable,
    21614: RecipientUnreachable,
    30003: RecipientUnreachable,
    30005: RecipientUnreachable,
    30006: RecipientUnreachable,
    20003: InvalidCredentials,
    20404: InvalidCredentials,
}

# Delivery-failure codes (status callbacks) → what the dispatcher does: retry, fall back, stop.
# https://www.twilio.com/docs/api/errors ; unknown codes count as permanent (fall back).
FAILURE_REASONS: Final[Mapping[str, ReasonClass]] = {
    "30001": ReasonClass.TEMPORARY,  # queue overflow
    "30008": ReasonClass.TEMPORARY,  # unknown error
    "30009": ReasonClass.TEMPORARY,  # missing segment
    "30017": ReasonClass.TEMPORARY,  # carrier network congestion
    "30022": ReasonClass.TEMPORARY,  # A2P 10DLC throughput exceeded
    "30023": ReasonClass.TEMPORARY,  # A2P 10DLC daily cap reached
    "20429": ReasonClass.TEMPORARY,  # too many requests
    "30002": ReasonClass.PERMANENT,  # account suspended: retrying cannot help
    "30003": ReasonClass.PERMANENT,  # unreachable handset
    "30005": ReasonClass.PERMANENT,  # unknown handset
    "30006": ReasonClass.PERMANENT,  # landline or unreachable carrier
    "30010": ReasonClass.PERMANENT,  # price exceeds max price
    "30019": ReasonClass.PERMANENT,  # content size exceeds carrier limit
    "21211": ReasonClass.PERMANENT,  # invalid To number
    "21612": ReasonClass.PERMANENT,  # cannot route to this number
    "21614": ReasonClass.PERMANENT,  # not a mobile number
    "21617": ReasonClass.PERMANENT,  # body too long
    "21610": ReasonClass.POLICY,  # recipient replied STOP
    "30004": ReasonClass.POLICY,  # blocked by recipient or carrier
    "30007": ReasonClass.POLICY,  # filtered as spam/violation
    "30018": ReasonClass.POLICY,  # sender ID needs registration
    "30024": ReasonClass.POLICY,  # numeric sender not provisioned
    "30032": ReasonClass.POLICY,  # toll-free number not verified
    "30034": ReasonClass.POLICY,  # unregistered 10DLC number
    "21408": ReasonClass.POLICY,  # region not enabled for the account
}

STATUS_STATES: Final[Mapping[str, DeliveryState]] = {
    "accepted": DeliveryState.QUEUED,
    "scheduled": DeliveryState.QUEUED,
    "queued": DeliveryState.QUEUED,
    "sending": DeliveryState.QUEUED,
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "undelivered": DeliveryState.FAILED,
    "failed": DeliveryState.FAILED,
}

_E164 = re.compile(r"\+[1-9][0-9]{5,14}")  # ASCII digits: str.isdigit and \d also take "٣" and "²"
_PHONE_NOISE = re.compile(r"[\s().\-/]")


class UnsupportedStatus(ValueError):
    """A well-formed status callback we do not track (e.g. "canceled"): acknowledge, ignore."""


# ---------------------------------------------------------------- rendering


def _fits(text: str, max_segments: int) -> bool:
    if len(text) > MAX_BODY_CHARS or len(text) > _most_chars(max_segments):
        return False
    return count_segments(text) <= max_segments


def _most_chars(max_segments: int) -> int:
    """Every character costs at least one GSM-7 septet, so a longer text cannot fit: skip counting it."""
    return GSM7_SINGLE if max_segments == 1 else GSM7_PART * max_segments


def _cut(text: str, limit: int, ellipsis: str) -> str:
    """Shorten to `limit` chars plus an ellipsis, at a word boundary when one is near."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    if text[limit] != " " and space >= limit - WORD_SLACK:
        head = head[:space]
    return head.rstrip() + ellipsis


class _Menu:
    """One message being fitted; the separators depend only on how many options show and whether described."""

    def __init__(self, message: OutboundMessage) -> None:
        self.message = message
        #: The notice of rights as shown now: its short text and link, or (`compact`) its tag and link.
        self.notice = _notice(message, compact=False)
        self._marks: dict[tuple[int, bool, bool, str], tuple[str, str]] = {}

    def marks(self, options: tuple[ChoiceView, ...], with_desc: bool, with_link: bool) -> tuple[str, str]:
        """Dash and ellipsis stay GSM-7 when the shown content is, so they cost nothing."""
        key = (len(options), with_desc, with_link, self.notice)
        found = self._marks.get(key)
        if found is None:
            message = self.message
            prompt = message.choices_prompt if options else ""
            shown = [message.body, prompt, (message.page_link or "") if with_link else "", self.notice]
            shown += [o.title + (o.description if with_desc else "") for o in options]
            found = self._marks[key] = (" - ", "...") if encoding("".join(shown)) == "GSM-7" else (" — ", "…")
        return found

    def layout(
        self, options: tuple[ChoiceView, ...], desc_limit: int | None, body_limit: int | None, *, with_link: bool = True
    ) -> str:
        """Lay out the SMS with the first `options`, descriptions and body cut to the limits given, the page link or not."""
        message = self.message
        with_desc = desc_limit is None or desc_limit >= MIN_DESCRIPTION
        prompt = message.choices_prompt if options else ""
        dash, ellipsis = self.marks(options, with_desc, with_link)
        body = message.body if body_limit is None else _cut(message.body, body_limit, ellipsis)
        lines = [body] if body else []
        for opt in options:
            line = f"{opt.number}) {opt.title}"
            if opt.description and with_desc:
                desc = opt.description if desc_limit is None else _cut(opt.description, desc_limit, ellipsis)
                line += dash + desc
            lines.append(line)
        lines.extend(part for part in (prompt, self.notice, message.page_link if with_link else None) if part)
        return "\n".join(lines)


def _notice(message: OutboundMessage, *, compact: bool) -> str:
    """The notice of rights before the page link: its short text and link, or (compact) the regime's tag and one link.

    The compact link is the passenger's page when there is one (it shows the notice, links the full text
    and lists every option), so one line stands for both links.
    """
    rights = message.rights
    if rights is None:
        return ""
    if compact and rights.tag:
        return f"{rights.tag}: {message.page_link or rights.link}".strip()
    return f"{rights.short} {rights.link}".strip()


def render_sms(message: OutboundMessage, max_segments: int) -> str:
    """Numbered menu in the segment budget: cut descriptions, then drop the page link, then trailing flights
    (never the first, nor the refund after them: `_fewer`), then cut the body.

    A first message's notice of rights (short text and link) is never cut: when the page link is gone and
    it still does not fit, it shrinks to the regime's tag and the page link ("EU261: <page>", where the
    notice and its full text are) before any option or the body loses a word.
    """
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    shown = tuple((c.number, c.title, c.description, c.own) for c in message.choices[:MAX_CHOICES])
    return _render_shown(message.body, message.choices_prompt, message.page_link, shown, max_segments, message.rights)


@lru_cache(maxsize=4096)
def _render_shown(
    body: str,
    prompt: str,
    page_link: str | None,
    shown: tuple[tuple[int, str, str, bool], ...],
    max_segments: int,
    rights: RightsNotice | None = None,
) -> str:
    """Fitting is pure in what the SMS shows (not the recipient or tokens), and many passengers share it."""
    choices = tuple(ChoiceView(token="", number=n, title=t, description=d, own=own) for n, t, d, own in shown)
    content = OutboundMessage(
        idempotency_key="", to="", locale="", body=body, choices=choices, choices_prompt=prompt, page_link=page_link, rights=rights
    )
    return _fit(_Menu(content), max_segments)


def _fit(menu: _Menu, max_segments: int) -> str:
    """The search itself, longest layout first, so the passenger loses as little as possible: the page link
    goes before any option does (every option is also on the page, but the SMS is where they reply)."""
    options = menu.message.choices[:MAX_CHOICES]
    links = (True, False) if menu.message.page_link else (False,)
    for with_link in links:
        found = _fit_descriptions(menu, options, max_segments, with_link)
        if found is not None:
            return found
    compact = _notice(menu.message, compact=True)
    if compact != menu.notice:
        menu.notice = compact
        found = _fit_descriptions(menu, options, max_segments, False)
        if found is not None:
            return found
    for fewer in _fewer(options):
        options = fewer
        text = menu.layout(options, 0, None, with_link=False)
        if _fits(text, max_segments):
            return text
    low, high = 0, len(menu.message.body)
    best = menu.layout(options, 0, 0, with_link=False)
    while low <= high:
        mid = (low + high) // 2
        candidate = menu.layout(options, 0, mid, with_link=False)
        if _fits(candidate, max_segments):
            best, low = candidate, mid + 1
        else:
            high = mid - 1
    if _fits(best, max_segments):
        return best
    return _hard_cut(best, max_segments, "..." if encoding(best) == "GSM-7" else "…")


def _fewer(options: tuple[ChoiceView, ...]) -> Iterator[tuple[ChoiceView, ...]]:
    """Shorter menus in the order an SMS gives lines up: the last flight first (each is also on the page),
    then the last of the passenger's own choices; the first flight and the first own choice (the refund,
    where one is a right) always stay, so a UCS-2 message still offers the refund it owes."""
    flights = [o for o in options if not o.own]
    own = [o for o in options if o.own]
    while len(flights) > 1:
        flights.pop()
        yield (*flights, *own)
    while len(own) > 1:
        own.pop()
        yield (*flights, *own)


def _fit_descriptions(menu: _Menu, options: tuple[ChoiceView, ...], max_segments: int, with_link: bool) -> str | None:
    """Every option shown, descriptions as long as the budget allows (down to none); None if even that is over."""
    text = menu.layout(options, None, None, with_link=with_link)
    if _fits(text, max_segments):
        return text
    longest = max((len(o.description) for o in options), default=0)
    for limit in [*range(longest - 1, MIN_DESCRIPTION - 1, -1), 0]:
        text = menu.layout(options, limit, None, with_link=with_link)
        if _fits(text, max_segments):
            return text
    return None


def _hard_cut(text: str, max_segments: int, ellipsis: str) -> str:
    """Last resort when even the menu alone is over budget: never send over the limit."""
    low, high, best = 0, len(text), ellipsis
    while low <= high:
        mid = (low + high) // 2
        candidate = _cut(text, mid, ellipsis)
        if _fits(candidate, max_segments):
            best, low = candidate, mid + 1
        else:
            high = mid - 1
    return best


# ---------------------------------------------------------------- sending


@dataclass
class _Exchange:
    """Per-send context the SDK cannot carry: our idempotency key in, the response headers out."""

    idempotency_key: str
    response_headers: dict[str, str] = field(default_factory=dict)


_EXCHANGE: contextvars.ContextVar[_Exchange] = contextvars.ContextVar("twilio_exchange")


class _RebasedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio ships no stubs
    """The SDK has no base-URL option: swap scheme+host so a region, proxy or local fake can serve."""

    def __init__(self, api_base: str, timeout: float, max_connections: int) -> None:
        # One session for every send, its pool bounded by a setting (the SDK's default holds 100).
        super().__init__(pool_connections=False, timeout=timeout)
        self.session = client_session(max_connections)
        self._base = urlsplit(api_base.rstrip("/"))

    def log_request(self, kwargs: dict[str, object]) -> None:
        """The SDK formats URL and headers into INFO lines per send even when INFO is off (~5% of a send's CPU)."""

    def log_response(self, status_code: int, response: Response) -> None:
        """Same as `log_request`: status and headers, formatted for a log nobody reads."""

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the SDK's HttpClient signature)
        allow_redirects: bool = False,
    ) -> Response:
        parts = urlsplit(url)
        target = urlunsplit(
            (self._base.scheme, self._base.netloc, self._base.path + parts.path, parts.query, "")
        )
        sent = dict(headers or {})
        if auth is not None:
            # aiohttp deprecates its `auth=` argument; send the same Basic header ourselves.
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            sent["Authorization"] = f"Basic {token}"
        exchange = _EXCHANGE.get(None)
        if exchange is not None:
            sent[IDEMPOTENCY_HEADER] = exchange.idempotency_key
        body: bytes | None = None
        if data:
            # The bytes aiohttp's FormData would send for this dict, without building a FormData and a
            # MultipartWriter per send (~15% of an SMS send's CPU, bench/sends.py).
            body = urlencode(list(data.items()), doseq=True).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        response = await super().request(
            method,
            target,
            params=params,
            data=body,
            headers=sent,
            auth=None,
            timeout=timeout or self.timeout,
            allow_redirects=allow_redirects,
        )
        if exchange is not None:
            exchange.response_headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return response


def _retry_after(headers: Mapping[str, str]) -> float:
    """Retry-After in seconds (delta or HTTP date); 1 s when absent or unreadable."""
    raw = headers.get("retry-after")
    if not raw:
        return 1.0
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return 1.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def map_error(exc: BaseException, headers: Mapping[str, str]) -> ChannelError:
    """The one place a Twilio/transport failure becomes a ChannelError (with Twilio's code kept)."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status)
        code = int(exc.code) if exc.code is not None else status
        text = f"twilio {status}/{code}"
        if status == 429 or code == 20429:
            return RateLimited(text, code=str(code), retry_after=_retry_after(headers))
        kind = SEND_ERRORS.get(code)
        if kind is not None:
            return kind(text, code=str(code))
        if status >= 500:
            return ProviderUnavailable(text, code=str(code))
        if status == 401:
            return InvalidCredentials(text, code=str(code))
        return MessageRejected(text, code=str(code))
    return ProviderUnavailable(f"twilio unreachable: {type(exc).__name__}")


_TRANSPORT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError, json.JSONDecodeError)


class SmsChannel:
    """Channel adapter for SMS via Twilio Programmable Messaging."""

    name: str = CHANNEL
    provider: str = PROVIDER
    capabilities: Capabilities = Capabilities(
        max_body_chars=MAX_BODY_CHARS,
        max_choices=MAX_CHOICES,
        max_buttons=0,
        max_button_title=0,
        max_list_rows=0,
        max_row_title=0,
        max_row_description=0,
        supports_templates=False,
        session_window=None,
        rate_per_second=1.0,  # a US long code: about one segment per second
        max_segments=4,
    )

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        from_numbers: tuple[str, ...] = (),
        api_base: str = "https://api.twilio.com",
        status_callback_url: str | None = None,
        max_segments: int = 4,
        timeout_seconds: float = 10.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        if max_segments < 1:
            raise ValueError("max_segments must be at least 1")
        self.capabilities = replace(type(self).capabilities, max_segments=max_segments)
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from = from_number
        #: The pool of numbers (or Messaging Service SIDs) this account sends from; each is its own lane.
        self.senders: tuple[str, ...] = tuple(dict.fromkeys(n for n in (from_number, *from_numbers) if n))
        self._api_base = api_base
        self._status_callback = status_callback_url
        self._timeout = timeout_seconds
        self._max_connections = max_connections
        self._http: _RebasedHttpClient | None = None
        self._client: Client | None = None

    def _ensure_client(self) -> Client:
        """aiohttp sessions bind to the running loop, so the client is built on first send."""
        if self._client is None:
            # The SDK logs every request (URL, headers, form with the number and text) at INFO.
            sdk_log = logging.getLogger("twilio.http_client")
            if sdk_log.getEffectiveLevel() < logging.WARNING:
                sdk_log.setLevel(logging.WARNING)
            self._http = _RebasedHttpClient(self._api_base, self._timeout, self._max_connections)
            self._client = Client(self._account_sid, self._auth_token, http_client=self._http)
        return self._client

    def cost(self, message: OutboundMessage) -> int:
        """The segments the message will be billed and paced as (its rendering is cached for the send)."""
        return count_segments(render_sms(message, self.capabilities.max_segments))

    async def send(self, message: OutboundMessage) -> SendResult:
        """Render within budget and create the message; every failure raises a ChannelError."""
        text = render_sms(message, self.capabilities.max_segments)
        client = self._ensure_client()
        origin = message.sender if message.sender in self.senders else self._from
        sender = (
            {"messaging_service_sid": origin}
            if origin.startswith("MG")
            else {"from_": origin}
        )
        exchange = _Exchange(idempotency_key=message.idempotency_key)
        token = _EXCHANGE.set(exchange)
        try:
            created = await client.messages.create_async(
                to=message.to, body=text, status_callback=self._status_callback, **sender
            )
        except (TwilioRestException, TwilioServiceException, *_TRANSPORT_ERRORS) as exc:
            raise map_error(exc, exchange.response_headers) from exc
        finally:
            _EXCHANGE.reset(token)
        if not created.sid:
            raise ProviderUnavailable("twilio accepted the message without a sid")
        return SendResult(
            provider=PROVIDER, provider_message_id=created.sid, segments=count_segments(text), text=text
        )

    async def aclose(self) -> None:
        """Close the aiohttp session (unclosed sessions leak sockets and warn)."""
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None


# ---------------------------------------------------------------- inbound


def verify_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """X-Twilio-Signature over the public URL and form; fails closed on a missing header."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def normalize_e164(raw: str) -> str:
    """Numbers are the passenger's identity: one canonical spelling, or a ValueError."""
    value = _PHONE_NOISE.sub("", raw.strip())
    if value.startswith("00"):
        value = "+" + value[2:]
    if not _E164.fullmatch(value):
        raise ValueError("From is not an E.164 phone number")
    return value


def _required(form: Mapping[str, str], key: str) -> str:
    value = form.get(key)
    if not value:
        raise ValueError(f"Twilio payload is missing {key}")
    return value


def parse_inbound(form: Mapping[str, str]) -> InboundText:
    """An incoming SMS as a neutral event; the MessageSid is the dedupe key."""
    sid = _required(form, "MessageSid")
    sender = normalize_e164(_required(form, "From"))
    return InboundText(
        provider=PROVIDER,
        event_id=sid,
        channel=CHANNEL,
        sender=sender,
        text=form.get("Body"),
        choice_token=None,
        received_at=dt.datetime.now(dt.UTC),
        recipient=(form.get("To") or "").strip(),
    )


def parse_status(form: Mapping[str, str]) -> DeliveryReceipt:
    """A status callback as a receipt; sid+status is the dedupe key (one callback per state)."""
    sid = _required(form, "MessageSid")
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not status:
        raise ValueError("Twilio payload is missing MessageStatus")
    state = STATUS_STATES.get(status)
    if state is None:
        raise UnsupportedStatus(f"untracked Twilio message status {status!r}")
    error_code: str | None = None
    reason: ReasonClass | None = None
    if state is DeliveryState.FAILED:
        error_code = form.get("ErrorCode") or None
        reason = FAILURE_REASONS.get(error_code or "", ReasonClass.PERMANENT)
    return DeliveryReceipt(
        provider=PROVIDER,
        event_id=f"{sid}:{status}",
        provider_message_id=sid,
        state=state,
        error_code=error_code,
        reason_class=reason,
    )
