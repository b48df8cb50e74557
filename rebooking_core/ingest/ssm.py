"""IATA SSIM chapter 4 Standard Schedules Messages (SSM), NEW actions read into schedule records for import.

    SSM
    UTC                         time mode: UTC, or LT (local times at each station)
    01DEC00007E001/RB SCHED     message reference (optional)
    NEW
    RB391                       flight designator
    01JAN27 31JAN27 1234567     period from, to, days of operation (1 = Monday; /W2: every second week)
    J 320 J12Y162               service type, aircraft type, configuration
    LHR0900 CDG1115             legs: station + time, station + time (/1: next day)
    //                          next sub-message

Only NEW (and RPL, read as the flight as it now is) become records; other actions (CNL, TIM, EQT...)
change flights already imported and belong to ASM (`rebooking_core.ingest.asm`): they are counted as
skipped. Every record is checked as `rebook import schedule` checks a line; an error names the line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from rebooking_core import airports
from rebooking_core.ingest.typeb import (
    UTC,
    Line,
    MalformedMessage,
    configuration,
    ddmmm,
    flight_number,
    hhmm,
    split_messages,
)
from rebooking_core.records import Cabins, ScheduleRecord

HEADERS = ("SSM",)
IMPORTED = frozenset({"NEW", "RPL"})
KNOWN = frozenset({"NEW", "RPL", "CNL", "TIM", "EQT", "RIN", "ADM", "CON", "FLT", "SKD", "ACK", "NAC", "REV"})
#: A period longer than this is a typo (a year written wrong), not a schedule.
MAX_PERIOD_DAYS = 400

_REFERENCE = re.compile(r"^\d{2}[A-Z]{3}\d{5}[EC]\d{3}(/.*)?$")
_FLIGHT = re.compile(r"^(?P<carrier>[A-Z0-9]{2}[A-Z]?)(?P<number>\d{1,4})(?P<suffix>[A-Z])?(?: .*)?$")
_PERIOD = re.compile(r"^(?P<start>\d{2}[A-Z]{3}\d{2}) (?P<end>\d{2}[A-Z]{3}\d{2}) (?P<days>[1-7.0]{1,7})(?:/W(?P<every>[2-9]))?$")
_EQUIPMENT = re.compile(r"^(?P<service>[A-Z]) (?P<type>[A-Z0-9]{3})(?: (?P<config>[A-Z0-9.]+))?$")
_LEG = re.compile(r"^(?P<dep>[A-Z]{3})(?P<std>\d{4})(?:/(?P<dv>\d))? (?P<arr>[A-Z]{3})(?P<sta>\d{4})(?:/(?P<av>\d))?(?: .*)?$")


@dataclass(frozen=True)
class SsmImport:
    """The records to import, the line of the leg each came from, and how many sub-messages were skipped (not NEW or RPL)."""

    records: tuple[ScheduleRecord, ...]
    skipped: int
    lines: tuple[int, ...] = ()


def parse(text: str, *, received: dt.datetime) -> SsmImport:
    records: list[tuple[ScheduleRecord, int]] = []
    skipped = 0
    for message in split_messages(text, HEADERS, received=received):
        lines = list(message.lines[1:])
        if not lines or lines[0].text not in ("UTC", "LT"):
            at = lines[0].number if lines else message.lines[0].number
            raise MalformedMessage(at, "time mode", "expected UTC or LT on the line after SSM")
        local = lines[0].text == "LT"
        lines = lines[1:]
        if lines and _REFERENCE.match(lines[0].text):
            lines = lines[1:]
        action: str | None = None
        for part in _parts(lines, message.lines[0]):
            first = part[0].text.split(" ")[0]
            if first in KNOWN or re.fullmatch(r"[A-Z]{3}", first):
                if first not in KNOWN:
                    raise MalformedMessage(part[0].number, "action", f"unknown action code {first!r} (known: {', '.join(sorted(KNOWN))})")
                action = first
                part = part[1:]
            if action is None:
                raise MalformedMessage(part[0].number if part else message.lines[0].number, "action", "missing action line (NEW, RPL, ...)")
            if action not in IMPORTED:
                skipped += 1
                continue
            records += _records(part, local=local, received=received, header=message.lines[0])
    return SsmImport(tuple(r for r, _ in records), skipped, tuple(n for _, n in records))


def _parts(lines: list[Line], header: Line) -> list[list[Line]]:
    parts: list[list[Line]] = [[]]
    for line in lines:
        if line.text == "//":
            parts.append([])
        else:
            parts[-1].append(line)
    if any(not p for p in parts):
        raise MalformedMessage(header.number, "action", "missing action line (NEW, RPL, ...) or an empty sub-message")
    return parts


def _records(part: list[Line], *, local: bool, received: dt.datetime, header: Line) -> list[tuple[ScheduleRecord, int]]:
    if not part or (found := _FLIGHT.match(part[0].text)) is None:
        at = part[0].number if part else header.number
        raise MalformedMessage(at, "flight", "missing flight line (e.g. RB391)")
    carrier, number = found["carrier"], flight_number(found["number"])
    periods: list[tuple[Line, list[dt.date]]] = []
    aircraft, cabins, legs = "320", None, []
    for line in part[1:]:
        if line.text.startswith("SI"):
            break
        if (p := _PERIOD.match(line.text)) is not None:
            periods.append((line, _dates(line, p, received.date())))
        elif (eq := _EQUIPMENT.match(line.text)) is not None:
            aircraft = eq["type"]
            if not eq["config"]:
                raise MalformedMessage(line.number, "configuration", "the equipment line needs a configuration (J 320 J12Y162)")
            seats = dict(configuration(eq["config"], line, "configuration"))
            cabins = Cabins(Y=seats.get("Y", 0), J=seats.get("J", 0))
        elif _LEG.match(line.text):
            legs.append(line)
        else:
            raise MalformedMessage(line.number, "line", "expected a period (01JAN27 31JAN27 1234567), equipment or leg line")
    if not periods:
        raise MalformedMessage(part[0].number, "period", "missing period line (01JAN27 31JAN27 1234567)")
    if cabins is None:
        raise MalformedMessage(part[0].number, "configuration", "missing equipment line (J 320 J12Y162)")
    if not legs:
        raise MalformedMessage(part[0].number, "leg", "missing leg line (LHR0900 CDG1115)")
    records = []
    for _, dates in periods:
        for date in dates:
            for leg in legs:
                records.append((_record(leg, carrier, number, date, aircraft, cabins, local=local), leg.number))
    return records


def _dates(line: Line, p: re.Match[str], near: dt.date) -> list[dt.date]:
    start = ddmmm(p["start"], line, "period start", near=near)
    end = ddmmm(p["end"], line, "period end", near=near)
    if end < start:
        raise MalformedMessage(line.number, "period end", "ends before it starts")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise MalformedMessage(line.number, "period end", f"a period of more than {MAX_PERIOD_DAYS} days")
    days = {int(d) for d in p["days"] if d in "1234567"}
    every = int(p["every"] or 1)
    found = []
    for offset in range((end - start).days + 1):
        date = start + dt.timedelta(days=offset)
        if date.isoweekday() in days and (offset // 7) % every == 0:
            found.append(date)
    return found


def _record(line: Line, carrier: str, number: str, date: dt.date, aircraft: str, cabins: Cabins, *, local: bool) -> ScheduleRecord:
    leg = _LEG.match(line.text)
    assert leg is not None  # only matched lines get here
    for code in (leg["dep"], leg["arr"]):
        if not airports.exists(code):
            raise MalformedMessage(line.number, "station", f"unknown airport {code}")
    departure = _at(line, leg["dep"], date, leg["std"], leg["dv"], local=local, field="departure")
    arrival = _at(line, leg["arr"], date, leg["sta"], leg["av"], local=local, field="arrival")
    service_date = departure.astimezone(ZoneInfo(airports.get(leg["dep"]).tz)).date()
    try:
        return ScheduleRecord(
            carrier=carrier,
            number=number,
            date=service_date,
            origin=leg["dep"],
            destination=leg["arr"],
            departure=departure,
            arrival=arrival,
            aircraft=aircraft,
            cabins=cabins,
        )
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "leg"
        raise MalformedMessage(line.number, where, str(first["msg"]).removeprefix("Value error, ")) from None


def _at(line: Line, station: str, date: dt.date, time: str, variation: str | None, *, local: bool, field: str) -> dt.datetime:
    day = date + dt.timedelta(days=int(variation or 0))
    zone = ZoneInfo(airports.get(station).tz) if local else UTC
    return dt.datetime.combine(day, hhmm(time, line, field), zone).astimezone(UTC)
