"""Outbox rows and escalations move only along their declared edges: the tables, the committed diagrams,
every status written anywhere in the code, and guarded writes on both databases."""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import re
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from consent.privacy import POLICY
from conversations.lifecycles import (
    ESCALATION_LIFECYCLE,
    OUTBOX_LIFECYCLE,
    EscalationStatus,
    IllegalTransition,
    Lifecycle,
    OutboxStatus,
    allowed,
    guard,
    guarded,
    move,
    sources,
    transition,
)
from conversations.models import (
    ESCALATIONS,
    OUTBOX,
    OUTBOX_READY,
    Conversation,
    Escalation,
    OutboxMessage,
)
from infra.db import make_sessionmaker
from rebooking_core.models import Booking, Disruption, Flight

ROOT = Path(__file__).resolve().parents[2]
LIFECYCLES = [OUTBOX_LIFECYCLE, ESCALATION_LIFECYCLE]
_EDGE = re.compile(r"^\s+(\[\*\]|\w+) --> (\[\*\]|\w+)(?::\s*(.+))?$")

OS, ES = OutboxStatus, EscalationStatus

#: The edges as the product means them, written out independently of the table it checks.
OUTBOX_EDGES = {
    (OS.PENDING, OS.SENDING),
    (OS.PENDING, OS.CANCELLED),
    (OS.SENDING, OS.SENT),
    (OS.SENDING, OS.SENDING),
    (OS.SENDING, OS.PENDING),
    (OS.SENDING, OS.DEAD),
    (OS.SENDING, OS.FAILED),
    (OS.SENDING, OS.CANCELLED),
    (OS.SENT, OS.PENDING),
    (OS.DEAD, OS.PENDING),
    (OS.DEAD, OS.CANCELLED),
}
ESCALATION_EDGES = {
    (ES.OPEN, ES.CLAIMED),
    (ES.OPEN, ES.WITHDRAWN),
    (ES.OPEN, ES.CLOSED),
    (ES.CLAIMED, ES.WITHDRAWN),
    (ES.CLAIMED, ES.RESOLVED),
    (ES.CLAIMED, ES.CLOSED),
}


def _edges(text: str) -> list[tuple[str, str, str]]:
    found = []
    for line in text.splitlines()[1:]:
        m = _EDGE.match(line)
        assert m is not None, f"not a state-diagram edge: {line!r}"
        found.append((m.group(1), m.group(2), m.group(3) or ""))
    return found


# ---- the tables and their diagrams ----


@pytest.mark.parametrize("life", LIFECYCLES, ids=lambda life: life.name)
def test_committed_diagram_is_current(life: Lifecycle[StrEnum]) -> None:
    path = ROOT / "docs" / f"{life.name}.mmd"
    assert path.read_text(encoding="utf-8") == life.mermaid(), (
        f"docs/{life.name}.mmd is stale: regenerate it with `make diagram`"
    )


@pytest.mark.parametrize("life", LIFECYCLES, ids=lambda life: life.name)
def test_every_edge_and_state_is_drawn(life: Lifecycle[StrEnum]) -> None:
    drawn = _edges((ROOT / "docs" / f"{life.name}.mmd").read_text(encoding="utf-8"))
    for (source, cause), target in life.edges.items():
        assert (source.value, target.value, cause) in drawn
    states = {a for a, _, _ in drawn} | {b for _, b, _ in drawn}
    assert {s.value for s in life.states} <= states


@pytest.mark.parametrize("life", LIFECYCLES, ids=lambda life: life.name)
def test_every_state_is_reachable_and_every_other_state_leads_somewhere(life: Lifecycle[StrEnum]) -> None:
    seen, todo = {life.initial}, [life.initial]
    while todo:
        for nxt in life.targets(todo.pop()) - seen:
            seen.add(nxt)
            todo.append(nxt)
    assert seen == set(life.states)
    assert [s for s in life.states if s not in life.ends and not life.targets(s)] == []


