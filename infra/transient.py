"""Database errors that mean "run the transaction again", not "something is wrong"."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError


def retryable(exc: DBAPIError) -> bool:
    """PostgreSQL deadlocks and serialization failures: the whole transaction may simply run again."""
    code = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(getattr(exc, "orig", None), "pgcode", None)
    return code in ("40P01", "40001") or "deadlock detected" in str(exc)
