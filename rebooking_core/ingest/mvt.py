"""IATA AHM 780 movement messages (MVT, MVA) and AHM 781 diversions (DIV), read into `FlightUpdate`s.

    MVT                         header (MVA: aircraft-initiated; `MVT COR`: a correction)
    RB391/06.GREBA.LHR          flight/day of month.registration.station (registration optional)
    ED061130                    estimated off-blocks, DDHHMM
    DL93/0045                   delay codes and their minutes (two codes: DL72/93/0020/0025)
    SI CONNECTING CREW LATE     supplementary information, to the end of the message

Movement lines: `AD` off-blocks/airborne (`AD0945/0958 EA1130 CDG`), `AA` touchdown/on-blocks,
`ED` estimated departure, `EA` estimated arrival (`EA1130 CDG`), `NI` next information (DDHHMM);
`EO`, `EB`, `RR`, `FR` are known and left alone. All times are UTC; HHMM is on the flight's day, DDHHMM
on the nearest day of that number. `PX` (passengers on board) is accepted and not used.

The flight line's day is the UTC day of the scheduled departure (intake finds the flight by the UTC
date of its scheduled departure, whatever its local service date).

What reaches intake: ED and NI are delays (NI: the flight leaves no earlier than the next
information); AD is a delay when it carries delay codes; an EA without a new departure (alone, or
on an AD without delay codes) is an arrival estimate, which intake judges against the schedule (a
late arrival breaks connections; on time changes nothing); AA says nothing intake acts on. A DIV
message's EA station is where the flight goes instead (its AA, when given, the time it landed there).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rebooking_core.flight_updates import FlightRef, FlightUpdate, UpdateKind
from rebooking_core.ingest.typeb import (
    Line,
    MalformedMessage,
    Message,
    day_time,
    flight_number,
    near_day,
    split_messages,
)

HEADERS = ("MVT", "MVA", "DIV")
SOURCE = "mvt"
#: Free supplementary information kept per update (it is ops text, never shown to passengers).
MAX_SI = 200

_FLIGHT = re.compile(
    r"^(?P<carrier>[A-Z0-9]{2}[A-Z]?)(?P<number>\d{1,4})(?P<suffix>[A-Z])?/(?P<day>\d{2})"
    r"(?:\.(?P<reg>[A-Z0-9-]{2,10}))?\.(?P<station>[A-Z]{3})$"
)
_T = r"\d{6}|\d{4}"
_AD = re.compile(rf"^AD(?P<off>{_T})(?:/(?P<air>{_T}))?(?: EA(?P<ea>{_T}) (?P<dest>[A-Z]{{3}}))?$")
_AA = re.compile(rf"^AA(?P<down>{_T})(?:/(?P<on>{_T}))?$")
_ED = re.compile(r"^ED(?P<time>\d{6})$")
_NI = re.compile(r"^NI(?P<time>\d{6})$")
_EA = re.compile(rf"^EA(?P<time>{_T})(?: (?P<dest>[A-Z]{{3}}))?$")
_DL = re.compile(r"^DL(?P<body>[0-9A-Z/]+)$")
_PX = re.compile(r"^PX\d{1,3}(/\d{1,3})*$")
_CODE = re.compile(r"^(\d{2}[A-Z]?|[A-Z]{2})$")
_MINUTES = re.compile(r"^\d{4}$")
#: Movement codes AHM 780 knows that say nothing intake acts on.
KNOWN_UNUSED = ("EO", "EB", "RR", "FR")


@dataclass(frozen=True)
class Movement:
    """What one MVT/DIV says, read but not yet judged."""

    kind: str
    message_id: str
    issued_at: dt.datetime
    flight: FlightRef
    station: str
    registration: str | None
    correction: bool
    off_blocks: dt.datetime | None = None
    airborne: dt.datetime | None = None
    touchdown: dt.datetime | None = None
    on_blocks: dt.datetime | None = None
    estimated_departure: dt.datetime | None = None
    estimated_arrival: dt.datetime | None = None
    arrival_station: str | None = None
    next_information: dt.datetime | None = None
    delay_codes: tuple[tuple[str, int], ...] = ()
    supplementary: str | None = None


def read(text: str, *, received: dt.datetime) -> list[Movement]:
    """Every message in `text`, or `MalformedMessage` naming the first bad line and field."""
    return [_movement(m, received=received) for m in split_messages(text, HEADERS, received=received)]


def parse(text: str, *, received: dt.datetime, source: str = SOURCE) -> list[FlightUpdate]:
    """The updates the messages in `text` give (a message that changes nothing gives none)."""
    return [u for m in read(text, received=received) if (u := to_update(m, source=source)) is not None]


def to_update(m: Movement, *, source: str = SOURCE) -> FlightUpdate | None:
    if m.kind == "DIV":
        return _update(m, source, UpdateKind.DIVERSION, None, m.on_blocks or m.touchdown or m.estimated_arrival)
    if m.estimated_departure is not None:
        return _update(m, source, UpdateKind.DELAY, m.estimated_departure, m.estimated_arrival)
    if m.next_information is not None:
        return _update(m, source, UpdateKind.DELAY, m.next_information, m.estimated_arrival, ("next_information", "true"))
    if m.off_blocks is not None and m.delay_codes:
        return _update(m, source, UpdateKind.DELAY, m.off_blocks, m.estimated_arrival)
    if m.estimated_arrival is not None:
        return _update(m, source, UpdateKind.ARRIVAL, None, m.estimated_arrival)
    return None


def _update(
    m: Movement,
    source: str,
    kind: UpdateKind,
    departure: dt.datetime | None,
    arrival: dt.datetime | None,
    *more: tuple[str, str],
) -> FlightUpdate:
    extra: list[tuple[str, str]] = [("station", m.station)]
    if m.correction:
        extra.append(("correction", "true"))
    if m.supplementary:
        extra.append(("si", m.supplementary))
    return FlightUpdate(
        source=source,
        message_id=m.message_id,
        flight=m.flight,
        kind=kind,
        issued_at=m.issued_at,
        new_departure=departure,
        new_arrival=arrival,
        diverted_to=m.arrival_station if kind is UpdateKind.DIVERSION else None,
        delay_codes=m.delay_codes,
        reason=m.delay_codes[0][0] if m.delay_codes else None,
        extra=(*extra, *more),
    )


def _movement(message: Message, *, received: dt.datetime) -> Movement:
    header = message.lines[0]
    kind = header.text.split(" ")[0]
    correction = header.text.endswith(" COR")
    lines = list(message.lines[1:])
    if lines and lines[0].text == "COR":
        correction = True
        lines = lines[1:]
    if not lines:
        raise MalformedMessage(header.number, "flight", "missing flight line (e.g. RB391/06.GREBA.LHR)")
    flight_line = lines[0]
    found = _FLIGHT.match(flight_line.text)
    if found is None and flight_line.text[:2] in (*_FORMS, *KNOWN_UNUSED, "DL", "PX", "SI"):
        raise MalformedMessage(flight_line.number, "flight", "missing flight line (e.g. RB391/06.GREBA.LHR) before this line")
    if found is None:
        raise MalformedMessage(flight_line.number, "flight", "expected flight/day.registration.station, e.g. RB391/06.GREBA.LHR")
    issued = message.issued_at(received)
    date = near_day(int(found["day"]), issued.date(), flight_line, "flight date")
    values: dict[str, object] = {}
    codes: list[str] = []
    minutes: list[int] = []
    si: list[str] = []
    for line in lines[1:]:
        if si:
            si.append(line.text)
        elif line.text.startswith("SI"):
            si.append(line.text[2:].strip())
        elif line.text.startswith("DL"):
            more_codes, more_minutes = _delays(line)
            codes += more_codes
            minutes += more_minutes
        else:
            _movement_line(line, date, values)
    if kind == "DIV" and not values.get("arrival_station"):
        raise MalformedMessage(flight_line.number, "diversion", "a DIV message needs an EA line naming the station (EA1430 MAN)")
    if minutes and len(minutes) != len(codes):
        raise MalformedMessage(flight_line.number, "delay", f"{len(codes)} delay codes but {len(minutes)} delay times")
    delay_codes = tuple((code, minutes[i] if minutes else 0) for i, code in enumerate(codes))
    text = " ".join(si)[:MAX_SI] or None
    return Movement(
        kind=kind,
        message_id=message.message_id,
        issued_at=issued,
        flight=FlightRef(found["carrier"], flight_number(found["number"]), date),
        station=found["station"],
        registration=found["reg"],
        correction=correction,
        delay_codes=delay_codes,
        supplementary=text,
        **values,  # type: ignore[arg-type]
    )


def _after(time: dt.datetime, floor: object) -> dt.datetime:
    """An HHMM that reads earlier than the time it follows is on the next day."""
    if isinstance(floor, dt.datetime) and time < floor:
        return time + dt.timedelta(days=1)
    return time


def _movement_line(line: Line, date: dt.date, values: dict[str, object]) -> None:
    text = line.text
    if (m := _AD.match(text)) is not None:
        off = day_time(line, m["off"], "off-blocks", on=date)
        values["off_blocks"] = off
        if m["air"]:
            values["airborne"] = _after(day_time(line, m["air"], "airborne", on=date), off)
        if m["ea"]:
            values["estimated_arrival"] = _after(day_time(line, m["ea"], "estimated arrival", on=date), off)
            values["arrival_station"] = m["dest"]
    elif (m := _AA.match(text)) is not None:
        down = day_time(line, m["down"], "touchdown", on=date)
        values["touchdown"] = down
        if m["on"]:
            values["on_blocks"] = _after(day_time(line, m["on"], "on-blocks", on=date), down)
    elif (m := _ED.match(text)) is not None:
        values["estimated_departure"] = day_time(line, m["time"], "estimated departure", on=date)
    elif (m := _NI.match(text)) is not None:
        values["next_information"] = day_time(line, m["time"], "next information", on=date)
    elif (m := _EA.match(text)) is not None:
        floor = values.get("off_blocks") or values.get("estimated_departure")
        values["estimated_arrival"] = _after(day_time(line, m["time"], "estimated arrival", on=date), floor)
        if m["dest"]:
            values["arrival_station"] = m["dest"]
    elif _PX.match(text) or text[:2] in KNOWN_UNUSED:
        return
    elif text[:2] in ("AD", "AA", "ED", "EA", "NI"):
        raise MalformedMessage(line.number, text[:2], _FORMS[text[:2]])
    else:
        raise MalformedMessage(line.number, "movement", f"unknown action code {text[:2]!r} (AD, AA, ED, EA, NI, DL, PX, SI)")


_FORMS = {
    "AD": "expected ADhhmm[/hhmm][ EAhhmm STA], e.g. AD0945/0958 EA1130 CDG",
    "AA": "expected AAhhmm[/hhmm], e.g. AA1122/1130",
    "ED": "expected EDddhhmm, e.g. ED061130",
    "EA": "expected EAhhmm[ STA], e.g. EA1310 CDG",
    "NI": "expected NIddhhmm, e.g. NI061200",
}


def _delays(line: Line) -> tuple[list[str], list[int]]:
    """`DL93`, `DL93/0045`, `DL72/93/0020/0025`: codes first, then as many HHMM durations."""
    found = _DL.match(line.text)
    parts = found["body"].split("/") if found else []
    codes = [p for p in parts if _CODE.match(p)]
    times = [p for p in parts if _MINUTES.match(p)]
    if not parts or not codes or len(codes) + len(times) != len(parts) or parts[: len(codes)] != codes or len(codes) > 2:
        raise MalformedMessage(line.number, "delay", "expected DLcc[/cc][/hhmm[/hhmm]], e.g. DL72/93/0020/0025")
    minutes = []
    for t in times:
        hours, mins = int(t[:2]), int(t[2:])
        if mins > 59:
            raise MalformedMessage(line.number, "delay", f"{t} is not a duration (HHMM)")
        minutes.append(hours * 60 + mins)
    return codes, minutes
