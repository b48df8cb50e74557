"""The port the engine reports metrics and spans through, so it never imports Prometheus or OpenTelemetry."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import OrderedDict
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.outbox.ports import Telemetry
from rebooking_core.models import Disruption


class NoTelemetry:
    """The default: reports nothing, costs nothing."""

    def span(self, name: str, *, parent: str | None = None, **attributes: str | int) -> AbstractContextManager[None]:
        return contextlib.nullcontext()

    def sent(self, *, channel: str, provider: str, outcome: str) -> None:
        return None

    def first_handover(self, *, channel: str, seconds: float) -> None:
        return None

    def receipt(self, *, channel: str, provider: str, state: str, seconds: float) -> None:
        return None

    def booking(self, *, outcome: str, seconds: float | None) -> None:
        return None

    def escalated(self, *, tier: int, reason: str, count: int = 1) -> None:
        return None

    def unknown_sender(self, *, channel: str, provider: str, by: str) -> None:
        return None


NO_TELEMETRY: Telemetry = NoTelemetry()


@dataclass(frozen=True)
class Origin:
    """When a disruption was recorded and the trace it started: what KPIs and spans are measured from."""

    created_at: dt.datetime
    trace_context: str | None


class Origins:
    """A per-process cache of disruption origins; neither value changes once the disruption's job runs."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._cache: OrderedDict[int, Origin] = OrderedDict()

    async def get(self, s: AsyncSession, disruption_id: int) -> Origin | None:
        found = self._cache.get(disruption_id)
        if found is not None:
            self._cache.move_to_end(disruption_id)
            return found
        row = (
            await s.execute(select(Disruption.created_at, Disruption.trace_context).where(Disruption.id == disruption_id))
        ).first()
        if row is None:
            return None
        origin = Origin(created_at=row[0], trace_context=row[1])
        self._cache[disruption_id] = origin
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return origin


def since(origin: Origin | None, now: dt.datetime) -> float | None:
    """Seconds from the disruption's recording to `now`, or None when it is unknown."""
    return None if origin is None else max((now - origin.created_at).total_seconds(), 0.0)


def trace_of(origin: Origin | None) -> str | None:
    """The disruption's traceparent, the parent of spans that run outside its jobs."""
    return None if origin is None else origin.trace_context
