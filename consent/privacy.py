"""Data-subject rights over every table: export (GDPR Art. 20) and erasure (Art. 17), driven by one policy.

The policy names, for every table of the schema, how its rows belong to a passenger and what
erasure does to them. The consent layer may not import the other packages' models, so tables
are reached by name through the shared metadata; a table without a policy is refused.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.type_api import TypeEngine

from consent import audit
from infra import crypto, event_log
from infra.event_log import EventType
from infra.orm import EncryptedString

FORMAT = "rebook.passenger-export"
VERSION = 1
ERASED = "erased"
#: How `infra.crypto.Keyring.encrypt` output starts (the export test fails if it changes).
_SEALED = "enc1:"
#: What a column naming a copy outside the database (a Slack message) holds once that copy is redacted.
REDACTED = "redacted"


class Erase(StrEnum):
    """What erasure does to a table's rows that belong to the passenger."""

    KEEP = "keep"  # no personal data in the row
    NULL = "null"  # listed columns set to NULL (or the given replacement)
    DELETE = "delete"  # the rows go


@dataclass(frozen=True)
class Link:
    """Rows of `table` whose `column` is among the `parent_column` values of the passenger's `parent` rows."""

    column: str
    parent: str | None = None
    parent_column: str = "id"


@dataclass(frozen=True)
class Clear:
    """Values erasure writes into the passenger's rows that match `when` (all of them when it is empty)."""

    values: Mapping[str, Any]
    when: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def applies(self, row: Mapping[str, Any]) -> bool:
        """Only rows it matches and would change, so a repeated erasure changes nothing."""
        matches = all(row.get(col) in allowed for col, allowed in self.when.items())
        return matches and any(row.get(col) != value for col, value in self.values.items())


@dataclass(frozen=True)
class Copies:
    """Rows that were also posted outside the database (Slack): the desk redacts those copies after erasure.

    A row still has a copy to redact while `column` holds none of the `gone` values; whoever redacts
    the copy writes one of them, so the erasure's receipt can count what is still out there.
    """

    store: str
    column: str
    gone: tuple[Any, ...] = (None, REDACTED)

    def pending(self, row: Mapping[str, Any]) -> bool:
        return row.get(self.column) not in self.gone


@dataclass(frozen=True)
class TablePolicy:
    """How one table takes part in export and erasure; `personal` tables must have a link."""

    personal: bool
    link: Link | None = None
    erase: Erase = Erase.KEEP
    clear: Mapping[str, Any] = field(default_factory=dict)
    when: Mapping[str, Sequence[str]] = field(default_factory=dict)
    provider_refs: tuple[str, ...] = ()
    why: str = ""
    #: Further values written to other subsets of the rows (e.g. every row, beside the unsent ones).
    more: tuple[Clear, ...] = ()
    copies: Copies | None = None
    #: Other ways a row can belong to the passenger (a broadcast notice has a passenger but no conversation).
    also: tuple[Link, ...] = ()

    @property
    def links(self) -> tuple[Link, ...]:
        return ((self.link,) if self.link is not None else ()) + self.also

    @property
    def rules(self) -> tuple[Clear, ...]:
        first = (Clear(self.clear, self.when),) if self.clear else ()
        return first + self.more

    @property
    def cleared(self) -> set[str]:
        """Every column some rule of erasure writes."""
        return {col for rule in self.rules for col in rule.values}


