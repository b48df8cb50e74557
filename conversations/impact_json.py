"""An impacted booking to and from JSON: fan-out batches carry impacts through the job queue."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from rebooking_core.impact import ImpactedBooking

#: Field names, and which are times and tuples, read once: a fan-out batch converts 100 impacts.
_IMPACT_FIELDS = tuple(f.name for f in dataclasses.fields(ImpactedBooking))
_IMPACT_TIMES = tuple(f.name for f in dataclasses.fields(ImpactedBooking) if "datetime" in str(f.type))
_IMPACT_TUPLES = tuple(f.name for f in dataclasses.fields(ImpactedBooking) if "tuple" in str(f.type))


def impact_to_json(impacted: ImpactedBooking) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _IMPACT_FIELDS:
        value = getattr(impacted, name)
        if isinstance(value, dt.datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def impact_from_json(data: dict[str, Any]) -> ImpactedBooking:
    # A field the JSON lacks (written before the field existed, e.g. loyalty miles) takes its default.
    values: dict[str, Any] = {name: data[name] for name in _IMPACT_FIELDS if name in data}
    for name in _IMPACT_TIMES:
        if isinstance(value := values.get(name), str):
            values[name] = dt.datetime.fromisoformat(value)
    for name in _IMPACT_TUPLES:
        if isinstance(value := values.get(name), list):
            # Preferences are pairs: hashable again, as the ranking cache's key needs them.
            values[name] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return ImpactedBooking(**values)
