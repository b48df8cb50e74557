"""Two-phase booking against a remote PSS: its settings (`REBOOK_PSS_BOOKING__*`) as the pump's policy."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from conversations.pnr_changes.rules import IntentPolicy


class PssBookingSettings(BaseModel):
    """How the worker drives PNR changes to a remote PSS; unused while the built-in SQL store is the PSS."""

    #: Seconds a worker holds a change while it calls the PSS; longer than two calls' timeouts (a status question and a send).
    lease_s: float = Field(default=60.0, gt=0)
    #: Seconds before asking again after no answer (the n-th entry after the n-th attempt; the last repeats).
    retry_s: list[float] = Field(default_factory=lambda: [2.0, 5.0, 15.0, 30.0, 60.0], min_length=1)
    #: Seconds between status questions while the PSS holds a change pending (202).
    poll_s: list[float] = Field(default_factory=lambda: [2.0, 5.0, 10.0, 30.0, 60.0], min_length=1)
    #: After this many attempts, or this many minutes, without a confirmation the desk takes over (`pss_unconfirmed`).
    max_attempts: int = Field(default=20, ge=1)
    give_up_minutes: float = Field(default=30.0, gt=0)
    #: How often the worker looks for changes due; changes claimed per pass; PSS calls in flight at once per worker.
    every_s: float = Field(default=1.0, gt=0)
    batch: int = Field(default=50, ge=1)
    concurrency: int = Field(default=8, ge=1)

    def policy(self) -> IntentPolicy:
        return IntentPolicy(
            lease=dt.timedelta(seconds=self.lease_s),
            retry_s=tuple(self.retry_s),
            poll_s=tuple(self.poll_s),
            max_attempts=self.max_attempts,
            give_up_after=dt.timedelta(minutes=self.give_up_minutes),
        )
