"""Slack for agents and ops: Block Kit cards via slack_sdk, and the slack-bolt app behind /slack/*.

API: https://api.slack.com/methods (chat.postMessage, chat.update, chat.delete, conversations.replies,
auth.test), Block Kit: https://docs.slack.dev/reference/block-kit. Setup: create a Slack app with a bot
token (scopes `chat:write`, `commands`, `channels:history`, and `groups:history` for private routing
channels: erasure reads a card's thread to delete our relays), enable Interactivity at
`{public}/slack/interactions`, Event Subscriptions (`message.channels`) at `{public}/slack/events`
and the slash command `/rebook` at `{public}/slack/commands`; invite the bot to each routing channel.

Every request is verified by bolt (signature + 5-minute timestamp, else 401), acknowledged at once,
and worked in the background; the work itself is idempotent on the Slack event id / trigger id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

import aiohttp
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import Response

import locales
from conversations.broadcasts.ports import BroadcastCounts, BroadcastRequested
from conversations.desk.ports import (
    CloseCase,
    DeskAction,
    DeskReply,
    ErasedCardView,
    LoyaltyView,
    NoteView,
    OfferRefund,
    PassengerCardView,
    QueueCardView,
    RebookOption,
    ReturnToBot,
    SendVoucher,
    TakeNext,
    TakePassenger,
    ThreadReply,
)
from conversations.ports import (
    ChannelError,
    InvalidCredentials,
    MessageRejected,
    ProviderUnavailable,
    RateLimited,
)
from infra.http import DEFAULT_MAX_CONNECTIONS, client_session
from locales.formatting import format_datetime, format_number

log = logging.getLogger(__name__)

PROVIDER = "slack"

#: Catalog keys of the answers to a click that could not be done (the desk works in one language).
REPLIES: dict[str, str] = {
    "owned": "slack.reply_owned",
    "not_claimed": "slack.reply_not_claimed",
    "not_open": "slack.reply_not_open",
    "queue_empty": "slack.reply_queue_empty",
    "queue_busy": "slack.reply_queue_busy",
    "already_booked": "slack.reply_already_booked",
    "stale_option": "slack.reply_stale_option",
    "booking_failed": "slack.reply_booking_failed",
    "unknown": "slack.reply_unknown",
}
_CREDENTIALS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission"}
_REJECTED = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "msg_too_long",
    "invalid_blocks",
    "message_not_found",
    "cant_update_message",
    "cant_delete_message",
    "thread_not_found",
}
_COMMAND = re.compile(r"^\s*broadcast\s+(?P<target>\S+)\s+(?P<message>.+)$", re.S | re.I)


class DeskSink(Protocol):
    async def act(self, action: DeskAction, *, dedupe: str | None = None) -> DeskReply | None: ...


class BroadcastSink(Protocol):
    async def start(self, request: BroadcastRequested) -> int: ...


def map_error(exc: Exception) -> ChannelError:
    """Every Slack failure becomes one ChannelError, here and only here."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        code = str(exc.response.get("error") or status)
        if status == 429:
            retry = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after") or "1"
            return RateLimited("slack rate limit", code="ratelimited", retry_after=float(retry))
        if code in _CREDENTIALS:
            return InvalidCredentials(code, code=code)
        if status >= 500:
            return ProviderUnavailable(code, code=code)
        if code in _REJECTED or 400 <= status < 500:
            return MessageRejected(code, code=code)
        return ProviderUnavailable(code, code=code)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError):
        return ProviderUnavailable(type(exc).__name__, code="network")
    return ProviderUnavailable(type(exc).__name__, code="unknown")


def _escape(text: str) -> str:
    """Passenger text is shown, never interpreted as Slack markup or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _t(key: str, locale: str, **params: object) -> str:
    """Agent-facing text comes from the catalogs, in the desk's language."""
    return locales.render(key, locale, **params)


def _button(text: str, **kwargs: Any) -> ButtonElement:
    """Block Kit refuses button labels over 75 characters."""
    return ButtonElement(text=_clip(text, 75), **kwargs)


def _mention(agent: str) -> str:
    """A Slack user as a mention; an agent of the ops API (`api:<name>`, never a Slack id) by that name."""
    return agent if ":" in agent else f"<@{agent}>"


