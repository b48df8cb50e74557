"""Builders for the regime tables: a journey leaving at 08:00 UTC, told one day ahead unless a case says otherwise."""

from __future__ import annotations

import datetime as dt

from rebooking_core.rights.facts import CarrierSize, Incident, Journey, Licence, Reroute
from rebooking_core.types import DisruptionKind

DEP = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
D = dt.timedelta(days=1)


def journey(origin: str, destination: str, carrier: Licence = Licence.EU, *via: str, small: bool = False) -> Journey:
    return Journey(origin, destination, carrier, tuple(via), CarrierSize.SMALL if small else CarrierSize.LARGE)


def cancelled(reason: str | None = None, *, notice: dt.timedelta = D, block: dt.timedelta = 3 * H) -> Incident:
    return Incident(DisruptionKind.CANCELLED, reason, DEP + block, notice, DEP)


def delayed(reason: str | None = None, *, block: dt.timedelta = 3 * H) -> Incident:
    return Incident(DisruptionKind.DELAYED, reason, DEP + block, dt.timedelta(0), DEP)


def moved(late: dt.timedelta, *, early: dt.timedelta | None = None, block: dt.timedelta = 3 * H) -> Reroute:
    """Arriving `late` after the original arrival, leaving `early` before the original departure (default: as late)."""
    leaves = DEP - early if early is not None else DEP + late
    return Reroute(arrival=DEP + block + late, departure=leaves)