POLICY: Mapping[str, TablePolicy] = {
    "passengers": TablePolicy(
        True,
        Link("id"),
        Erase.NULL,
        {"given_name": None, "family_name": None, "ssr": None, "loyalty_status": None, "miles": None, "preferences": None},
        why="the passenger; kept as an anonymous row so bookings and counts stay consistent",
    ),
    "contact_points": TablePolicy(
        True,
        Link("passenger_id", "passengers"),
        Erase.DELETE,
        why="phone numbers, e-mails, push tokens, chat ids, WhatsApp BSUIDs and usernames",
    ),
    "consent_state": TablePolicy(
        True, Link("passenger_id", "passengers"), Erase.DELETE, why="no contact point is left to consent for"
    ),
    "consent_events": TablePolicy(
        True,
        Link("passenger_id", "passengers"),
        Erase.NULL,
        {"evidence": None},
        why="proof of what was agreed stays; the evidence (message id, IP address) goes",
    ),
    "bookings": TablePolicy(
        True,
        Link("id", "passengers", "booking_id"),
        Erase.NULL,
        {"group_name": None},
        why="booking records the airline must keep (7 years), without the group's name",
    ),
    "segments": TablePolicy(True, Link("booking_id", "bookings"), why="itinerary of the booking, no PII"),
    "offers": TablePolicy(True, Link("booking_id", "bookings"), why="what was offered to the booking, no PII"),
    "offer_options": TablePolicy(True, Link("offer_id", "offers"), why="options offered, no PII"),
    "seat_holds": TablePolicy(True, Link("option_id", "offer_options"), why="seats held for the options, no PII"),
    "airline_requests": TablePolicy(
        True, Link("booking_id", "bookings"), why="PNR changes and refunds asked of the built-in reservations port: codes only"
    ),
    "airline_holds": TablePolicy(False, why="seats held through the built-in inventory port: flight, cabin, counts"),
    "conversations": TablePolicy(
        True,
        Link("passenger_id", "passengers"),
        Erase.NULL,
        {"window_open_until": {}, "timer_at": None, "timer_kind": None},
        why="state and counters stay for KPIs; pending timers stop",
    ),
    "outbox": TablePolicy(
        True,
        Link("conversation_id", "conversations"),
        Erase.NULL,
        {"status": "cancelled", "last_error": ERASED, "params": {}},
        when={"status": ("pending", "sending", "dead")},
        more=(Clear({"params": {}}),),
        also=(Link("passenger_id", "passengers"),),
        why="messages not yet sent (or dead-lettered) are cancelled; parameters (an agent's free text) go from every message",
    ),
    "deliveries": TablePolicy(
        True,
        Link("conversation_id", "conversations"),
        Erase.NULL,
        {"provider_message_id": None, "text": None},
        also=(Link("outbox_id", "outbox"),),
        why="each hand-over with the text its channel showed (the conversation log); the text and provider message ids"
        " (a WhatsApp id embeds the phone number) go, counts stay",
    ),
    "inbound_messages": TablePolicy(
        True,
        Link("conversation_id", "conversations"),
        Erase.NULL,
        {"text": None, "provider_message_id": None},
        why="what the passenger wrote or tapped (the conversation log); the text and the provider's message id go",
    ),
    "pnr_changes": TablePolicy(
        True,
        Link("conversation_id", "conversations"),
        why="PNR changes sent to a remote PSS (two-phase booking): ids, the locator, flight codes, states; no PII",
    ),
    "escalations": TablePolicy(
        True,
        Link("conversation_id", "conversations"),
        Erase.NULL,
        {"status": "closed"},
        when={"status": ("open", "claimed")},
        copies=Copies("slack", "card_ts"),
        why="reason codes only; an open or claimed hand-over is closed; the desk redacts the passenger card it posted",
    ),
    "audit_log": TablePolicy(
        True, Link("passenger_id", "passengers"), why="append-only proof, holds ids and codes only"
    ),
    "processed_events": TablePolicy(
        True,
        erase=Erase.NULL,
        provider_refs=("event_id",),
        why="webhook dedupe ids; those that embed the passenger's number are replaced by a hash",
    ),
    "agent_relays": TablePolicy(
        True,
        Link("inbound_id", "inbound_messages"),
        Erase.NULL,
        {"status": "cancelled"},
        when={"status": ("pending",)},
        more=(Clear({"status": "redact"}, when={"status": ("posting", "posted")}),),
        copies=Copies("slack", "status", gone=("pending", "cancelled", REDACTED)),
        why="which passenger message an agent was shown; unsent relays are cancelled, posted ones deleted from Slack by the desk",
    ),
    "agent_decisions": TablePolicy(
        True,
        Link("conversation_id", "conversations"),
        Erase.NULL,
        {"detail": {}},
        why="what an agent decided; free-form details go",
    ),
    "amount_checks": TablePolicy(
        True,
        Link("conversation_id", "conversations"),
        Erase.NULL,
        {"text": ""},
        why="agents' replies naming an amount, checked against the rights engine (held until confirmed): the text goes, "
        "the amounts compared stay as the audit",
    ),
    "page_links": TablePolicy(
        True,
        Link("booking_id", "bookings"),
        Erase.DELETE,
        why="hashes of the booking's personal page links: deleting them revokes every link",
    ),
    "claims": TablePolicy(
        True,
        Link("passenger_id", "passengers"),
        Erase.NULL,
        {"passenger_id": None, "booking_id": None},
        why="compensation owed or paid; erasure unlinks the passenger and booking, the amounts stay for the totals (docs/claims.md)",
    ),
    "refund_requests": TablePolicy(
        True,
        Link("booking_id", "bookings"),
        why="refunds passengers chose instead of rerouting: segment ids, the legal basis, the airline's answer; nothing about the person",
    ),
    "care_vouchers": TablePolicy(
        True,
        Link("passenger_id", "passengers"),
        why="meal, hotel and transfer vouchers owed while waiting: codes, amounts, a hotel's name; nothing about the person",
    ),
    "hotel_rooms": TablePolicy(False, why="rooms contracted hotels give the airline per night, and how many are taken"),
    "hotel_reservations": TablePolicy(False, why="rooms reserved under a caller's key: no passenger named"),
    "broadcasts": TablePolicy(False, why="ops notices to a flight or an airport, written by staff"),
    "idempotent_answers": TablePolicy(
        False,
        why="hashes of ops API Idempotency-Keys and requests, and their answers (encrypted: an escalation card quotes a "
        "first name and messages), kept 24 h; not linked to passengers, so the erasure route deletes them all",
    ),
    "queue_cards": TablePolicy(False, why="agent-desk cards per disruption and route"),
    "desk_notes": TablePolicy(
        False,
        why="notes to the agent of an escalation that the flight's story moved on (a catalog key, a cause, a count of options, "
        "a time): nothing about the passenger; the desk posts none for an erased passenger and its redaction deletes the thread",
    ),
    "flights": TablePolicy(False, why="schedule"),
    "inventory": TablePolicy(False, why="seat counters"),
    "disruptions": TablePolicy(False, why="operational events"),
    "disruption_flights": TablePolicy(False, why="operational events"),
    "disruption_updates": TablePolicy(False, why="flight updates from ops feeds (source, message id, flight, kind): no PII"),
    "outbound_events": TablePolicy(
        True,
        Link("passenger_id", "passengers"),
        why="events sent to the airline's systems (docs/webhooks.md): ids and codes only, kept for replay",
    ),
    "webhook_subscriptions": TablePolicy(False, why="the airline's endpoints; the signing secret is encrypted, not PII"),
    "webhook_deliveries": TablePolicy(False, why="delivery attempts of events to endpoints: ids, status codes, times"),
}