def reply_text(code: str, locale: str, *, owner: str | None = None, detail: str = "") -> str:
    key = REPLIES.get(code)
    if key is None:
        return code
    return _t(key, locale, owner=_mention(owner) if owner else "", detail=detail)


# ---- Block Kit ----


def queue_card_blocks(card: QueueCardView, locale: str = locales.DEFAULT) -> list[Block]:
    none = _t("slack.none", locale)
    reasons = " · ".join(f"{r}: {n}" for r, n in card.by_reason) or none
    tiers = " · ".join(f"{_t('slack.tier', locale, tier=t)}: {n}" for t, n in card.by_tier) or none
    return [
        HeaderBlock(text=_clip(f"{_t('slack.escalations', locale)} · {card.title}", 150)),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*{_t('slack.waiting', locale)}*\n{card.open}"),
                MarkdownTextObject(text=f"*{_t('slack.taken', locale)}*\n{card.claimed}"),
                MarkdownTextObject(text=f"*{_t('slack.done', locale)}*\n{card.resolved}"),
            ]
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=_clip(
                    f"*{_t('slack.waiting_by_reason', locale)}:* {reasons}\n*{_t('slack.waiting_by_tier', locale)}:* {tiers}", 3000
                )
            )
        ),
        ActionsBlock(
            elements=[_button(_t("slack.take_next", locale), action_id="take_next", value=str(card.disruption_id), style="primary")]
        ),
    ]


def queue_card_text(card: QueueCardView, locale: str = locales.DEFAULT) -> str:
    return f"{_t('slack.waiting_count', locale, count=card.open)} · {card.title}"


def passenger_card_blocks(card: PassengerCardView, locale: str = locales.DEFAULT) -> list[Block]:
    owner = _mention(card.owner) if card.owner else _t("slack.nobody_yet", locale)
    options = "\n".join(
        f"*{o.number}.* {o.flights} "
        + _t("slack.option_times", locale, dep=format_datetime(o.departs_utc, "UTC", locale) + " UTC", arr=format_datetime(o.arrives_utc, "UTC", locale) + " UTC")
        + f" · {o.seat_status}, {_t('slack.seats_left', locale, count=o.seats_left)}"
        for o in card.options
    ) or f"_{_t('slack.no_options', locale)}_"
    transcript = "\n".join(
        f"`{line.at:%H:%M}` *{line.author}*: {_escape(line.text)}" for line in card.transcript
    ) or f"_{_t('slack.nothing_yet', locale)}_"
    resolution = f" ({card.resolution})" if card.resolution else ""

    def field(key: str, value: str) -> MarkdownTextObject:
        return MarkdownTextObject(text=f"*{_t(key, locale)}*\n{value}")

    name = card.first_name or _t("slack.passenger", locale)
    loyalty = [field("slack.loyalty", _clip(loyalty_text(card.loyalty, locale), 1900))] if card.loyalty is not None else []
    blocks: list[Block] = [
        HeaderBlock(text=_clip(f"{name} · {_t('slack.tier', locale, tier=card.tier)} · {card.locator}", 150)),
        SectionBlock(
            fields=[
                field("slack.disruption", _clip(card.disruption, 1900)),
                field("slack.reason", card.reason),
                field("slack.language_channel", f"{card.language} · {card.channel or '-'}"),
                field("slack.owner", owner),
                field("slack.conversation", card.conversation_status),
                field("slack.escalation", f"{card.escalation_status}{resolution}"),
                *loyalty,
            ]
        ),
        SectionBlock(text=MarkdownTextObject(text=_clip(f"*{_t('slack.options', locale)}*\n{options}", 3000))),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=_clip(f"*{_t('slack.transcript', locale)}*\n{transcript}", 3000))),
    ]
    eid = str(card.escalation_id)
    buttons: list[ButtonElement] = []
    if card.escalation_status == "open":
        buttons.append(_button(_t("slack.take", locale), action_id="take", value=eid, style="primary"))
    elif card.escalation_status == "claimed":
        if card.conversation_status != "booked":
            buttons += [
                _button(_t("slack.rebook_option", locale, number=o.number), action_id=f"rebook_{o.number}", value=f"{eid}:{o.option_id}")
                for o in card.options[:20]
            ]
            buttons += [
                _button(_t("slack.offer_refund", locale), action_id="refund", value=eid, style="danger"),
                _button(_t("slack.send_voucher", locale), action_id="voucher", value=eid),
            ]
        buttons.append(_button(_t("slack.return_to_bot", locale), action_id="release", value=eid))
        buttons.append(_button(_t("slack.close_case", locale), action_id="close", value=eid))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_t("slack.thread_hint", locale, prefix="`note:`"))]))
    return blocks


