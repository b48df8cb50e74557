"""Notes for the agent who owns a passenger: the flight's story moved on while the bot stayed silent.

The re-plan writes one `DeskNote` per claimed escalation and update in the transaction that changes
the conversation; the desk's pump refreshes the passenger card and posts the note in its thread,
once (`AgentWorkflow._post_notes`). A note holds no personal data: a cause, a count, a time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.desk.models import DeskNote
from conversations.desk.ports import NoteView
from conversations.lifecycles import EscalationStatus
from conversations.models import Escalation
from infra.db import insert_ignore

REPLANNED = "slack.story_replanned"
NO_OPTIONS = "slack.story_no_options"
LIFTED = "slack.story_lifted"
#: The phrase of each cause a re-plan names (conversations.intake.story.Cause).
CAUSES = {
    "cancelled": "slack.story_cancelled",
    "diverted": "slack.story_diverted",
    "overflow": "slack.story_overflow",
    "delayed": "slack.story_delayed",
}


@dataclass(frozen=True)
class StoryNote:
    """What to tell the agent of one conversation: re-planned (with its cause and options held) or lifted."""

    conversation_id: int
    lifted: bool = False
    cause: str = ""
    options: int = 0
    expected_departure: str | None = None

    def row(self) -> tuple[str, dict[str, Any]]:
        if self.lifted:
            return LIFTED, {}
        params: dict[str, Any] = {"what": self.cause, "count": self.options}
        if self.expected_departure:
            params["time"] = self.expected_departure
        return (REPLANNED if self.options else NO_OPTIONS), params


async def tell_agents(s: AsyncSession, notes: list[StoryNote], *, once: str, at: dt.datetime) -> int:
    """One note per claimed escalation of these conversations and per change (`once`); how many were new."""
    if not notes:
        return 0
    by_conversation = {n.conversation_id: n for n in notes}
    owned = (
        await s.execute(
            select(Escalation.id, Escalation.conversation_id).where(
                Escalation.conversation_id.in_(list(by_conversation)), Escalation.status == EscalationStatus.CLAIMED
            )
        )
    ).all()
    written = 0
    for escalation_id, conversation_id in owned:
        key, params = by_conversation[conversation_id].row()
        row = {"escalation_id": escalation_id, "once": once, "key": key, "params": params, "status": "pending", "created_at": at}
        written += bool(await insert_ignore(s, DeskNote, row))
    return written


def note_view(key: str, params: dict[str, Any]) -> NoteView:
    """The stored note as the desk shows it: the cause becomes its phrase, the time a time."""
    shown: list[tuple[str, str | int | dt.datetime | NoteView]] = []
    if "what" in params:
        inner: tuple[tuple[str, str | int | dt.datetime | NoteView], ...] = ()
        if params["what"] == "delayed":
            inner = (("time", dt.datetime.fromisoformat(str(params["time"])) if params.get("time") else ""),)
        shown.append(("what", NoteView(CAUSES.get(str(params["what"]), CAUSES["cancelled"]), inner)))
    if "count" in params:
        shown.append(("count", int(params["count"])))
    # A held reply's note (conversations.desk.amount_hold): the amounts, already written as shown.
    shown.extend((name, str(params[name])) for name in ("named", "engine") if name in params)
    return NoteView(key, tuple(shown))