class UnknownTable(LookupError):
    """A table exists that the privacy policy does not cover: export and erasure refuse to run."""


def check_policy(metadata: MetaData) -> None:
    """Every table must be covered, so a new table cannot silently escape export and erasure."""
    missing = sorted(set(metadata.tables) - set(POLICY))
    if missing:
        raise UnknownTable(f"no privacy policy for table(s): {', '.join(missing)} (see consent/privacy.py)")
    for name, policy in POLICY.items():
        table = metadata.tables.get(name)
        if table is None:
            continue
        known = set(table.c.keys())
        named = policy.cleared | set(policy.provider_refs)
        named |= {col for rule in policy.rules for col in rule.when}
        if policy.copies is not None:
            named.add(policy.copies.column)
        named |= {link.column for link in policy.links}
        if not named <= known:
            raise UnknownTable(f"privacy policy for {name} names unknown columns {sorted(named - known)}")
        secret = {c.name for c in table.columns if isinstance(c.type, EncryptedString)}
        # An encrypted column of a table that holds nobody's data is a secret (a signing key), not PII.
        if secret and policy.personal and (policy.erase is Erase.KEEP or (policy.erase is Erase.NULL and not secret <= policy.cleared)):
            raise UnknownTable(f"erasure of {name} would leave encrypted PII columns {sorted(secret - policy.cleared)}")


def personal_tables(metadata: MetaData) -> list[str]:
    return [name for name in _order(metadata) if POLICY[name].personal]


