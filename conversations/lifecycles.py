"""Outbox rows and escalations as declared lifecycles: status enums, edge tables as data, guarded writes.

Each lifecycle is a table of edges `(from, cause) -> to`, like the conversation's TRANSITIONS: the
committed diagrams (`docs/outbox.mmd`, `docs/escalation.mmd`) are generated from it, and every write
of a status is checked against it — an ORM row through `transition()`, a Core UPDATE through
`guarded()`/`move()`, whose `WHERE status IN (…)` turns an illegal edge into 0 rows updated.
The column values are the enum values, unchanged from the bare strings used before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import ColumnElement, Update, literal_column
from sqlalchemy.orm import QueryableAttribute


class OutboxStatus(StrEnum):
    """Where one outbox message is on its way to the passenger."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DEAD = "dead"
    CANCELLED = "cancelled"


class EscalationStatus(StrEnum):
    """Where one hand-over to an agent is."""

    OPEN = "open"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


S = TypeVar("S", bound=StrEnum)

#: Status values are written into SQL as literals (see `guard`), so they may hold nothing to escape.
_PLAIN = re.compile(r"[a-z_]+")


class IllegalTransition(ValueError):
    """A write would move a row along an edge its lifecycle does not have."""

    def __init__(self, lifecycle: str, source: str | None, target: str) -> None:
        super().__init__(f"{lifecycle}: no transition {source!r} -> {target!r}")
        self.lifecycle = lifecycle
        self.source = source
        self.target = target