@pytest.mark.parametrize(
    ("states", "expected"), [(OutboxStatus, OUTBOX_EDGES), (EscalationStatus, ESCALATION_EDGES)], ids=["outbox", "escalation"]
)
def test_transition_table(states: Any, expected: set[tuple[Any, Any]]) -> None:
    for a, b in itertools.product(states, states):
        assert allowed(a, b) is ((a, b) in expected), (a, b)
        assert allowed(a.value, b) is ((a, b) in expected), "a column's plain string reads the same"
    for b in states:
        assert sources(b) == {a for a, to in expected if to == b}, b
        assert allowed(None, b) is (b is next(iter(states))), "rows are written first in their first status"


def test_values_are_the_column_strings_of_before() -> None:
    """No data migration: the enums spell what the columns already hold."""
    assert [s.value for s in OutboxStatus] == ["pending", "sending", "sent", "failed", "dead", "cancelled"]
    assert [s.value for s in EscalationStatus] == ["open", "claimed", "resolved", "withdrawn", "closed"]
    assert (OUTBOX_LIFECYCLE.initial, ESCALATION_LIFECYCLE.initial) == (OS.PENDING, ES.OPEN)
    assert getattr(OUTBOX.c.status.default, "arg", None) == OS.PENDING.value
    assert getattr(ESCALATIONS.c.status.default, "arg", None) == ES.OPEN.value


def test_a_table_that_mixes_lifecycles_or_cannot_be_drawn_is_refused() -> None:
    with pytest.raises(TypeError):
        Lifecycle[OutboxStatus]("mixed", OS.PENDING, {(OS.PENDING, "x"): ES.OPEN}, ())  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="cannot label"):
        Lifecycle[OutboxStatus]("bad", OS.PENDING, {(OS.PENDING, "a: b"): OS.SENDING}, ())


# ---- guarded Core statements: compiled ----


def test_a_guard_names_the_legal_sources_as_literals() -> None:
    sql = str(move(update(OUTBOX).where(OUTBOX.c.id == bindparam("outbox_id")), OUTBOX.c.status, OS.SENT).compile())
    assert "outbox.status IN ('sending')" in sql
    assert str(guard(OutboxMessage.status, OS.PENDING).compile()) == "outbox.status IN ('dead', 'sending', 'sent')"
    g = guarded(ESCALATIONS.c.status, ES.CLAIMED)
    assert g.values == {"status": "claimed"}
    assert str(g.where.compile()) == "escalations.status IN ('open')"


def test_a_from_set_narrows_the_guard_and_an_illegal_one_fails_when_built() -> None:
    assert str(guard(OUTBOX.c.status, OS.PENDING, from_=[OS.DEAD]).compile()) == "outbox.status IN ('dead')"
    with pytest.raises(IllegalTransition) as caught:
        guard(OUTBOX.c.status, OS.PENDING, from_=[OS.DEAD, OS.FAILED])
    assert (caught.value.lifecycle, caught.value.source, caught.value.target) == ("outbox", "failed", "pending")
    with pytest.raises(IllegalTransition):
        move(update(Escalation), Escalation.status, ES.CLAIMED, from_=[ES.RESOLVED])


# ---- guarded writes on both databases ----

NOW = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)


async def _seed(engine: AsyncEngine) -> int:
    """One conversation to hang outbox rows and escalations on; returns its id."""
    async with make_sessionmaker(engine)() as s, s.begin():
        flight = Flight(
            carrier="RB", number="7", service_date=NOW.date(), origin="FRA", destination="MAD",
            dep_utc=NOW, arr_utc=NOW + dt.timedelta(hours=2),
        )
        booking = Booking(locator="LIFECY", created_at=NOW)
        disruption = Disruption(kind="cancelled", created_at=NOW)
        s.add_all([flight, booking, disruption])
        await s.flush()
        conv = Conversation(
            disruption_id=disruption.id, booking_id=booking.id, flight_id=flight.id, status="escalated",
            created_at=NOW, updated_at=NOW,
        )
        s.add(conv)
        await s.flush()
        return conv.id


