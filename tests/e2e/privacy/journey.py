"""One passenger's whole disruption journey, leaving a trace in every table a conversation touches."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from consent import ledger
from conversations.ports import RecipientUnreachable
from infra import crypto
from infra.logging import RedactingFilter
from infra.orm import Base
from rebooking_core.models import ContactPoint, Passenger
from tests.conversations.conftest import Pax, Rig

GIVEN, FAMILY = "Zelphine", "Quarrington"
EMAIL = "zelphine.quarrington@example.org"
PUSH_TOKEN = "fcmTok-Zq9XkL2mPq7RvT4wYb8nHc3sDf6gJ1"
FREE_TEXT = f"Hi, this is {GIVEN} {FAMILY}, my wheelchair is booked, email me at {EMAIL}"


@dataclass(frozen=True)
class Person:
    pax: Pax
    wamid: str

    @property
    def secrets(self) -> list[str]:
        """Everything that identifies the passenger and must not survive erasure anywhere."""
        digits = self.pax.phone.lstrip("+")
        return [GIVEN, FAMILY, self.pax.phone, digits, EMAIL, PUSH_TOKEN, self.wamid, "my wheelchair is booked"]


def wamid_for(phone: str) -> str:
    """WhatsApp message ids carry the user's number inside their base64 payload."""
    payload = b"\x1c\x18\x0c" + phone.lstrip("+").encode() + b"\x15\x02\x00\x12\x18\x143EB0C767D097B7C5B6A1\x00"
    return "wamid." + base64.b64encode(payload).decode()


async def journey(rig: Rig) -> Person:
    """Offer on WhatsApp (which fails over to SMS), free text, a WhatsApp tap, a booking, then AGENT."""
    who = await rig.add_pax(("whatsapp", "sms"))
    ring = crypto.keyring()
    async with rig.c.db.transaction() as s:
        await s.execute(update(Passenger).where(Passenger.id == who.passenger_id).values(given_name=GIVEN, family_name=FAMILY, ssr="WCHR"))
        for preference, (channel, address) in enumerate((("email", EMAIL), ("push", PUSH_TOKEN)), start=2):
            s.add(ContactPoint(passenger_id=who.passenger_id, channel=channel, address=address, address_hash=ring.blind_index(address), preference=preference))
            await ledger.record(s, passenger_id=who.passenger_id, channel=channel, purpose=ledger.MARKETING, granted=True, source="web", evidence="203.0.113.9", at=rig.clock())
    rig.sandbox.fail_next("whatsapp", who.phone, RecipientUnreachable(f"{who.phone} is not on WhatsApp", code="131026"))
    await rig.offered(who)
    await rig.reply("sms", who, FREE_TEXT)
    wamid = wamid_for(who.phone)
    event = dataclasses.replace(rig.sandbox.reply("whatsapp", who.phone, "2"), provider="whatsapp", event_id=wamid)
    await rig.c.inbound.accept([event])
    await rig.c.dispatcher.drain()
    await rig.reply("sms", who, "AGENT")
    await rig.c.dispatcher.drain()
    return Person(who, wamid)


async def all_rows(rig: Rig) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, PII decrypted, as the application would read it."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with rig.c.db.reading() as s:
        for table in Base.metadata.sorted_tables:
            out[table.name] = [dict(r) for r in (await s.execute(select(table))).mappings().all()]
    return out


def primary_keys(rows: dict[str, list[dict[str, Any]]]) -> dict[str, set[tuple[Any, ...]]]:
    keys: dict[str, set[tuple[Any, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        names = [c.name for c in table.primary_key.columns]
        keys[table.name] = {tuple(str(r[n]) for n in names) for r in rows.get(table.name, [])}
    return keys


def found_in(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def dump(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def readable(value: Any) -> Any:
    """Rows with every encrypted value inside JSON decrypted too, as anyone holding the live key could read them."""
    if isinstance(value, dict):
        return {k: readable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [readable(v) for v in value]
    if isinstance(value, str) and value.startswith("enc1:"):
        return crypto.keyring().decrypt(value)
    return value


class _Everything(logging.Formatter):
    """Formats a record with every attribute, so PII hiding in `extra=` fields is seen too."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record) + " " + dump({k: v for k, v in record.__dict__.items() if k != "exc_info"})


@contextmanager
def captured_logs(level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """The production handler (redacting filter on the root), at DEBUG, into a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(_Everything("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