@dataclass(frozen=True, eq=False)
class Lifecycle(Generic[S]):
    """One status column's states and edges; `ends` are the states a row normally rests in."""

    name: str
    initial: S
    edges: Mapping[tuple[S, str], S]
    ends: tuple[S, ...]

    def __post_init__(self) -> None:
        states = type(self.initial)
        for (source, cause), target in self.edges.items():
            if not (isinstance(source, states) and isinstance(target, states)):
                raise TypeError(f"{self.name}: edge {source!r} -{cause}-> {target!r} mixes lifecycles")
            if not cause or any(bad in cause for bad in (":", ";", "-->", "\n")):
                raise ValueError(f"{self.name}: cause {cause!r} cannot label a diagram edge")
        for status in states:
            if not _PLAIN.fullmatch(status.value):
                raise ValueError(f"{self.name}: status {status.value!r} is not a plain lower-case word")

    @property
    def states(self) -> type[S]:
        return type(self.initial)

    def allowed(self, source: S | str | None, target: S) -> bool:
        """True when the table has an edge from `source` to `target` (`None`: a row not yet written)."""
        if source is None:
            return target is self.initial
        return any(s == source and t is target for (s, _), t in self.edges.items())

    def sources(self, target: S) -> frozenset[S]:
        """The statuses from which a move to `target` is legal: what a guarded UPDATE may match."""
        return frozenset(s for (s, _), t in self.edges.items() if t is target)

    def targets(self, source: S) -> frozenset[S]:
        return frozenset(t for (s, _), t in self.edges.items() if s is source)

    def causes(self, source: S, target: S) -> tuple[str, ...]:
        """Why a row may take this edge, in table order (empty when it may not)."""
        return tuple(c for (s, c), t in self.edges.items() if s is source and t is target)

    def mermaid(self) -> str:
        """The state diagram, generated from `edges` (committed as docs/<name>.mmd)."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}: created"]
        lines += [f"    {source} --> {target}: {cause}" for (source, cause), target in self.edges.items()]
        lines += [f"    {end} --> [*]" for end in self.ends]
        return "\n".join(lines) + "\n"


_O = OutboxStatus
OUTBOX_LIFECYCLE = Lifecycle[OutboxStatus](
    "outbox",
    initial=_O.PENDING,
    edges={
        (_O.PENDING, "claimed by a dispatcher"): _O.SENDING,
        (_O.PENDING, "passenger erased"): _O.CANCELLED,
        (_O.SENDING, "handed over"): _O.SENT,
        (_O.SENDING, "lane has no room, released onto it"): _O.PENDING,
        (_O.SENDING, "failed, routed to the next channel"): _O.PENDING,
        (_O.SENDING, "claim lapsed, claimed again"): _O.SENDING,
        (_O.SENDING, "temporary failure, backoff"): _O.PENDING,
        (_O.SENDING, "delivery crashed, attempts left"): _O.PENDING,
        (_O.SENDING, "attempts exhausted"): _O.DEAD,
        (_O.SENDING, "no channel left, last failure temporary"): _O.DEAD,
        (_O.SENDING, "no channel left or no recipient"): _O.FAILED,
        (_O.SENDING, "passenger erased"): _O.CANCELLED,
        (_O.SENT, "receipt failed, next channel"): _O.PENDING,
        (_O.DEAD, "dlq retry"): _O.PENDING,
        (_O.DEAD, "passenger erased"): _O.CANCELLED,
    },
    ends=(_O.SENT, _O.FAILED, _O.CANCELLED),
)

_E = EscalationStatus
ESCALATION_LIFECYCLE = Lifecycle[EscalationStatus](
    "escalation",
    initial=_E.OPEN,
    edges={
        (_E.OPEN, "agent claimed"): _E.CLAIMED,
        (_E.OPEN, "passenger self-served"): _E.WITHDRAWN,
        (_E.CLAIMED, "passenger moved on during the claim"): _E.WITHDRAWN,
        (_E.CLAIMED, "agent handed back"): _E.RESOLVED,
        (_E.OPEN, "passenger erased"): _E.CLOSED,
        (_E.CLAIMED, "passenger erased"): _E.CLOSED,
    },
    ends=(_E.RESOLVED, _E.WITHDRAWN, _E.CLOSED),
)

LIFECYCLES: Mapping[type[StrEnum], Lifecycle[Any]] = {
    OutboxStatus: OUTBOX_LIFECYCLE,
    EscalationStatus: ESCALATION_LIFECYCLE,
}


def lifecycle(status: S) -> Lifecycle[S]:
    """The lifecycle a status belongs to."""
    return cast(Lifecycle[S], LIFECYCLES[type(status)])


def allowed(source: S | str | None, target: S) -> bool:
    """True when a row in `source` may move to `target` (`None`: a row being created)."""
    return lifecycle(target).allowed(source, target)


def sources(target: S) -> frozenset[S]:
    """The statuses from which a move to `target` is legal."""
    return lifecycle(target).sources(target)


# ---- ORM rows ----


class HasStatus(Protocol):
    status: str


def transition(row: HasStatus, to: S) -> None:
    """Set `row.status`, raising IllegalTransition for an edge the lifecycle does not have; use instead of `row.status = …`."""
    life = lifecycle(to)
    current = row.status
    if not life.allowed(current, to):
        raise IllegalTransition(life.name, current, to.value)
    row.status = to.value


# ---- Core statements ----

StatusColumn = ColumnElement[str] | QueryableAttribute[str]


def _legal_sources(to: S, from_: Iterable[S] | None) -> list[S]:
    life = lifecycle(to)
    legal = life.sources(to)
    if from_ is None:
        return sorted(legal)
    wanted = set(from_)
    illegal = sorted(wanted - legal)
    if illegal:
        raise IllegalTransition(life.name, illegal[0].value, to.value)
    return sorted(wanted)


def guard(column: StatusColumn, to: S, *, from_: Iterable[S] | None = None) -> ColumnElement[bool]:
    """`column IN (…)`: the statuses a move to `to` may start from (all legal ones, or those of `from_`).

    Written out as literals, not bound: the same statement then runs with executemany and as a
    prepared statement, and PostgreSQL can match it against partial indexes (see OUTBOX_READY).
    Naming a `from_` the table has no edge from raises IllegalTransition when the statement is built.
    """
    legal = _legal_sources(to, from_)
    return column.in_([literal_column(f"'{s.value}'") for s in legal])


@dataclass(frozen=True)
class Guarded:
    """What a Core UPDATE needs to move a status column: the new value and the condition on the old."""

    values: dict[str, str]
    where: ColumnElement[bool]


def guarded(column: StatusColumn, to: S, *, from_: Iterable[S] | None = None) -> Guarded:
    """The SET and WHERE pieces for a status write: `.where(g.where).values(g.values)`."""
    name = column.key
    if not name:
        raise TypeError(f"{column!r} is not a named column")
    return Guarded({name: to.value}, guard(column, to, from_=from_))


def move(statement: Update, column: StatusColumn, to: S, *, from_: Iterable[S] | None = None) -> Update:
    """`statement` with the status set to `to` where the row's status may legally move there; chain `.values()` for the rest."""
    g = guarded(column, to, from_=from_)
    return statement.where(g.where).values(g.values)
