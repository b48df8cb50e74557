"""Small helpers for the SQL we build: statements whose text repeats, so prepared plans are reused."""

from __future__ import annotations

from collections.abc import Iterable


def padded(ids: Iterable[int]) -> list[int]:
    """Distinct ids padded to a power of two, so an IN query's text (and PostgreSQL's prepared statement) repeats."""
    unique = sorted(set(ids))
    if not unique:
        return unique
    size = 1 << (len(unique) - 1).bit_length()
    return unique + [unique[-1]] * (size - len(unique))