async def _outbox(engine: AsyncEngine, conv_id: int) -> dict[OutboxStatus, int]:
    """One outbox row in each status; returns their ids by status."""
    async with make_sessionmaker(engine)() as s, s.begin():
        rows = {
            status: OutboxMessage(
                conversation_id=conv_id, idempotency_key=f"life-{status}", key="offer", status=status.value,
                next_attempt_at=NOW, created_at=NOW,
            )
            for status in OutboxStatus
        }
        s.add_all(rows.values())
        await s.flush()
        return {status: row.id for status, row in rows.items()}


async def _statuses(engine: AsyncEngine, table: Any, ids: list[int]) -> dict[int, str]:
    async with engine.connect() as c:
        found = await c.execute(select(table.c.id, table.c.status).where(table.c.id.in_(list(ids))))
        return {int(i): str(status) for i, status in found}


async def test_a_guarded_update_moves_only_rows_the_table_allows(engine: AsyncEngine) -> None:
    ids = await _outbox(engine, await _seed(engine))
    mark_sent = move(update(OUTBOX).where(OUTBOX.c.id == bindparam("outbox_id")), OUTBOX.c.status, OS.SENT).values(
        sent_at=bindparam("now")
    )
    moved = {}
    async with engine.begin() as c:
        for status, outbox_id in ids.items():
            moved[status] = (await c.execute(mark_sent, {"outbox_id": outbox_id, "now": NOW})).rowcount
    assert moved == {s: int(s is OS.SENDING) for s in OutboxStatus}, "an illegal move updates 0 rows"
    after = await _statuses(engine, OUTBOX, list(ids.values()))
    assert after == {i: (OS.SENT.value if s is OS.SENDING else s.value) for s, i in ids.items()}


async def test_a_guarded_update_runs_as_executemany(engine: AsyncEngine) -> None:
    """The dispatcher's shape: one statement, bound ids, many parameter sets; the literal guard holds in each."""
    ids = await _outbox(engine, await _seed(engine))
    back = move(update(OUTBOX).where(OUTBOX.c.id == bindparam("outbox_id")), OUTBOX.c.status, OS.PENDING).values(
        next_attempt_at=bindparam("at")
    )
    async with engine.begin() as c:
        await c.execute(back, [{"outbox_id": i, "at": NOW} for i in ids.values()])
    after = await _statuses(engine, OUTBOX, list(ids.values()))
    legal = sources(OS.PENDING)
    assert after == {i: (OS.PENDING.value if s in legal else s.value) for s, i in ids.items()}
    assert after[ids[OS.FAILED]] == "failed" and after[ids[OS.CANCELLED]] == "cancelled"


async def test_an_escalation_is_claimed_once_and_a_resolved_one_never(engine: AsyncEngine) -> None:
    conv_id = await _seed(engine)
    async with make_sessionmaker(engine)() as s, s.begin():
        rows = [
            Escalation(conversation_id=conv_id, disruption_id=1, reason="agent", status=status.value, created_at=NOW)
            for status in (ES.OPEN, ES.RESOLVED)
        ]
        s.add_all(rows)
        await s.flush()
        open_id, resolved_id = (r.id for r in rows)
    claim = update(Escalation).where(Escalation.id == bindparam("esc_id"))
    claim = move(claim, Escalation.status, ES.CLAIMED, from_=[ES.OPEN]).values(agent="U1")
    async with engine.begin() as c:
        counts = [(await c.execute(claim, {"esc_id": i})).rowcount for i in (open_id, open_id, resolved_id)]
    assert counts == [1, 0, 0]
    assert await _statuses(engine, ESCALATIONS, [open_id, resolved_id]) == {open_id: "claimed", resolved_id: "resolved"}