def _order(metadata: MetaData) -> list[str]:
    """Parents before children, so each link can read its parent's rows."""
    check_policy(metadata)
    done: list[str] = []
    pending = [n for n in POLICY if n in metadata.tables]
    while pending:
        progressed = False
        for name in list(pending):
            parents = {link.parent for link in POLICY[name].links if link.parent is not None and link.parent in metadata.tables}
            if parents <= set(done):
                done.append(name)
                pending.remove(name)
                progressed = True
        if not progressed:
            raise UnknownTable(f"privacy links form a cycle among {pending}")
    return done


# ---- identifiers that providers embed in their own ids ----

_WAMID = re.compile(r"^wamid\.([A-Za-z0-9+/=_-]+)")


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def embeds(reference: str, numbers: Iterable[str]) -> bool:
    """Whether a provider id carries one of these phone numbers, in clear or base64-encoded (WhatsApp)."""
    wanted = [d for d in (_digits(n) for n in numbers) if len(d) >= 6]
    if not wanted:
        return False
    texts = [reference]
    if m := _WAMID.match(reference):
        blob = m.group(1)
        for decoder in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                texts.append(decoder(blob + "=" * (-len(blob) % 4)).decode("latin-1"))
            except (binascii.Error, ValueError):
                continue
    return any(d in _digits(t) for t in texts for d in wanted)


def scrubbed_reference(reference: str) -> str:
    """A stand-in that keeps dedupe keys distinct without holding the number."""
    return f"{ERASED}:{hashlib.sha256(reference.encode()).hexdigest()[:40]}"


# ---- collection ----


