"""Slack for agents and ops: Block Kit cards via slack_sdk, and the slack-bolt app behind /slack/*.

API: https://api.slack.com/methods (chat.postMessage, chat.update, auth.test), Block Kit:
https://docs.slack.dev/reference/block-kit. Setup: create a Slack app with a bot token
(scopes `chat:write`, `commands`, `channels:history`), enable Interactivity at
`{public}/slack/interactions`, Event Subscriptions (`message.channels`) at `{public}/slack/events`
and the slash command `/rebook` at `{public}/slack/commands`; invite the bot to each routing channel.

Every request is verified by bolt (signature + 5-minute timestamp, else 401), acknowledged at once,
and worked in the background; the work itself is idempotent on the Slack event id / trigger id.
"""

from __future__ import annotations

import asyncio
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

from conversations.agent_cards import PassengerCardView, QueueCardView
from conversations.agents import (
    DeskAction,
    DeskReply,
    OfferRefund,
    RebookOption,
    ReturnToBot,
    SendVoucher,
    TakeNext,
    TakePassenger,
    ThreadReply,
)
from conversations.broadcasts import BroadcastCounts, BroadcastRequested
from conversations.ports import (
    ChannelError,
    InvalidCredentials,
    MessageRejected,
    ProviderUnavailable,
    RateLimited,
)

log = logging.getLogger(__name__)

PROVIDER = "slack"

#: Agent-facing answers to a click that could not be done (the desk works in one language).
REPLIES: dict[str, str] = {
    "owned": "<@{owner}> already owns this passenger.",
    "not_claimed": "Take this passenger first.",
    "not_open": "This passenger is no longer waiting.",
    "queue_empty": "Nobody is waiting in this queue.",
    "queue_busy": "Everyone in this queue is being taken right now; try again.",
    "already_booked": "This passenger is already booked.",
    "stale_option": "Those options changed; the card shows the current ones.",
    "booking_failed": "The booking did not go through ({detail}); fresh options were offered.",
    "unknown": "This passenger is no longer in the queue.",
}
_CREDENTIALS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "no_permission"}
_REJECTED = {"channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "invalid_blocks", "message_not_found", "cant_update_message"}
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


# ---- Block Kit ----


def queue_card_blocks(card: QueueCardView) -> list[Block]:
    reasons = " · ".join(f"{r}: {n}" for r, n in card.by_reason) or "none"
    tiers = " · ".join(f"tier {t}: {n}" for t, n in card.by_tier) or "none"
    return [
        HeaderBlock(text=_clip(f"Escalations · {card.title}", 150)),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Waiting*\n{card.open}"),
                MarkdownTextObject(text=f"*Taken*\n{card.claimed}"),
                MarkdownTextObject(text=f"*Done*\n{card.resolved}"),
            ]
        ),
        SectionBlock(text=MarkdownTextObject(text=_clip(f"*Waiting by reason:* {reasons}\n*Waiting by tier:* {tiers}", 3000))),
        ActionsBlock(
            elements=[ButtonElement(text="Take next", action_id="take_next", value=str(card.disruption_id), style="primary")]
        ),
    ]


def passenger_card_blocks(card: PassengerCardView) -> list[Block]:
    owner = f"<@{card.owner}>" if card.owner else "nobody yet"
    options = "\n".join(
        f"*{o.number}.* {o.flights} dep {o.departs_utc:%d %b %H:%M}Z arr {o.arrives_utc:%d %b %H:%M}Z"
        f" · {o.seat_status}, {o.seats_left} seats left"
        for o in card.options
    ) or "_no open options_"
    transcript = "\n".join(f"`{line.at:%H:%M}` *{line.author}*: {_escape(line.text)}" for line in card.transcript) or "_nothing yet_"
    blocks: list[Block] = [
        HeaderBlock(text=_clip(f"{card.first_name or 'Passenger'} · tier {card.tier} · {card.locator}", 150)),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Disruption*\n{_clip(card.disruption, 1900)}"),
                MarkdownTextObject(text=f"*Reason*\n{card.reason}"),
                MarkdownTextObject(text=f"*Language · channel*\n{card.language} · {card.channel or '-'}"),
                MarkdownTextObject(text=f"*Owner*\n{owner}"),
                MarkdownTextObject(text=f"*Conversation*\n{card.conversation_status}"),
                MarkdownTextObject(text=f"*Escalation*\n{card.escalation_status}{f' ({card.resolution})' if card.resolution else ''}"),
            ]
        ),
        SectionBlock(text=MarkdownTextObject(text=_clip(f"*Options*\n{options}", 3000))),
        DividerBlock(),
        SectionBlock(text=MarkdownTextObject(text=_clip(f"*Conversation so far*\n{transcript}", 3000))),
    ]
    eid = str(card.escalation_id)
    buttons: list[ButtonElement] = []
    if card.escalation_status == "open":
        buttons.append(ButtonElement(text="Take", action_id="take", value=eid, style="primary"))
    elif card.escalation_status == "claimed":
        if card.conversation_status != "booked":
            buttons += [
                ButtonElement(text=f"Rebook option {o.number}", action_id=f"rebook_{o.number}", value=f"{eid}:{o.option_id}")
                for o in card.options[:20]
            ]
            buttons += [
                ButtonElement(text="Offer refund", action_id="refund", value=eid, style="danger"),
                ButtonElement(text="Send voucher", action_id="voucher", value=eid),
            ]
        buttons.append(ButtonElement(text="Return to bot", action_id="release", value=eid))
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text="Reply in this thread to write to the passenger; start with `note:` to keep it internal.")]))
    return blocks


