"""An agent's free text never promises an amount the rights engine did not compute: such a reply is held until confirmed.

When an agent's reply (Slack thread or the agent API) names a money amount ("€250", "600€", "CAD 400",
parsed by `rebooking_core.rights.amounts`) that differs from the passenger's compensation as the
engine decided it (their claim, owed or paid), or the engine computed none, the reply is not sent:
an `AmountCheck` row holds it (text encrypted) and the agent is told why (a note in the Slack thread,
a 409 problem with the confirm link on the API). Confirming sends it once, as written. A reply whose
amounts all match is sent as before. Either way the row stays as the audit of what was promised.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from functools import cache

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from conversations.desk.models import AmountCheck, DeskNote
from conversations.models import Conversation
from infra.db import insert_ignore
from rebooking_core.claims import ClaimStatus
from rebooking_core.models import Claim
from rebooking_core.rights.amounts import Money, amounts_in, differs

__all__ = [
    "confirm_words",
    "HELD",
    "NOTE_HELD",
    "NOTE_HELD_NONE",
    "Check",
    "check",
    "confirm",
    "held_for",
]

log = logging.getLogger(__name__)

MATCHED = "matched"
HELD = "held"
CONFIRMED = "confirmed"
#: Catalog keys of the note the agent gets in the passenger's thread.
NOTE_HELD = "slack.amount_held"
NOTE_HELD_NONE = "slack.amount_held_none"
#: Claims whose amount the engine stands by.
_STATED = (ClaimStatus.OWED.value, ClaimStatus.PAID.value)


@dataclass(frozen=True)
class Check:
    """What a reply names against the engine's amount; `hold_id` set when it is held (None: send it)."""

    named: tuple[Money, ...]
    engine_amount: int | None
    engine_currency: str
    hold_id: int | None = None

    @property
    def held(self) -> bool:
        return self.hold_id is not None


@cache
def confirm_words() -> frozenset[str]:
    """What an agent writes in the thread to send their held reply: "confirm" and the word in every desk language."""
    return frozenset(
        {
            "confirm",
            *(locales.render("slack.confirm_word", lang).casefold() for lang in locales.SUPPORTED),
        }
    )


def shown(money: Money) -> str:
    """An amount as the audit and the agent's note show it: ISO code (or "?" for a bare dollar) and value."""
    return f"{money.currency or '?'} {money.amount}"


async def engine_amount(s: AsyncSession, conv: Conversation) -> tuple[int | None, str]:
    """The passenger's compensation as the engine decided it for this disruption (None: nothing owed or not assessed)."""
    query = select(Claim.amount, Claim.currency).where(
        Claim.disruption_id == conv.disruption_id, Claim.status.in_(_STATED), Claim.amount > 0
    )
    if conv.passenger_id is not None:
        query = query.where(Claim.passenger_id == conv.passenger_id)
    else:
        query = query.where(Claim.booking_id == conv.booking_id)
    row = (await s.execute(query.order_by(Claim.id).limit(1))).first()
    return (int(row[0]), str(row[1])) if row is not None else (None, "")


async def check(
    s: AsyncSession,
    *,
    escalation_id: int,
    conv: Conversation,
    agent: str,
    text: str,
    sealed: str,
    once: str,
    now: dt.datetime,
) -> Check:
    """Check a reply before it is sent; a mismatch is held (row and thread note written in the caller's transaction).

    `sealed` is the reply already encrypted. A retried reply with the same `once` finds its first check.
    """
    named = amounts_in(text)
    if not named:
        return Check((), None, "")
    amount, currency = await engine_amount(s, conv)
    mismatch = any(differs(m, amount, currency) for m in named)
    row = {
        "escalation_id": escalation_id,
        "conversation_id": conv.id,
        "agent": agent,
        "once": once[:160],
        "text": sealed,
        "named": ", ".join(shown(m) for m in named)[:200],
        "engine_amount": amount,
        "engine_currency": currency,
        "status": HELD if mismatch else MATCHED,
        "created_at": now,
    }
    await insert_ignore(s, AmountCheck, row)
    found = (
        await s.scalars(
            select(AmountCheck).where(
                AmountCheck.escalation_id == escalation_id, AmountCheck.once == once[:160]
            )
        )
    ).one()
    if found.status == MATCHED:
        return Check(named, amount, currency)
    if found.status == HELD:
        log.info(
            "agent reply held: amount differs from the rights engine",
            extra={"escalation": escalation_id, "check": found.id},
        )
        params = {"named": found.named} | (
            {"engine": f"{currency} {amount}"} if amount is not None else {}
        )
        note = {
            "escalation_id": escalation_id,
            "once": f"amount-{found.id}",
            "key": NOTE_HELD if amount is not None else NOTE_HELD_NONE,
        }
        await insert_ignore(
            s, DeskNote, note | {"params": params, "status": "pending", "created_at": now}
        )
    return Check(named, amount, currency, hold_id=found.id)


async def held_for(s: AsyncSession, escalation_id: int, agent: str) -> AmountCheck | None:
    """The agent's latest reply still held on this escalation (what "confirm" in the thread confirms)."""
    query = select(AmountCheck).where(
        AmountCheck.escalation_id == escalation_id,
        AmountCheck.agent == agent,
        AmountCheck.status == HELD,
    )
    return (await s.scalars(query.order_by(AmountCheck.id.desc()).limit(1))).first()


async def confirm(
    s: AsyncSession, check_id: int, *, escalation_id: int, agent: str, now: dt.datetime
) -> AmountCheck | None:
    """Mark a held reply confirmed by its own agent, once (a guarded UPDATE); the row to send, or None if not held."""
    result = await s.execute(
        update(AmountCheck)
        .where(
            AmountCheck.id == check_id,
            AmountCheck.escalation_id == escalation_id,
            AmountCheck.agent == agent,
            AmountCheck.status == HELD,
            AmountCheck.text != "",  # erased since (consent/privacy.py): nothing left to send
        )
        .values(status=CONFIRMED, confirmed_at=now)
    )
    if not isinstance(result, CursorResult) or result.rowcount != 1:
        return None
    log.info("held agent reply confirmed", extra={"escalation": escalation_id, "check": check_id})
    return await s.get(AmountCheck, check_id)
