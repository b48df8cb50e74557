"""IATA SSIM chapter 5 Ad hoc Schedule Messages (ASM), read into `FlightUpdate`s.

    ASM
    UTC                         time mode: UTC, or LT (local times at each station)
    06DEC00042E001/RB OCC       message reference (optional): date, group, serial, creator
    CNL                         action (then an optional reason: CNL OPER)
    RB391/07DEC26               flight/date[/date...]
    //                          next sub-message (flight line, or action line then flight line)
    TIM
    RB393/07DEC26
    LHR1630 CDG1845             leg: station + time, station + time (/1: next day)
    //
    EQT
    RB395/08DEC26
    J 320 J12Y144               service type, aircraft type, configuration

Actions: CNL (cancellation), TIM (time change), EQT (equipment: seats per cabin), RIN
(reinstatement), RPL (replace: a time change, plus an equipment change when a configuration is
given); NEW is a new flight (schedule import, not a change: ignored), and ADM, CON, FLT, RRT, RSD,
ACK, NAC are known SSIM actions intake does not act on (ignored). A multi-leg flight takes its first
leg's departure and last leg's arrival. `SI` lines end a sub-message's data. A flight's date is in
the message's time mode: the UTC date of its scheduled departure (UTC), or the local date at its
first station (LT, the schedule's service date).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from rebooking_core import airports
from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind
from rebooking_core.ingest.typeb import (
    UTC,
    Line,
    MalformedMessage,
    Message,
    configuration,
    ddmmm,
    flight_number,
    hhmm,
    split_messages,
)

HEADERS = ("ASM",)
SOURCE = "asm"
ACTIONS = {
    "CNL": UpdateKind.CANCELLATION,
    "TIM": UpdateKind.TIME_CHANGE,
    "EQT": UpdateKind.EQUIPMENT,
    "RIN": UpdateKind.REINSTATEMENT,
    "RPL": UpdateKind.TIME_CHANGE,
}
IGNORED = frozenset({"NEW", "ADM", "CON", "FLT", "RRT", "RSD", "ACK", "NAC", "REV"})

_REFERENCE = re.compile(r"^\d{2}[A-Z]{3}\d{5}[EC]\d{3}(/.*)?$")
_ACTION = re.compile(r"^(?P<action>[A-Z]{3})(?P<more>(/[A-Z]{3})*)(?: (?P<reason>.*))?$")
_FLIGHT = re.compile(r"^(?P<carrier>[A-Z0-9]{2}[A-Z]?)(?P<number>\d{1,4})(?P<suffix>[A-Z])?(?P<dates>(/[0-9A-Z]{5,7})+)$")
_EQUIPMENT = re.compile(r"^(?P<service>[A-Z]) (?P<type>[A-Z0-9]{3})(?: (?P<config>[A-Z0-9.]+))?$")
_LEG = re.compile(
    r"^(?P<dep>[A-Z]{3})(?P<std>\d{4})(?:/(?P<dv>-?\d))? (?P<arr>[A-Z]{3})(?P<sta>\d{4})(?:/(?P<av>-?\d))?(?: .*)?$"
)


@dataclass(frozen=True)
class Leg:
    origin: str
    destination: str
    departure: dt.datetime
    arrival: dt.datetime


@dataclass(frozen=True)
class Change:
    """One flight date of one ASM sub-message."""

    action: str
    reason: str | None
    message_id: str
    issued_at: dt.datetime
    flight: FlightRef
    aircraft: str | None = None
    capacity: tuple[tuple[str, int], ...] = ()
    legs: tuple[Leg, ...] = ()
    supplementary: str | None = None


def read(text: str, *, received: dt.datetime) -> list[Change]:
    """Every flight date of every sub-message in `text` (NEW and the other ignored actions too), or `MalformedMessage`."""
    changes: list[Change] = []
    for message in split_messages(text, HEADERS, received=received):
        changes += _message(message, received=received)
    return changes


def parse(text: str, *, received: dt.datetime, source: str = SOURCE) -> list[FlightUpdate]:
    return [u for change in read(text, received=received) for u in to_updates(change, source=source)]


def to_updates(c: Change, *, source: str = SOURCE) -> list[FlightUpdate]:
    kind = ACTIONS.get(c.action)
    if kind is None:
        return []
    extra = (("action", c.action),) + ((("si", c.supplementary),) if c.supplementary else ())
    departure = c.legs[0].departure if c.legs else None
    arrival = c.legs[-1].arrival if c.legs else None

    def update(kind: UpdateKind, suffix: str, *, times: bool, capacity: tuple[tuple[str, int], ...] = ()) -> FlightUpdate:
        return FlightUpdate(
            source=source,
            message_id=c.message_id + suffix,
            flight=c.flight,
            kind=kind,
            issued_at=c.issued_at,
            new_departure=departure if times else None,
            new_arrival=arrival if times else None,
            capacity=capacity,
            reason=c.reason,
            extra=extra,
        )

    if kind is UpdateKind.EQUIPMENT:
        return [update(kind, "", times=False, capacity=c.capacity)]
    if c.action == "RPL":
        found = [update(kind, "", times=True)] if c.legs else []
        return found + ([update(UpdateKind.EQUIPMENT, "/eqt", times=False, capacity=c.capacity)] if c.capacity else [])
    return [update(kind, "", times=kind is not UpdateKind.CANCELLATION)]


def _message(message: Message, *, received: dt.datetime) -> list[Change]:
    lines = list(message.lines[1:])
    header = message.lines[0]
    if not lines or lines[0].text not in ("UTC", "LT"):
        at = lines[0].number if lines else header.number
        raise MalformedMessage(at, "time mode", "expected UTC or LT on the line after ASM")
    local = lines[0].text == "LT"
    lines = lines[1:]
    if lines and _REFERENCE.match(lines[0].text):
        lines = lines[1:]
    if not lines:
        raise MalformedMessage(header.number, "action", "missing action line (CNL, TIM, EQT, RIN, RPL, NEW)")
    issued = message.issued_at(received)
    base_id = message.message_id
    changes: list[Change] = []
    action: tuple[str, str | None] | None = None
    for index, part in enumerate(_sub_messages(lines, header)):
        if _FLIGHT.match(part[0].text) is None:
            action = _action(part[0])
            part = part[1:]
        if action is None:
            raise MalformedMessage(part[0].number if part else header.number, "action", "missing action line (CNL, TIM, EQT, RIN, RPL, NEW)")
        if not part:
            raise MalformedMessage(header.number, "flight", "missing flight line (e.g. RB391/07DEC26)")
        sub_id = f"{base_id}/{index}"
        changes += _changes(action, part, issued=issued, local=local, message_id=sub_id)
    return changes


def _sub_messages(lines: list[Line], header: Line) -> list[list[Line]]:
    parts: list[list[Line]] = [[]]
    for line in lines:
        if line.text != "//":
            parts[-1].append(line)
        elif not parts[-1]:
            raise MalformedMessage(line.number, "flight", "an empty sub-message (nothing before this //)")
        else:
            parts.append([])
    if not parts[-1]:
        raise MalformedMessage(lines[-1].number, "flight", "an empty sub-message (nothing after the last //)")
    return parts


def _action(line: Line) -> tuple[str, str | None]:
    found = _ACTION.match(line.text)
    if found is None:
        raise MalformedMessage(line.number, "action", "expected an action code such as CNL, TIM, EQT, RIN or RPL")
    code = found["action"]
    if code not in ACTIONS and code not in IGNORED:
        known = ", ".join(sorted({*ACTIONS, *IGNORED}))
        raise MalformedMessage(line.number, "action", f"unknown action code {code!r} (known: {known})")
    reason = (found["reason"] or "").split(" ")[0] or None
    return code, reason[:8] if reason else None


def _changes(action: tuple[str, str | None], part: list[Line], *, issued: dt.datetime, local: bool, message_id: str) -> list[Change]:
    code, reason = action
    flight_line = part[0]
    found = _FLIGHT.match(flight_line.text)
    if found is None and (_LEG.match(flight_line.text) or _EQUIPMENT.match(flight_line.text)):
        raise MalformedMessage(flight_line.number, "flight", "missing flight line (e.g. RB391/07DEC26) before this line")
    if found is None:
        raise MalformedMessage(flight_line.number, "flight", "expected flight/date, e.g. RB391/07DEC26")
    dates = [ddmmm(d, flight_line, "flight date", near=issued.date()) for d in found["dates"].strip("/").split("/")]
    aircraft: str | None = None
    capacity: tuple[tuple[str, int], ...] = ()
    leg_lines: list[Line] = []
    si: list[str] = []
    for line in part[1:]:
        if si or line.text.startswith("SI ") or line.text == "SI":
            si.append(line.text.removeprefix("SI").strip())
        elif (eq := _EQUIPMENT.match(line.text)) is not None:
            aircraft = eq["type"]
            if eq["config"]:
                capacity = configuration(eq["config"], line, "configuration")
        elif _LEG.match(line.text):
            leg_lines.append(line)
        elif code in IGNORED:
            continue
        else:
            raise MalformedMessage(line.number, "leg", "expected an equipment line (J 320 J12Y144) or a leg (LHR1630 CDG1845)")
    carrier, number = found["carrier"], flight_number(found["number"])
    if code in IGNORED:
        return [
            Change(code, reason, message_id + (f"/{d.isoformat()}" if len(dates) > 1 else ""), issued, FlightRef(carrier, number, d, local))
            for d in dates
        ]
    if code in ("TIM", "RPL") and not leg_lines:
        raise MalformedMessage(flight_line.number, "leg", f"{code} needs at least one leg line (LHR1630 CDG1845)")
    if code == "EQT" and not capacity:
        raise MalformedMessage(flight_line.number, "configuration", "EQT needs an equipment line with a configuration (J 320 J12Y144)")
    changes = []
    for date in dates:
        legs = tuple(_leg(line, date, local=local) for line in leg_lines)
        changes.append(
            Change(
                action=code,
                reason=reason,
                message_id=message_id + (f"/{date.isoformat()}" if len(dates) > 1 else ""),
                issued_at=issued,
                flight=FlightRef(carrier, number, date, local),
                aircraft=aircraft,
                capacity=capacity,
                legs=legs,
                supplementary=" ".join(si)[:200] or None,
            )
        )
    return changes


def _leg(line: Line, date: dt.date, *, local: bool) -> Leg:
    found = _LEG.match(line.text)
    assert found is not None  # only matched lines get here
    departure = _at(line, found["dep"], date, found["std"], found["dv"], local=local, field="departure")
    arrival = _at(line, found["arr"], date, found["sta"], found["av"], local=local, field="arrival")
    if arrival <= departure:
        raise MalformedMessage(line.number, "arrival", "arrives before it departs (add /1 for the next day)")
    return Leg(found["dep"], found["arr"], departure, arrival)


def _at(line: Line, station: str, date: dt.date, time: str, variation: str | None, *, local: bool, field: str) -> dt.datetime:
    day = date + dt.timedelta(days=int(variation or 0))
    if not local:
        return dt.datetime.combine(day, hhmm(time, line, field), UTC)
    if not airports.exists(station):
        raise MalformedMessage(line.number, field, f"unknown airport {station} (needed to read local times)")
    zone = ZoneInfo(airports.get(station).tz)
    return dt.datetime.combine(day, hhmm(time, line, field), zone).astimezone(UTC)
