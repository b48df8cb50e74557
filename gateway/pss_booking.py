"""Two-phase booking against a remote PSS: its settings (`REBOOK_PSS_BOOKING__*`) as the pump's policy."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator

from conversations.pnr_changes.rules import IntentPolicy


class PssBookingSettings(BaseModel):
    """How the worker drives PNR changes to a remote PSS; unused while the built-in SQL store is the PSS."""

    #: Seconds a worker holds a change while it calls the PSS; longer than two calls' timeouts (a status question and a send).
    lease_s: float = Field(default=60.0, gt=0)
    #: Seconds before asking again after no answer, comma-separated (the n-th after the n-th attempt; the last repeats).
    retry_s: str = "2,5,15,30,60"
    #: Seconds between status questions while the PSS holds a change pending (202), likewise.
    poll_s: str = "2,5,10,30,60"
    #: After this many attempts, or this many minutes, without a confirmation the desk takes over (`pss_unconfirmed`).
    max_attempts: int = Field(default=20, ge=1)
    give_up_minutes: float = Field(default=30.0, gt=0)
    #: How often the worker looks for changes due; changes a pass takes at most; PSS calls in flight at once per worker
    #: (a pass claims this many at a time, so a lease covers one round of calls).
    every_s: float = Field(default=1.0, gt=0)
    batch: int = Field(default=50, ge=1)
    concurrency: int = Field(default=8, ge=1)

    @field_validator("retry_s", "poll_s")
    @classmethod
    def _seconds(cls, value: str) -> str:
        """At least one step, each a number of seconds above 0."""
        steps = _steps(value)
        if not steps or any(step <= 0 for step in steps):
            raise ValueError("give one or more seconds above 0, comma-separated (e.g. 2,5,15)")
        return value

    def policy(self) -> IntentPolicy:
        return IntentPolicy(
            lease=dt.timedelta(seconds=self.lease_s),
            retry_s=_steps(self.retry_s),
            poll_s=_steps(self.poll_s),
            max_attempts=self.max_attempts,
            give_up_after=dt.timedelta(minutes=self.give_up_minutes),
        )


def _steps(value: str) -> tuple[float, ...]:
    return tuple(float(part) for part in value.split(",") if part.strip())
