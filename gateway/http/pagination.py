"""Cursor pagination for every list route: `?cursor=&limit=` in, `{"items": [...], "next_cursor": ...}` out.

A cursor is the sort key of the last row a page showed, base64url-encoded JSON: opaque to
clients, stable while rows are added (keyset, not offset: a new row never shifts a page), and
checked on the way in (a cursor that does not decode, or does not fit the list, is a 422
problem). A list route:

    class FlightPage(Page[FlightOut]): ...

    @router.get("/flights", response_model=FlightPage)
    async def list_flights(paging: PageRequest, ...) -> FlightPage:
        query = paging.keyset(select(Flight), Flight.dep_utc, Flight.id)
        rows = list((await s.scalars(query)).all())
        items, next_cursor = paging.cut(rows, lambda f: (f.dep_utc, f.id))
        return FlightPage(items=[...], next_cursor=next_cursor)
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Generic, TypeVar

from fastapi import Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, or_
from sqlalchemy.orm import QueryableAttribute

#: A page holds at most this many items, whatever `limit` asks; without `limit`, DEFAULT_LIMIT.
MAX_LIMIT: Final = 200
DEFAULT_LIMIT: Final = 50
#: A cursor is a few sort-key values: anything longer was not minted here.
MAX_CURSOR: Final = 512
CURSOR_PATTERN: Final = r"^[A-Za-z0-9_-]+$"

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S", bound="Select[*tuple[Any, ...]]")
#: A sort key: a mapped column (`Flight.id`) or an expression (`-Escalation.tier`).
Key = ColumnElement[Any] | QueryableAttribute[Any]


class Page(BaseModel, Generic[T]):
    """One page of a list; subclass it per item type (`class FlightPage(Page[FlightOut])`) for a named schema."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class BadCursor(ValueError):
    """The cursor was not minted by this list."""


def encode(values: Sequence[Any]) -> str:
    """A cursor for a row's sort key (ints, strings, dates and datetimes)."""
    plain = [v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str) -> list[Any]:
    """The sort-key values a cursor holds, as JSON gave them (dates still strings)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadCursor("the cursor is not one this API gave") from exc
    if not isinstance(values, list) or not values or not all(isinstance(v, int | str) and not isinstance(v, bool) for v in values):
        raise BadCursor("the cursor is not one this API gave")
    return values


def _typed(value: Any, column: Key) -> Any:
    """A cursor value as the column's Python type, or BadCursor."""
    sql_type = getattr(column.type, "impl_instance", column.type)  # a TypeDecorator says `object`; its impl knows
    try:
        kind = sql_type.python_type
    except NotImplementedError:
        kind = object
    try:
        if issubclass(kind, dt.datetime):
            parsed = dt.datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError("naive")
            return parsed
        if issubclass(kind, dt.date):
            return dt.date.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise BadCursor("the cursor is not one this API gave") from exc
    if issubclass(kind, int) and (not isinstance(value, int) or not -(2**63) <= value < 2**63):
        raise BadCursor("the cursor is not one this API gave")
    if issubclass(kind, str) and not isinstance(value, str):
        raise BadCursor("the cursor is not one this API gave")
    return value


def _past(columns: Sequence[Key], after: Sequence[Any], *, descending: bool) -> ColumnElement[bool]:
    """Rows after `after` in the order of `columns`, spelt out (a row-value comparison would bind the
    values untyped: a datetime then compares as the wrong text on SQLite)."""
    ways = []
    for i, column in enumerate(columns):
        tied = [c == v for c, v in zip(columns[:i], after[:i], strict=True)]
        beyond = column < after[i] if descending else column > after[i]
        ways.append(and_(*tied, beyond))
    return or_(*ways)


@dataclass(frozen=True)
class Paging:
    """What a list request asked for: where to start (None: the first page) and how many."""

    after: tuple[Any, ...] | None
    limit: int

    def keyset(self, query: S, *columns: Key, descending: bool = False) -> S:
        """`query` ordered by `columns` (unique together, the last usually the id), past the cursor, one row more than a page."""
        ordered = [c.desc() if descending else c.asc() for c in columns]
        query = query.order_by(*ordered).limit(self.limit + 1)
        if self.after is None:
            return query
        if len(self.after) != len(columns):
            raise HTTPException(422, "the cursor is not one this list gave")
        try:
            after = [_typed(v, c) for v, c in zip(self.after, columns, strict=True)]
        except BadCursor as exc:
            raise HTTPException(422, str(exc)) from exc
        return query.where(_past(columns, after, descending=descending))

    def cut(self, rows: Sequence[R], key: Callable[[R], Sequence[Any]]) -> tuple[list[R], str | None]:
        """The page's rows (the extra one dropped) and the cursor to the next page, if there is one."""
        shown = list(rows[: self.limit])
        more = len(rows) > self.limit
        return shown, encode(key(shown[-1])) if more and shown else None


def paging(
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR, pattern=CURSOR_PATTERN, description="`next_cursor` of the page before; omit for the first page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (at most {MAX_LIMIT}).")] = DEFAULT_LIMIT,
) -> Paging:
    """The `cursor` and `limit` query parameters of every list route."""
    if cursor is None:
        return Paging(after=None, limit=limit)
    try:
        return Paging(after=tuple(decode(cursor)), limit=limit)
    except BadCursor as exc:
        raise HTTPException(422, str(exc)) from exc


PageRequest = Annotated[Paging, Depends(paging)]