@dataclass
class Holdings:
    """Everything held about one passenger: rows per table, with PII decrypted."""

    passenger_id: int
    rows: dict[str, list[dict[str, Any]]]
    numbers: list[str]

    def count(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def identifiers(self) -> list[str]:
        """Names, addresses and tokens to look for in stores outside the database (Redis)."""
        found = list(self.numbers)
        for row in self.rows.get("passengers", []):
            found += [str(row[k]) for k in ("given_name", "family_name") if row.get(k)]
        for row in self.rows.get("contact_points", []):
            found += [str(row[k]) for k in ("bsuid", "parent_bsuid", "username") if row.get(k)]
        return sorted({f for f in found if len(f) >= 3})


async def collect(session: AsyncSession, metadata: MetaData, passenger_id: int) -> Holdings | None:
    """Walk the policy's links from the passenger row through every personal table."""
    order = _order(metadata)
    rows: dict[str, list[dict[str, Any]]] = {}
    for name in order:
        policy = POLICY[name]
        if not policy.personal or policy.link is None:
            continue
        table = metadata.tables[name]
        pk = [c.name for c in table.primary_key.columns]
        found: dict[tuple[Any, ...], dict[str, Any]] = {}
        for link in policy.links:
            if link.parent is None:
                keys: list[Any] = [passenger_id]
            else:
                keys = sorted({r[link.parent_column] for r in rows.get(link.parent, []) if r[link.parent_column] is not None})
            for row in await _fetch(session, table, link.column, keys):
                found.setdefault(tuple(row[c] for c in pk), row)
        rows[name] = [found[k] for k in sorted(found)]
        if name == "passengers" and not rows[name]:
            return None
    numbers = sorted({str(r["address"]) for r in rows.get("contact_points", []) if r.get("address")})
    for name in order:
        policy = POLICY[name]
        if policy.provider_refs and policy.link is None:
            rows[name] = await _matching_refs(session, metadata.tables[name], policy.provider_refs, numbers)
    return Holdings(passenger_id, rows, numbers)


async def _fetch(session: AsyncSession, table: Table, column: str, keys: Sequence[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pk = list(table.primary_key.columns)
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        result = await session.execute(select(table).where(table.c[column].in_(chunk)).order_by(*pk))
        out.extend(dict(r) for r in result.mappings().all())
    return out


async def _matching_refs(
    session: AsyncSession, table: Table, columns: Sequence[str], numbers: Sequence[str]
) -> list[dict[str, Any]]:
    """Provider references can only be found by what they embed: scan them (erasure is rare)."""
    if not numbers:
        return []
    found: list[dict[str, Any]] = []
    result = await session.stream(select(table))
    async for row in result.mappings():
        if any(isinstance(row[c], str) and embeds(row[c], numbers) for c in columns):
            found.append(dict(row))
    return found


# ---- export ----


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _revealed(value)


def _revealed(value: Any) -> Any:
    """JSON columns may carry encrypted PII (an agent's text in outbox parameters): the export shows it readable."""
    if isinstance(value, dict):
        return {k: _revealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revealed(v) for v in value]
    if isinstance(value, str) and value.startswith(_SEALED):
        try:
            return crypto.keyring().decrypt(value)
        except (ValueError, KeyError):
            return value
    return value


async def export(
    session: AsyncSession, metadata: MetaData, passenger_id: int, *, at: dt.datetime, actor: str, reason: str | None = None
) -> dict[str, Any] | None:
    """The machine-readable bundle of everything held about the passenger (see `export_schema`)."""
    held = await collect(session, metadata, passenger_id)
    if held is None:
        return None
    audit.append(
        session,
        actor=actor,
        action="data.exported",
        subject=f"passenger:{passenger_id}",
        passenger_id=passenger_id,
        reason=reason,
        details={"records": held.count()},
        at=at,
    )
    return {
        "format": FORMAT,
        "version": VERSION,
        "passenger_id": passenger_id,
        "generated_at": _json_value(at),
        "tables": {
            name: [{k: _json_value(v) for k, v in row.items()} for row in held.rows.get(name, [])]
            for name in personal_tables(metadata)
        },
    }


def _json_type(column_type: TypeEngine[Any]) -> dict[str, Any]:
    if isinstance(column_type, EncryptedString | String):
        return {"type": "string"}
    if isinstance(column_type, Boolean):
        return {"type": "boolean"}
    if isinstance(column_type, Integer):
        return {"type": "integer"}
    if isinstance(column_type, Float):
        return {"type": "number"}
    if isinstance(column_type, DateTime):
        return {"type": "string", "format": "date-time"}
    if isinstance(column_type, Date):
        return {"type": "string", "format": "date"}
    if isinstance(column_type, JSON):
        return {}
    impl = getattr(column_type, "impl", None)
    if isinstance(impl, TypeEngine):
        return _json_type(impl)
    raise UnknownTable(f"no JSON type for column type {column_type!r}")


def export_schema(metadata: MetaData) -> dict[str, Any]:
    """The JSON Schema of the export bundle, generated from the tables (docs/export.schema.json)."""
    tables: dict[str, Any] = {}
    for name in personal_tables(metadata):
        table = metadata.tables[name]
        props: dict[str, Any] = {}
        for column in table.columns:
            kind = _json_type(column.type)
            if column.nullable and kind:
                kind = {"anyOf": [kind, {"type": "null"}]}
            props[column.name] = kind
        tables[name] = {
            "type": "array",
            "description": POLICY[name].why,
            "items": {"type": "object", "properties": props, "required": sorted(props), "additionalProperties": False},
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://rebook.example/schemas/passenger-export.schema.json",
        "title": "Everything rebook holds about one passenger (GDPR Art. 20)",
        "type": "object",
        "required": ["format", "version", "passenger_id", "generated_at", "tables"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT},
            "version": {"const": VERSION},
            "passenger_id": {"type": "integer"},
            "generated_at": {"type": "string", "format": "date-time"},
            "tables": {"type": "object", "required": sorted(tables), "additionalProperties": False, "properties": tables},
        },
    }


# ---- erasure ----


@dataclass(frozen=True)
class TableErasure:
    table: str
    action: str
    rows: int
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Redaction:
    """`rows` of `table` still have a copy in `store` (Slack) that the desk redacts after the erasure commits."""

    store: str
    table: str
    rows: int


@dataclass(frozen=True)
class Receipt:
    """What erasure changed where; a second erasure of the same passenger changes nothing."""

    passenger_id: int
    erased_at: dt.datetime
    already_erased: bool
    tables: tuple[TableErasure, ...]
    stores: Mapping[str, int] = field(default_factory=dict)
    redactions: tuple[Redaction, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "passenger_id": self.passenger_id,
            "erased_at": _json_value(self.erased_at),
            "already_erased": self.already_erased,
            "tables": [
                {"table": t.table, "action": t.action, "rows": t.rows, "columns": list(t.columns)} for t in self.tables
            ],
            "stores": dict(self.stores),
            "redactions": [{"store": r.store, "table": r.table, "rows": r.rows} for r in self.redactions],
        }


async def erase(
    session: AsyncSession,
    metadata: MetaData,
    passenger_id: int,
    *,
    at: dt.datetime,
    actor: str,
    reason: str | None = None,
) -> tuple[Receipt, Holdings] | None:
    """Remove or anonymise the passenger's PII in every table; returns what changed and what was held."""
    held = await collect(session, metadata, passenger_id)
    if held is None:
        return None
    already = held.rows["passengers"][0].get("erased_at") is not None
    done: list[TableErasure] = []
    for name in reversed(_order(metadata)):
        policy = POLICY[name]
        rows = held.rows.get(name, [])
        if not policy.personal or policy.erase is Erase.KEEP or not rows:
            continue
        table = metadata.tables[name]
        if policy.provider_refs:
            n = await _scrub_refs(session, table, policy.provider_refs, rows)
            if n:
                done.append(TableErasure(name, "replaced", n, policy.provider_refs))
            continue
        pk = list(table.primary_key.columns)
        if policy.erase is Erase.DELETE:
            for row in rows:
                await session.execute(delete(table).where(*[c == row[c.name] for c in pk]))
            done.append(TableErasure(name, "deleted", len(rows)))
            continue
        changed: set[tuple[Any, ...]] = set()
        columns: set[str] = set()
        for row in rows:
            values: dict[str, Any] = {}
            for rule in policy.rules:
                if rule.applies(row):
                    values.update(rule.values)
            if values:
                await session.execute(update(table).where(*[c == row[c.name] for c in pk]).values(**values))
                changed.add(tuple(row[c.name] for c in pk))
                columns |= set(values)
        if changed:
            done.append(TableErasure(name, "anonymised", len(changed), tuple(sorted(columns))))
    redactions = _copies(metadata, held)
    passengers = metadata.tables["passengers"]
    if not already:
        await session.execute(update(passengers).where(passengers.c.id == passenger_id).values(erased_at=at))
        booking_id = held.rows["passengers"][0].get("booking_id")
        event_log.record(
            session,
            EventType.PASSENGER_ERASED,
            at=at,
            key=f"passenger:{passenger_id}",
            passenger_id=passenger_id,
            booking_id=booking_id,
            data={"passenger_id": passenger_id, "booking_id": booking_id},
        )
    erased_at = held.rows["passengers"][0].get("erased_at") or at
    receipt = Receipt(passenger_id, erased_at, already, tuple(done), redactions=redactions)
    audit.append(
        session,
        actor=actor,
        action="data.erased",
        subject=f"passenger:{passenger_id}",
        passenger_id=passenger_id,
        reason=reason,
        details={
            "already_erased": already,
            "tables": {t.table: t.rows for t in done},
            "redactions": [{"store": r.store, "table": r.table, "rows": r.rows} for r in redactions],
        },
        at=at,
    )
    return receipt, held


def _copies(metadata: MetaData, held: Holdings) -> tuple[Redaction, ...]:
    """Copies of the passenger's rows outside the database that still have to be redacted there."""
    out: list[Redaction] = []
    for name in _order(metadata):
        copies = POLICY[name].copies
        if copies is None:
            continue
        n = sum(1 for row in held.rows.get(name, []) if copies.pending(row))
        if n:
            out.append(Redaction(copies.store, name, n))
    return tuple(out)


async def _scrub_refs(session: AsyncSession, table: Table, columns: Sequence[str], rows: list[dict[str, Any]]) -> int:
    pk = list(table.primary_key.columns)
    changed = 0
    for row in rows:
        values = {c: scrubbed_reference(row[c]) for c in columns if isinstance(row[c], str) and not row[c].startswith(ERASED)}
        if values:
            await session.execute(update(table).where(*[c == row[c.name] for c in pk]).values(**values))
            changed += 1
    return changed