async def test_an_orm_row_refuses_an_illegal_transition_and_keeps_its_status(engine: AsyncEngine) -> None:
    conv_id = await _seed(engine)
    ids = await _outbox(engine, conv_id)
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        failed = await s.get(OutboxMessage, ids[OS.FAILED])
        sending = await s.get(OutboxMessage, ids[OS.SENDING])
        assert failed is not None and sending is not None
        with pytest.raises(IllegalTransition) as caught:
            transition(failed, OS.SENT)
        assert (caught.value.source, caught.value.target) == ("failed", "sent")
        assert failed.status == "failed"
        transition(sending, OS.SENT)
        assert sending.status == "sent" and type(sending.status) is str
    async with sessions() as s, s.begin():
        esc = Escalation(conversation_id=conv_id, disruption_id=1, reason="agent", status=ES.OPEN.value, created_at=NOW)
        s.add(esc)
        await s.flush()
        transition(esc, ES.WITHDRAWN)
        with pytest.raises(IllegalTransition):
            transition(esc, ES.CLAIMED)
        esc_id = esc.id
    after = await _statuses(engine, OUTBOX, [ids[OS.FAILED], ids[OS.SENDING]])
    assert after == {ids[OS.FAILED]: "failed", ids[OS.SENDING]: "sent"}
    assert await _statuses(engine, ESCALATIONS, [esc_id]) == {esc_id: "withdrawn"}


def test_a_new_row_may_only_start_in_its_first_status() -> None:
    class Fresh:
        status: Any = None

    row = Fresh()
    with pytest.raises(IllegalTransition):
        transition(row, OS.SENDING)
    transition(row, OS.PENDING)
    assert row.status == "pending"


# ---- every status the code writes or compares is a member of its enum ----

#: The names that hold each lifecycle's model or table in the code base.
_HOLDERS = {"OutboxMessage": OutboxStatus, "OUTBOX": OutboxStatus, "Escalation": EscalationStatus, "ESCALATIONS": EscalationStatus}
#: Variables that by house naming hold an ORM row of a lifecycle, in modules that import its model.
_ROWS = {"row": ("OutboxMessage", OutboxStatus), "esc": ("Escalation", EscalationStatus)}
#: Attributes carrying a status copied out of a row (the desk's card view).
_COPIES = {"escalation_status": EscalationStatus}
_SCANNED = ("conversations", "consent", "gateway", "channels", "webhooks", "rebooking_core", "infra", "bench")


def _holder(node: ast.AST) -> Any:
    """The enum whose column `node` is: `OutboxMessage.status`, `OUTBOX.c.status`, `card.escalation_status`."""
    if isinstance(node, ast.Attribute) and node.attr == "status":
        base = node.value
        if isinstance(base, ast.Attribute) and base.attr == "c":
            base = base.value
        if isinstance(base, ast.Name):
            return _HOLDERS.get(base.id)
    if isinstance(node, ast.Attribute) and node.attr in _COPIES:
        return _COPIES[node.attr]
    return None


def _strings(node: ast.AST, constants: Mapping[str, ast.AST]) -> list[tuple[int, str]]:
    if isinstance(node, ast.Name) and node.id in constants:
        node = constants[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [(node.lineno, node.value)]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [found for item in node.elts for found in _strings(item, constants)]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, constants) + _strings(node.orelse, constants)
    return []


def _update_target(call: ast.Call) -> Any:
    """For `update(X)….values(...)`, the enum of X's status column."""
    node: ast.AST = call.func
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id == "update" and node.args:
                first = node.args[0]
                return _HOLDERS.get(first.id) if isinstance(first, ast.Name) else None
            node = node.func
        else:
            node = node.value
    return None


