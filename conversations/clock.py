"""What time it is, injected: the engine, timers and tests read one clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """Aware UTC: every stored time compares with every other."""
    return dt.datetime.now(dt.UTC)
