"""Shared bounds for what the HTTP API accepts: database-sized ids and strings free of control characters.

Without them an id past int64 reached the database (asyncpg cannot bind it: 500) and a NUL byte
in a key, a message or a reason reached PostgreSQL, which refuses NUL in text (500). Declared
here, the bounds are checked before any query and show in the OpenAPI schema, so clients (and
schemathesis) see them. Lengths stay with each field (`Field(max_length=…)` adds to these).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import StringConstraints

#: Ids are BIGINT on PostgreSQL and 64-bit INTEGER on SQLite; rows start at 1.
ID_MIN = 1
ID_MAX = 2**63 - 1

#: One line of text: no C0 controls (NUL, CR, LF, TAB, ESC…), no DEL, no C1 controls.
LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
#: Free text: line breaks and tabs allowed, every other control character refused.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

Line = Annotated[str, StringConstraints(pattern=LINE_PATTERN)]
Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]

PathId = Annotated[int, Path(ge=ID_MIN, le=ID_MAX, description="a row id (1 to 2^63-1)")]
QueryId = Annotated[int | None, Query(ge=ID_MIN, le=ID_MAX, description="a row id (1 to 2^63-1)")]