def status_writes(source: str) -> Iterator[tuple[int, str, Any]]:
    """(line, value, enum) for each status the module writes to or compares with an outbox or escalation column."""
    tree = ast.parse(source)
    imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    constants = {
        t.id: n.value
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and (enum := _holder(node.left)):
            for comparator in node.comparators:
                yield from ((line, value, enum) for line, value in _strings(comparator, constants))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "in_" and (enum := _holder(node.func.value)):
                for arg in node.args:
                    yield from ((line, value, enum) for line, value in _strings(arg, constants))
            if node.func.attr == "values" and (enum := _update_target(node)):
                for kw in node.keywords:
                    if kw.arg == "status":
                        yield from ((line, value, enum) for line, value in _strings(kw.value, constants))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("OutboxMessage", "Escalation"):
            enum = _HOLDERS[node.func.id]
            for kw in node.keywords:
                if kw.arg == "status":
                    yield from ((line, value, enum) for line, value in _strings(kw.value, constants))
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            enum = None
            if {"status", "idempotency_key"} <= keys:
                enum = OutboxStatus
            elif {"status", "reason", "tier", "conversation_id"} <= keys:
                enum = EscalationStatus
            if enum is not None:
                for k, v in zip(node.keys, node.values, strict=True):
                    if isinstance(k, ast.Constant) and k.value == "status":
                        yield from ((line, value, enum) for line, value in _strings(v, constants))
        if isinstance(node, ast.Assign):
            for target in node.targets:
                pairs = (
                    list(zip(target.elts, node.value.elts, strict=False))
                    if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                    else [(target, node.value)]
                )
                for left, right in pairs:
                    if (
                        isinstance(left, ast.Attribute)
                        and left.attr == "status"
                        and isinstance(left.value, ast.Name)
                        and left.value.id in _ROWS
                        and _ROWS[left.value.id][0] in imported
                    ):
                        enum = _ROWS[left.value.id][1]
                        yield from ((line, value, enum) for line, value in _strings(right, constants))


def _sources() -> Iterator[Path]:
    for package in _SCANNED:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_the_scanner_sees_each_kind_of_write() -> None:
    """It would catch a stray string: each shape the code base uses, spelled wrong."""
    sample = '''
from conversations.models import OutboxMessage, Escalation, OUTBOX
READY = ("pending", "sendng")
q = select(OutboxMessage).where(OutboxMessage.status == "snt", OUTBOX.c.status.in_(READY))
u = update(Escalation).where(Escalation.id == 1).values(status="claimd", agent=a)
row.status = "ded"
row.status = "dead" if temporary else "faild"
esc.status, esc.agent = "withdrawnn", None
rows.append({"idempotency_key": k, "status": "pendng"})
rows.append({"conversation_id": 1, "reason": r, "tier": 0, "status": "opn"})
e = Escalation(status="resolvd")
fine = card.escalation_status == "claimed"
'''
    found = [(value, enum) for _, value, enum in status_writes(sample)]
    assert sorted(value for value, enum in found if value not in list(enum)) == sorted(
        ["sendng", "snt", "claimd", "ded", "faild", "withdrawnn", "pendng", "opn", "resolvd"]
    )


def test_every_status_in_the_code_is_a_member_of_its_lifecycle() -> None:
    strays, seen = [], 0
    for path in _sources():
        for line, value, enum in status_writes(path.read_text(encoding="utf-8")):
            seen += 1
            if value not in list(enum):
                strays.append(f"{path.relative_to(ROOT)}:{line}: {value!r} is not an {enum.__name__}")
    assert strays == []
    assert seen > 5, "the scanner found the code's status strings"


def test_the_partial_index_predicates_name_outbox_statuses() -> None:
    """The partial indexes' status predicates are SQL text, written out for the planner (see OUTBOX_READY); the
    log's index of notices by passenger filters on passenger_id only."""
    predicates = [OUTBOX_READY] + [
        str(index.dialect_options[dialect]["where"])
        for index in OUTBOX.indexes
        for dialect in ("postgresql", "sqlite")
        if index.dialect_options[dialect]["where"] is not None and "status" in str(index.dialect_options[dialect]["where"])
    ]
    assert len(predicates) > 1
    for predicate in predicates:
        listed = re.search(r"status IN \(([^)]*)\)", predicate)
        assert listed is not None, predicate
        assert {v.strip().strip("'") for v in listed.group(1).split(",")} == {OS.PENDING.value, OS.SENDING.value}


@pytest.mark.parametrize(("table", "enum"), [("outbox", OutboxStatus), ("escalations", EscalationStatus)])
def test_erasure_moves_rows_only_along_their_edges(table: str, enum: Any) -> None:
    """consent/ sits below conversations/ and cannot import the enums: its policy is checked against them here."""
    policy = POLICY[table]
    target = enum(policy.clear["status"])
    assert policy.when["status"], "erasure names the statuses it changes"
    for source in policy.when["status"]:
        assert allowed(enum(source), target), (table, source, target)
