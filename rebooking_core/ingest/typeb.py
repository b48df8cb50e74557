"""Type B message text as MVT, ASM and SSM share it: numbered lines, the envelope, split messages, dates, errors.

A Type B message may arrive with its envelope: a priority and address line (`QU LHRKLRB`) and an
origin line (`.HDQORRB 061012`, sender and day/hour/minute of sending, UTC). The origin time is the
message's `issued_at`; without an envelope the time it was received stands in. Several messages may
follow one another in one text; `NNNN` and `=` lines end one, blank lines are ignored.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

UTC = dt.UTC
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
#: Text longer than this per line is no teletype line (Type B lines are at most 69 characters).
MAX_LINE = 200

_ADDRESS = re.compile(r"^Q[A-Z](\s+[A-Z0-9]{7})+$")
_ORIGIN = re.compile(r"^\.(?P<sender>[A-Z0-9]{7})\s+(?P<time>\d{6})(\s.*)?$")
_END = frozenset({"NNNN", "="})


class MalformedMessage(ValueError):
    """A message that cannot be read: which line (1-based, in the whole text), which field, why."""

    def __init__(self, line: int, field: str, detail: str) -> None:
        super().__init__(f"line {line}: {field}: {detail}")
        self.line = line
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class Line:
    number: int
    text: str


@dataclass(frozen=True)
class Envelope:
    sender: str | None
    sent_at: dt.datetime | None


@dataclass(frozen=True)
class Message:
    """One message's lines (header first), its envelope, and an id derived from what it says."""

    lines: tuple[Line, ...]
    envelope: Envelope

    @property
    def message_id(self) -> str:
        """The same text (sender and sending time included, addresses not) always gets the same id."""
        digest = hashlib.sha256()
        if self.envelope.sender:
            digest.update(self.envelope.sender.encode())
        if self.envelope.sent_at:
            digest.update(self.envelope.sent_at.isoformat().encode())
        for line in self.lines:
            digest.update(b"\n" + line.text.encode())
        return digest.hexdigest()[:24]

    def issued_at(self, received: dt.datetime) -> dt.datetime:
        return self.envelope.sent_at or received


def numbered(text: str) -> list[Line]:
    """Stripped, upper-cased lines with their 1-based numbers; blank lines dropped, control characters refused."""
    lines = []
    for n, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if len(stripped) > MAX_LINE:
            raise MalformedMessage(n, "line", f"longer than {MAX_LINE} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in stripped):
            raise MalformedMessage(n, "line", "holds a control character")
        lines.append(Line(n, re.sub(r"\s+", " ", stripped.upper())))
    return lines


def split_messages(text: str, headers: Iterable[str], *, received: dt.datetime) -> list[Message]:
    """The messages in `text`, each starting with one of `headers` (after an optional envelope)."""
    heads = frozenset(headers)
    messages: list[Message] = []
    current: list[Line] = []
    envelope = Envelope(None, None)
    pending = Envelope(None, None)

    def close() -> None:
        nonlocal current, envelope
        if current:
            messages.append(Message(tuple(current), envelope))
        current = []
        envelope = Envelope(None, None)

    for line in numbered(text):
        if line.text in _END:
            close()
            continue
        if _ADDRESS.match(line.text):
            # A new envelope starts the next message even when the last one was not ended by NNNN.
            close()
            continue
        origin = _ORIGIN.match(line.text)
        if origin:
            close()
            pending = Envelope(origin["sender"], _day_time(line, origin["time"], "origin", near=received.date()))
            continue
        if line.text in heads or line.text.removesuffix(" COR") in heads:
            close()
            envelope = pending
            pending = Envelope(None, None)
            current = [line]
            continue
        if not current:
            raise MalformedMessage(line.number, "header", f"expected a message starting with {' or '.join(sorted(heads))}")
        current.append(line)
    close()
    if not messages:
        raise MalformedMessage(1, "header", f"no message starting with {' or '.join(sorted(heads))}")
    return messages


def near_day(day: int, ref: dt.date, line: Line, field: str) -> dt.date:
    """The date with this day of the month nearest to `ref` (previous, same or next month)."""
    if not 1 <= day <= 31:
        raise MalformedMessage(line.number, field, f"day {day:02d} is not a day of the month")
    candidates = []
    for shift in (-1, 0, 1):
        month0 = ref.month - 1 + shift
        year, month = ref.year + month0 // 12, month0 % 12 + 1
        if day <= calendar.monthrange(year, month)[1]:
            candidates.append(dt.date(year, month, day))
    if not candidates:
        raise MalformedMessage(line.number, field, f"day {day:02d} does not exist near {ref.isoformat()}")
    return min(candidates, key=lambda d: abs((d - ref).days))


def hhmm(value: str, line: Line, field: str) -> dt.time:
    hour, minute = int(value[:2]), int(value[2:4])
    if hour > 23 or minute > 59:
        raise MalformedMessage(line.number, field, f"{value} is not a time (HHMM, 0000-2359)")
    return dt.time(hour, minute)


def _day_time(line: Line, value: str, field: str, *, near: dt.date) -> dt.datetime:
    """DDHHMM near a date, as UTC."""
    day = near_day(int(value[:2]), near, line, field)
    return dt.datetime.combine(day, hhmm(value[2:], line, field), UTC)


def day_time(line: Line, value: str, field: str, *, on: dt.date) -> dt.datetime:
    """HHMM on `on`, or DDHHMM on the day of that number nearest to `on`, as UTC."""
    if len(value) == 4:
        return dt.datetime.combine(on, hhmm(value, line, field), UTC)
    return _day_time(line, value, field, near=on)


def ddmmm(value: str, line: Line, field: str, *, near: dt.date) -> dt.date:
    """`14MAR26` or `14MAR` (the year that puts it nearest to `near`)."""
    match = re.fullmatch(r"(\d{2})([A-Z]{3})(\d{2})?", value)
    if match is None or match[2] not in MONTHS:
        raise MalformedMessage(line.number, field, f"{value!r} is not a date (DDMMM or DDMMMYY, e.g. 14MAR26)")
    day, month = int(match[1]), MONTHS.index(match[2]) + 1
    years = [2000 + int(match[3])] if match[3] else [near.year - 1, near.year, near.year + 1]
    found = []
    for year in years:
        try:
            found.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not found:
        raise MalformedMessage(line.number, field, f"{value!r} is not a date: {match[2]} has no day {day}")
    return min(found, key=lambda d: abs((d - near).days))


#: Compartment codes of an aircraft configuration, as the inventory's cabins (business and economy).
CABINS = {"F": "J", "C": "J", "J": "J", "W": "Y", "Y": "Y", "M": "Y"}


def configuration(value: str, line: Line, field: str) -> tuple[tuple[str, int], ...]:
    """`C12Y162` (or `J12Y162.VV320`): seats per cabin, first class and business counted as J."""
    seats: dict[str, int] = {}
    body = value.split(".")[0]
    parts = re.findall(r"([A-Z])(\d{1,3})", body)
    if not parts or "".join(a + b for a, b in parts) != body:
        raise MalformedMessage(line.number, field, f"{value!r} is not a configuration (e.g. C12Y162)")
    for compartment, count in parts:
        cabin = CABINS.get(compartment)
        if cabin is None:
            raise MalformedMessage(line.number, field, f"compartment {compartment} is not one of {''.join(sorted(CABINS))}")
        seats[cabin] = seats.get(cabin, 0) + int(count)
    return tuple(sorted(seats.items()))


def flight_number(value: str) -> str:
    """`0391` and `391` are the same flight."""
    return str(int(value))
