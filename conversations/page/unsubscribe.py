"""One-click unsubscribe from e-mail (RFC 8058): the page link an e-mail carried withdraws e-mail consent."""

from __future__ import annotations

import datetime as dt

from consent import ledger
from conversations.page.links import conversation_of, find
from infra.db import Database

EMAIL = "email"
LEDGER_SOURCE = "unsubscribe"


async def unsubscribe(db: Database, token: str, *, now: dt.datetime, evidence: str) -> bool:
    """Withdraw e-mail consent for the link's passenger, expired link or not (a mail client may post late)."""
    async with db.transaction() as s:
        link = await find(s, token)
        conv = await conversation_of(s, link) if link is not None else None
        if conv is None or conv.passenger_id is None:
            return False
        await ledger.record(
            s,
            passenger_id=conv.passenger_id,
            channel=EMAIL,
            purpose=ledger.SERVICE,
            granted=False,
            source=LEDGER_SOURCE,
            evidence=evidence,
            at=now,
        )
    return True
