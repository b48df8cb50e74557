"""Flight-status documents, as providers push them to `POST /webhooks/flightstatus/{source}` and a REST API serves them.

One JSON object per flight (a push may carry several under `events`):

    {"id": "evt_81f2",                                   optional: the provider's event id
     "flight": {"carrier": "RB", "number": "391", "date": "2026-12-06"},   date: UTC date of the scheduled departure
     "status": "delayed",                                scheduled | delayed | cancelled | diverted | departed | landed
     "updated_at": "2026-12-06T08:12:00Z",
     "departure": {"scheduled": "…Z", "estimated": "…Z", "actual": null},
     "arrival": {"scheduled": "…Z", "estimated": "…Z", "actual": null},
     "diverted_to": null, "seats": {"Y": 162, "J": 12},
     "delay_codes": [{"code": "93", "minutes": 45}],
     "previous": {"status": "cancelled", "seats": {"Y": 162, "J": 12}}}  optional: what it was before

A status becomes the `FlightUpdate` intake knows: cancelled, diverted, a departure later than the
schedule (a delay), an arrival later than the schedule with the departure on time (an arrival
estimate), back on the schedule (a delay reduced), flying again after a cancellation (a
reinstatement), other seats than before (an equipment change). The provider's event id, or else a
digest of the status with its time, is the message id, so the same status sent again is one update.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind


class Status(StrEnum):
    SCHEDULED = "scheduled"
    DELAYED = "delayed"
    CANCELLED = "cancelled"
    DIVERTED = "diverted"
    DEPARTED = "departed"
    LANDED = "landed"


class MalformedStatus(ValueError):
    """A document that is not a flight status; names the field, never its value."""


@dataclass(frozen=True)
class Previous:
    status: Status | None
    seats: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class FlightStatus:
    flight: FlightRef
    status: Status
    updated_at: dt.datetime
    scheduled_departure: dt.datetime | None = None
    estimated_departure: dt.datetime | None = None
    actual_departure: dt.datetime | None = None
    scheduled_arrival: dt.datetime | None = None
    estimated_arrival: dt.datetime | None = None
    actual_arrival: dt.datetime | None = None
    diverted_to: str | None = None
    seats: tuple[tuple[str, int], ...] = ()
    delay_codes: tuple[tuple[str, int], ...] = ()
    event_id: str | None = None
    previous: Previous | None = None

    @property
    def departure(self) -> dt.datetime | None:
        """When it leaves (left) as best known."""
        return self.actual_departure or self.estimated_departure

    @property
    def fingerprint(self) -> str:
        """What the status says, its time aside: the same status sent again has the same fingerprint."""
        said = (
            self.status.value,
            _iso(self.departure),
            _iso(self.estimated_arrival or self.actual_arrival),
            self.diverted_to,
            self.seats,
        )
        return hashlib.sha256(json.dumps(said).encode()).hexdigest()[:24]

    @property
    def message_id(self) -> str:
        return self.event_id or f"{self.fingerprint}@{self.updated_at.isoformat()}"


#: Later than the schedule by at least this much is a delay; less is on time.
ON_TIME = dt.timedelta(minutes=1)

_CARRIER = re.compile(r"^[A-Z0-9]{2,3}$")
_NUMBER = re.compile(r"^[0-9]{1,4}$")
_AIRPORT = re.compile(r"^[A-Z]{3}$")
_CABIN = re.compile(r"^[A-Z]$")
_CODE = re.compile(r"^[0-9A-Z]{2,3}$")
_EVENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def parse_status(doc: object) -> FlightStatus:
    """One document, or `MalformedStatus` naming the first field that is wrong."""
    if not isinstance(doc, Mapping):
        raise MalformedStatus("a status must be a JSON object")
    flight = _object(doc, "flight", required=True)
    carrier, number = _text(flight, "flight.carrier", _CARRIER), _text(flight, "flight.number", _NUMBER)
    try:
        date = dt.date.fromisoformat(_text(flight, "flight.date", None))
    except ValueError:
        raise MalformedStatus("flight.date: not a date (YYYY-MM-DD)") from None
    try:
        status = Status(_text(doc, "status", None))
    except ValueError:
        raise MalformedStatus(f"status: not one of {', '.join(s.value for s in Status)}") from None
    departure = _object(doc, "departure")
    arrival = _object(doc, "arrival")
    diverted = doc.get("diverted_to")
    if diverted is not None:
        diverted = _text(doc, "diverted_to", _AIRPORT)
    if status is Status.DIVERTED and diverted is None:
        raise MalformedStatus("diverted_to: a diverted flight needs the airport it goes to")
    event_id = doc.get("id")
    if event_id is not None:
        event_id = _text(doc, "id", _EVENT_ID)
    previous_doc = doc.get("previous")
    previous = None
    if previous_doc is not None:
        if not isinstance(previous_doc, Mapping):
            raise MalformedStatus("previous: must be an object")
        raw = previous_doc.get("status")
        try:
            previous = Previous(Status(raw) if raw is not None else None, _seats(previous_doc, "previous.seats"))
        except ValueError:
            raise MalformedStatus("previous.status: not a status") from None
    return FlightStatus(
        flight=FlightRef(carrier, str(int(number)), date),
        status=status,
        updated_at=_time(doc, "updated_at", required=True),  # type: ignore[arg-type]
        scheduled_departure=_time(departure, "departure.scheduled"),
        estimated_departure=_time(departure, "departure.estimated"),
        actual_departure=_time(departure, "departure.actual"),
        scheduled_arrival=_time(arrival, "arrival.scheduled"),
        estimated_arrival=_time(arrival, "arrival.estimated"),
        actual_arrival=_time(arrival, "arrival.actual"),
        diverted_to=diverted,
        seats=_seats(doc, "seats"),
        delay_codes=_codes(doc),
        event_id=event_id,
        previous=previous,
    )


def to_updates(
    current: FlightStatus, *, source: str, previous: Previous | None = None, quiet_when_unknown: bool = False
) -> list[FlightUpdate]:
    """The updates a status means, given what the flight was before (the document's `previous`, else `previous`).

    `quiet_when_unknown`: with nothing known of before, an on-time status says nothing (a poller's first
    look at a flight); a push, sent because something changed, says the flight is back on time.
    """
    before = current.previous or previous
    updates: list[FlightUpdate] = []

    def update(kind: UpdateKind, suffix: str = "", **values: object) -> FlightUpdate:
        return FlightUpdate(
            source=source,
            message_id=current.message_id + suffix,
            flight=current.flight,
            kind=kind,
            issued_at=current.updated_at,
            delay_codes=current.delay_codes,
            reason=current.delay_codes[0][0] if current.delay_codes else None,
            extra=(("status", current.status.value),),
            **values,  # type: ignore[arg-type]
        )

    if before is not None and before.seats and current.seats and dict(before.seats) != dict(current.seats):
        updates.append(update(UpdateKind.EQUIPMENT, "/eqt", capacity=current.seats))
    scheduled, departure = current.scheduled_departure, current.departure
    late = scheduled is not None and departure is not None and departure - scheduled >= ON_TIME
    arrival = current.estimated_arrival or current.actual_arrival
    late_arrival = current.scheduled_arrival is not None and arrival is not None and arrival - current.scheduled_arrival >= ON_TIME
    if current.status is Status.CANCELLED:
        updates.append(update(UpdateKind.CANCELLATION))
    elif current.status is Status.DIVERTED:
        updates.append(update(UpdateKind.DIVERSION, diverted_to=current.diverted_to, new_arrival=arrival))
    elif before is not None and before.status is Status.CANCELLED:
        if late:
            updates.append(update(UpdateKind.REINSTATEMENT, new_departure=departure, new_arrival=arrival))
        else:
            updates.append(update(UpdateKind.REINSTATEMENT))
    elif late:
        updates.append(update(UpdateKind.DELAY, new_departure=departure, new_arrival=arrival))
    elif late_arrival:
        updates.append(update(UpdateKind.ARRIVAL, new_arrival=arrival))
    elif scheduled is not None and (before is not None and before.status is Status.DELAYED or before is None and not quiet_when_unknown):
        updates.append(update(UpdateKind.DELAY_REDUCED, new_departure=scheduled))
    return updates


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _object(doc: Mapping[str, object], name: str, *, required: bool = False) -> Mapping[str, object]:
    value = doc.get(name.rsplit(".", 1)[-1])
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedStatus(f"{name}: must be an object")
    return value


def _text(doc: Mapping[str, object], name: str, pattern: re.Pattern[str] | None) -> str:
    value = doc.get(name.rsplit(".", 1)[-1])
    if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
        raise MalformedStatus(f"{name}: missing or not in the expected form")
    return value


def _time(doc: Mapping[str, object], name: str, *, required: bool = False) -> dt.datetime | None:
    value = doc.get(name.rsplit(".", 1)[-1])
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise MalformedStatus(f"{name}: missing or not an ISO 8601 time")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedStatus(f"{name}: not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise MalformedStatus(f"{name}: a time without a zone (add Z or an offset)")
    return parsed.astimezone(dt.UTC)


def _seats(doc: Mapping[str, object], name: str) -> tuple[tuple[str, int], ...]:
    value = doc.get(name.rsplit(".", 1)[-1])
    if value is None:
        return ()
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and _CABIN.match(k) and isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 999
        for k, v in value.items()
    ):
        raise MalformedStatus(f"{name}: must map cabin letters to seat counts (0-999)")
    return tuple(sorted((str(k), int(v)) for k, v in value.items()))


def _codes(doc: Mapping[str, object]) -> tuple[tuple[str, int], ...]:
    value = doc.get("delay_codes")
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 10:
        raise MalformedStatus("delay_codes: must be a list of at most 10 {code, minutes}")
    codes = []
    for item in value:
        code = item.get("code") if isinstance(item, Mapping) else None
        minutes = item.get("minutes") if isinstance(item, Mapping) else None
        if not isinstance(code, str) or not _CODE.match(code) or not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= 9999:
            raise MalformedStatus("delay_codes: each must be {code: two or three letters or digits, minutes: 0-9999}")
        codes.append((code, minutes))
    return tuple(codes)