def progress_text(counts: BroadcastCounts) -> str:
    done = counts.sent + counts.skipped_consent + counts.failed
    state = "done" if counts.finished else "sending"
    return (
        f"Broadcast #{counts.broadcast_id} to {counts.target} ({state}): {done}/{counts.targeted} handled · "
        f"{counts.sent} sent · {counts.skipped_consent} skipped (no consent) · {counts.failed} failed"
    )


# ---- outbound: the desk ----


class SlackDesk:
    """The AgentDesk and broadcast progress board, on the Slack Web API."""

    provider = PROVIDER
    #: Slack accepts about one message per second per channel; queue cards are debounced for that.
    rate_per_channel = 1.0

    def __init__(self, *, token: str, api_base: str = "https://slack.com/api/", max_rate_limit_retries: int = 2) -> None:
        if not token:
            raise ValueError("a Slack bot token is required")
        base = api_base if api_base.endswith("/") else api_base + "/"
        self.client = AsyncWebClient(
            token=token,
            base_url=base,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=max_rate_limit_retries)],
        )

    async def _call(self, method: Callable[..., Awaitable[Any]], **kwargs: Any) -> Any:
        if self.client.session is None:
            # One pooled session, created inside the running loop, instead of one per call.
            self.client.session = aiohttp.ClientSession()
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
        return await self._post(route, f"{card.open} waiting · {card.title}", queue_card_blocks(card))

    async def update_queue_card(self, route: str, ts: str, card: QueueCardView) -> None:
        await self._update(route, ts, f"{card.open} waiting · {card.title}", queue_card_blocks(card))

    async def post_passenger_card(self, route: str, card: PassengerCardView) -> str:
        return await self._post(route, f"Passenger {card.locator}", passenger_card_blocks(card))

    async def update_passenger_card(self, route: str, ts: str, card: PassengerCardView) -> None:
        await self._update(route, ts, f"Passenger {card.locator}", passenger_card_blocks(card))

    async def post_relay(self, route: str, thread_ts: str, text: str) -> str:
        return await self._post(route, _clip(f"Passenger: {_escape(text)}", 3900), thread_ts=thread_ts)

    async def post_progress(self, channel: str, counts: BroadcastCounts) -> str:
        return await self._post(channel, progress_text(counts))

    async def update_progress(self, channel: str, ts: str, counts: BroadcastCounts) -> None:
        await self._update(channel, ts, progress_text(counts))

    async def aclose(self) -> None:
        if self.client.session is not None:
            await self.client.session.close()
            self.client.session = None


# ---- inbound: the bolt app ----


class SlackHttp:
    """The real slack-bolt AsyncApp; `handle` serves /slack/events, /slack/interactions and /slack/commands."""

    def __init__(self, *, signing_secret: str, desk: SlackDesk, sink: DeskSink, broadcasts: BroadcastSink | None) -> None:
        if not signing_secret:
            raise ValueError("a Slack signing secret is required")
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
            text = REPLIES.get(reply.code, reply.code).format(owner=reply.owner or "", detail=reply.detail)
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
                await ack(text="Usage: /rebook broadcast <flight like LH100 or LH100/2026-06-01 | airport like FRA> <message key or text>")
                return
            await ack(text=f"Broadcast to {match['target']} received; progress follows in this channel.")
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
            await respond(text=f"Broadcast refused: {exc}", response_type="ephemeral", replace_original=False)


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
    simple: dict[str, type[OfferRefund | SendVoucher | ReturnToBot]] = {
        "refund": OfferRefund,
        "voucher": SendVoucher,
        "release": ReturnToBot,
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