def loyalty_text(loyalty: LoyaltyView, locale: str = locales.DEFAULT) -> str:
    """Status · miles · preferences, each only when known; the airline's own words shown, never interpreted."""
    parts = [_escape(loyalty.status)] if loyalty.status else []
    if loyalty.miles is not None:
        parts.append(_t("slack.miles", locale, miles=format_number(loyalty.miles, locale)))
    if loyalty.preferences:
        listed = ", ".join(f"{_escape(k)} {_escape(v)}" for k, v in loyalty.preferences)
        parts.append(_t("slack.preferences", locale, preferences=listed))
    return " · ".join(parts)


def note_text(note: NoteView, locale: str = locales.DEFAULT) -> str:
    """A desk note in the desk's language: phrases inside it rendered first, times in UTC."""

    def shown(value: str | int | dt.datetime | NoteView) -> object:
        if isinstance(value, NoteView):
            return note_text(value, locale)
        if isinstance(value, dt.datetime):
            return format_datetime(value, "UTC", locale) + " UTC"
        return value

    return _t(note.key, locale, **{name: shown(value) for name, value in note.params})


def passenger_card_text(card: PassengerCardView, locale: str = locales.DEFAULT) -> str:
    return f"{_t('slack.passenger', locale)} {card.locator}"


def erased_card_blocks(card: ErasedCardView, locale: str = locales.DEFAULT) -> list[Block]:
    """The card an erased passenger's card becomes: no name, locator, transcript or buttons."""
    return [
        HeaderBlock(text=_clip(_t("slack.erased", locale), 150)),
        ContextBlock(elements=[MarkdownTextObject(text=_t("slack.erased_note", locale, id=card.escalation_id))]),
    ]


def erased_card_text(card: ErasedCardView, locale: str = locales.DEFAULT) -> str:
    return _t("slack.erased", locale)


def progress_text(counts: BroadcastCounts, locale: str = locales.DEFAULT) -> str:
    return _t(
        "slack.progress",
        locale,
        id=counts.broadcast_id,
        target=counts.target,
        state=_t("slack.progress_done" if counts.finished else "slack.progress_sending", locale),
        done=counts.sent + counts.skipped_consent + counts.failed,
        total=counts.targeted,
        sent=counts.sent,
        skipped=counts.skipped_consent,
        failed=counts.failed,
    )


# ---- outbound: the desk ----


