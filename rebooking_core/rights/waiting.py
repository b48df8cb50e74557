"""Whether a passenger's wait needs a night's stay: the new departure falls on a later local day where they wait."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rebooking_core import airports
from rebooking_core.rights.facts import Incident, Journey, Reroute

__all__ = ["overnight"]


def overnight(journey: Journey, incident: Incident, reroute: Reroute | None) -> bool:
    """A later calendar day at the waiting station (the journey's origin unless the incident names one)."""
    if incident.scheduled_departure is None or reroute is None or reroute.departure is None:
        return False
    try:
        zone = ZoneInfo(airports.get(incident.station or journey.origin).tz)
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        zone = ZoneInfo("UTC")
    return reroute.departure.astimezone(zone).date() > incident.scheduled_departure.astimezone(zone).date()
