"""What an app notification carries on either push service: the options as actions, their ids, the action token.

APNs and FCM both refuse a payload over 4096 bytes, and neither shows more than a few actions, so
both adapters fit a message here the same way: at most four options (their titles cut to what an
action button shows), a "More" action that opens the passenger page when there is one, and the
ids and the signed action token the app posts back to `POST /v1/app/actions`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Final

from conversations.ports import Capabilities, ChoiceView, MessageRejected, OutboundMessage

#: Both services refuse a larger payload (APNs 413 PayloadTooLarge, FCM 400 INVALID_ARGUMENT).
MAX_PAYLOAD_BYTES: Final = 4096
#: Options shown as actions; a "More" action (the page) comes on top.
MAX_ACTIONS: Final = 4
#: What an action button shows on a lock screen before it is cut.
MAX_ACTION_TITLE: Final = 40
MAX_BODY_CHARS: Final = 1000
#: A message without a hold (a confirmation) is still worth delivering this long to a phone that was off.
DEFAULT_TTL: Final = dt.timedelta(hours=24)
#: The app registers these categories (`rebook.options.1` … `.4`, each with that many option actions and
#: More; `rebook.message` without actions); the payload names one and carries the titles.
CATEGORY_PREFIX: Final = "rebook.options."
PLAIN_CATEGORY: Final = "rebook.message"

CAPABILITIES: Final = Capabilities(
    max_body_chars=MAX_BODY_CHARS,
    max_choices=MAX_ACTIONS,
    max_buttons=MAX_ACTIONS,
    max_button_title=MAX_ACTION_TITLE,
    max_list_rows=0,
    max_row_title=0,
    max_row_description=0,
    supports_templates=False,
    session_window=None,
    rate_per_second=0.0,
)


@dataclass(frozen=True)
class Notification:
    """One message fitted for a phone: what the alert shows and what the app gets."""

    title: str
    body: str
    category: str
    options: tuple[tuple[str, str], ...]  # (id, action title)
    page_link: str | None
    action_token: str | None
    collapse_id: str
    expires_at: dt.datetime

    def data(self) -> dict[str, str]:
        """The app's part, as flat strings (FCM data values must be strings; APNs carries the same keys)."""
        out = {"category": self.category}
        if self.options:
            out["options"] = json.dumps([{"id": i, "title": t} for i, t in self.options], ensure_ascii=False, separators=(",", ":"))
        if self.page_link:
            out["more"] = self.page_link
        if self.action_token:
            out["action_token"] = self.action_token
        return out


def shown_text(note: Notification) -> str:
    """What the conversation log keeps of a push: the alert's title and body, then its action buttons."""
    shown = "\n".join(part for part in (note.title, note.body) if part)
    return "\n".join([shown, *(f"[{title}]" for _, title in note.options)])


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fit(message: OutboundMessage, now: dt.datetime, encode: Any) -> tuple[Notification, bytes]:
    """The fullest notification whose encoded payload fits 4096 bytes: options dropped from the end, then the body cut.

    `encode(notification)` is the service's own payload bytes, so the budget counts its framing too.
    """
    choices: tuple[ChoiceView, ...] = message.choices[:MAX_ACTIONS]
    body = _cut(message.body, MAX_BODY_CHARS)
    expires = message.expires_at if message.expires_at is not None and message.expires_at > now else now + DEFAULT_TTL
    while True:
        note = Notification(
            title=_cut(message.header, MAX_ACTION_TITLE * 2),
            body=body,
            category=f"{CATEGORY_PREFIX}{len(choices)}" if choices else PLAIN_CATEGORY,
            options=tuple((c.token, _cut(c.title, MAX_ACTION_TITLE)) for c in choices),
            page_link=message.page_link,
            action_token=message.action_token,
            collapse_id=message.thread[:64],
            expires_at=expires,
        )
        payload: bytes = encode(note)
        if len(payload) <= MAX_PAYLOAD_BYTES:
            return note, payload
        if len(choices) > 1:
            choices = choices[:-1]
        elif len(body) > 40:
            body = _cut(body, len(body) * 3 // 4)
        else:
            raise MessageRejected("payload over 4096 bytes even cut down", code="PayloadTooLarge")