class SlackDesk:
    """The AgentDesk and broadcast progress board, on the Slack Web API."""

    provider = PROVIDER
    #: Slack accepts about one message per second per channel; queue cards are debounced for that.
    rate_per_channel = 1.0

    def __init__(
        self,
        *,
        token: str,
        api_base: str = "https://slack.com/api/",
        max_rate_limit_retries: int = 2,
        locale: str = locales.DEFAULT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        if not token:
            raise ValueError("a Slack bot token is required")
        self.locale = locales.negotiate(locale)
        self._max_connections = max_connections
        self._me: str | None = None
        base = api_base if api_base.endswith("/") else api_base + "/"
        self.client = AsyncWebClient(
            token=token,
            base_url=base,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=max_rate_limit_retries)],
        )

    async def _call(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        if self.client.session is None:
            # One pooled session, created inside the running loop, instead of one per call.
            self.client.session = client_session(self._max_connections)
        try:
            return await method(**kwargs)
        except (TimeoutError, SlackApiError, aiohttp.ClientError) as exc:
            raise map_error(exc) from exc

    async def _post(self, channel: str, text: str, blocks: list[Block] | None = None, thread_ts: str | None = None) -> str:
        kwargs: dict[str, Any] = {"channel": channel, "text": text}
        if blocks is not None:
            kwargs["blocks"] = [b.to_dict() for b in blocks]
        if thread_ts is not None:
            kwargs["thread_ts"] = thread_ts
        response = await self._call(self.client.chat_postMessage, **kwargs)
        return str(response["ts"])

    async def _update(self, channel: str, ts: str, text: str, blocks: list[Block] | None = None) -> None:
        kwargs: dict[str, Any] = {"channel": channel, "ts": ts, "text": text}
        if blocks is not None:
            kwargs["blocks"] = [b.to_dict() for b in blocks]
        await self._call(self.client.chat_update, **kwargs)

    async def post_queue_card(self, route: str, card: QueueCardView) -> str:
        return await self._post(route, queue_card_text(card, self.locale), queue_card_blocks(card, self.locale))

    async def update_queue_card(self, route: str, ts: str, card: QueueCardView) -> None:
        await self._update(route, ts, queue_card_text(card, self.locale), queue_card_blocks(card, self.locale))

    async def post_passenger_card(self, route: str, card: PassengerCardView) -> str:
        return await self._post(route, passenger_card_text(card, self.locale), passenger_card_blocks(card, self.locale))

    async def update_passenger_card(self, route: str, ts: str, card: PassengerCardView) -> None:
        await self._update(route, ts, passenger_card_text(card, self.locale), passenger_card_blocks(card, self.locale))

    async def post_relay(self, route: str, thread_ts: str, text: str) -> str:
        return await self._post(route, _clip(f"{_t('slack.passenger', self.locale)}: {_escape(text)}", 3900), thread_ts=thread_ts)

    async def post_note(self, route: str, thread_ts: str, note: NoteView) -> str:
        return await self._post(route, _clip(note_text(note, self.locale), 3900), thread_ts=thread_ts)

    async def redact_passenger_card(self, route: str, ts: str, card: ErasedCardView) -> None:
        """chat.update to the erased card; a card already deleted in Slack has nothing left to redact."""
        try:
            await self._update(route, ts, erased_card_text(card, self.locale), erased_card_blocks(card, self.locale))
        except MessageRejected as exc:
            if exc.code != "message_not_found":
                raise

    async def thread_posts(self, route: str, thread_ts: str) -> list[str]:
        """Our own replies in a card's thread (the relays): Slack lets a bot delete only what it posted."""
        me = await self._bot_id()
        found: list[str] = []
        cursor: str | None = None
        while True:
            kwargs: dict[str, Any] = {"channel": route, "ts": thread_ts, "limit": 200}
            if cursor:
                kwargs["cursor"] = cursor
            try:
                response = await self._call(self.client.conversations_replies, **kwargs)
            except MessageRejected as exc:
                if exc.code == "thread_not_found":
                    return found
                raise
            found += [
                str(m["ts"]) for m in response.get("messages") or [] if m.get("ts") != thread_ts and m.get("bot_id") == me
            ]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found

    async def delete_message(self, route: str, ts: str) -> None:
        """chat.delete; a message already gone counts as deleted, so a retried redaction converges."""
        try:
            await self._call(self.client.chat_delete, channel=route, ts=ts)
        except MessageRejected as exc:
            if exc.code != "message_not_found":
                raise

    async def _bot_id(self) -> str:
        """Which messages are ours (auth.test's bot id), asked once."""
        if self._me is None:
            response = await self._call(self.client.auth_test)
            self._me = str(response["bot_id"])
        return self._me

    async def post_progress(self, channel: str, counts: BroadcastCounts) -> str:
        return await self._post(channel, progress_text(counts, self.locale))

    async def update_progress(self, channel: str, ts: str, counts: BroadcastCounts) -> None:
        await self._update(channel, ts, progress_text(counts, self.locale))

    async def aclose(self) -> None:
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None


# ---- inbound: the bolt app ----


class SlackHttp:
    """The real slack-bolt AsyncApp; `handle` serves /slack/events, /slack/interactions and /slack/commands."""

    def __init__(
        self,
        *,
        signing_secret: str,
        desk: SlackDesk,
        sink: DeskSink,
        broadcasts: BroadcastSink | None,
        locale: str = locales.DEFAULT,
    ) -> None:
        if not signing_secret:
            raise ValueError("a Slack signing secret is required")
        self.locale = locales.negotiate(locale)
        self.sink = sink
        self.broadcasts = broadcasts
        self.app = AsyncApp(signing_secret=signing_secret, client=desk.client, process_before_response=False)
        self.handler = AsyncSlackRequestHandler(self.app)
        self._tasks: set[asyncio.Task[None]] = set()
        self._register()

    async def handle(self, request: Request) -> Response:
        return await self.handler.handle(request)

    async def settle(self) -> None:
        """Wait for background work started by earlier requests (tests and graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slack background work failed", exc_info=task.exception())

    async def _act(self, action: DeskAction, dedupe: str | None, respond: Any | None) -> None:
        reply = await self.sink.act(action, dedupe=dedupe)
        if reply is not None and respond is not None:
            text = reply_text(reply.code, self.locale, owner=reply.owner, detail=reply.detail)
            await respond(text=text, response_type="ephemeral", replace_original=False)

    def _register(self) -> None:
        app = self.app

        def click_key(body: dict[str, Any]) -> str:
            action = body["actions"][0]
            return f"click:{body.get('trigger_id') or action.get('action_ts')}"

        async def on_click(ack: Any, body: dict[str, Any], respond: Any) -> None:
            await ack()
            action = _parse_click(body)
            if action is not None:
                self._spawn(self._act(action, click_key(body), respond))

        app.action("take_next")(on_click)
        app.action("take")(on_click)
        app.action(re.compile(r"^rebook_\d+$"))(on_click)
        app.action("refund")(on_click)
        app.action("voucher")(on_click)
        app.action("release")(on_click)
        app.action("close")(on_click)

        async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
            action = _parse_thread_reply(event)
            if action is not None:
                self._spawn(self._act(action, f"event:{body.get('event_id') or event.get('ts')}", None))

        app.event("message")(on_message)

        async def on_other_event(body: dict[str, Any]) -> None:
            return None

        app.event(re.compile(".*"))(on_other_event)

        async def on_command(ack: Any, command: dict[str, Any], respond: Any) -> None:
            match = _COMMAND.match(command.get("text") or "")
            if match is None or self.broadcasts is None:
                await ack(text=_t("slack.usage", self.locale))
                return
            await ack(text=_t("slack.broadcast_received", self.locale, target=match["target"]))
            request = BroadcastRequested(
                target=match["target"],
                message=match["message"].strip(),
                requested_by=f"slack:{command.get('user_id', '')}",
                slack_channel=command.get("channel_id"),
                idempotency_key=f"slack:{command.get('trigger_id')}" if command.get("trigger_id") else None,
            )
            self._spawn(self._broadcast(request, respond))

        app.command("/rebook")(on_command)

    async def _broadcast(self, request: BroadcastRequested, respond: Any) -> None:
        if self.broadcasts is None:
            return
        try:
            await self.broadcasts.start(request)
        except ValueError as exc:
            await respond(text=_t("slack.broadcast_refused", self.locale, reason=exc), response_type="ephemeral", replace_original=False)


def _parse_click(body: dict[str, Any]) -> DeskAction | None:
    action = body["actions"][0]
    agent = str(body.get("user", {}).get("id", ""))
    action_id = str(action.get("action_id", ""))
    value = str(action.get("value", ""))
    try:
        if action_id == "take_next":
            return TakeNext(disruption_id=int(value), route=str(body.get("channel", {}).get("id", "")), agent=agent)
        escalation, _, option = value.partition(":")
        eid = int(escalation)
        if action_id == "take":
            return TakePassenger(eid, agent)
        if action_id.startswith("rebook_"):
            return RebookOption(eid, int(option), agent)
    except ValueError:
        return None
    simple: dict[str, type[OfferRefund | SendVoucher | ReturnToBot | CloseCase]] = {
        "refund": OfferRefund,
        "voucher": SendVoucher,
        "release": ReturnToBot,
        "close": CloseCase,
    }
    kind = simple.get(action_id)
    return kind(eid, agent) if kind is not None else None


def _parse_thread_reply(event: dict[str, Any]) -> ThreadReply | None:
    """Only a human's reply inside a thread counts: bot posts (our own relays) never loop back."""
    if event.get("bot_id") or event.get("subtype") or not event.get("user"):
        return None
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if not thread_ts or thread_ts == ts:
        return None
    return ThreadReply(
        route=str(event.get("channel", "")),
        thread_ts=str(thread_ts),
        agent=str(event["user"]),
        text=str(event.get("text") or ""),
        message_id=str(ts),
    )
