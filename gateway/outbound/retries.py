"""When a failed delivery is tried again, when it is given up, and when an endpoint's circuit opens."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

#: Seconds after each failed attempt (Standard Webhooks' example): 8 attempts over about 27.6 hours.
SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
#: A `Retry-After` is honoured up to this long.
MAX_RETRY_AFTER = dt.timedelta(hours=24)


@dataclass(frozen=True)
class RetryPolicy:
    """The retry schedule with its jitter, and the circuit: `failures` in a row over at least `period` disable an endpoint."""

    schedule: tuple[float, ...] = SCHEDULE
    jitter: float = 0.1
    failures: int = 10
    period: dt.timedelta = dt.timedelta(hours=24)

    def next_attempt(
        self, attempts: int, now: dt.datetime, *, retry_after: float | None = None, rng: random.Random | None = None
    ) -> dt.datetime | None:
        """After `attempts` failed attempts, when to try again; None once the schedule is spent (dead)."""
        if attempts > len(self.schedule):
            return None
        delay = self.schedule[attempts - 1] * (1 + self.jitter * (rng or random).random())
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_AFTER.total_seconds()))
        return now + dt.timedelta(seconds=delay)

    def trips(self, failures: int, failing_since: dt.datetime | None, now: dt.datetime) -> bool:
        """Whether an endpoint failing this often, for this long, is disabled."""
        return failing_since is not None and failures >= self.failures and now - failing_since >= self.period


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` given in seconds (an HTTP date is ignored: the schedule applies)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
