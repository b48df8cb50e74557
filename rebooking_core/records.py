"""One record of each import file (schedule, bookings), validated before anything touches the database."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from rebooking_core import airports

Channel = Literal["whatsapp", "sms", "email", "push", "telegram"]
TierName = Literal["none", "silver", "gold", "platinum"]
CabinCode = Literal["Y", "J"]
SegmentStatusCode = Literal["HK", "HX", "TK", "UN"]

PreferenceKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
PreferenceValue = Annotated[str, Field(min_length=1, max_length=64)]

#: Segment statuses that occupy a seat (and so count towards `inventory.sold`).
SEAT_TAKING_STATUSES: frozenset[str] = frozenset({"HK", "TK"})

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _known_airport(code: str) -> str:
    if not airports.exists(code):
        raise ValueError(f"unknown airport {code}")
    return code


def _flight_number(value: str) -> str:
    number = int(value)
    if number == 0:
        raise ValueError("flight number must be 1-9999")
    return str(number)


Carrier = Annotated[
    str,
    Field(pattern=r"^[A-Z0-9]{2,3}$", description="IATA (2) or ICAO (3) airline designator, uppercase"),
]
FlightNumber = Annotated[
    str,
    Field(pattern=r"^[0-9]{1,4}$", description="1-4 digits; leading zeros are ignored"),
    AfterValidator(_flight_number),
]
AirportCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="IATA airport code known to airportsdata"),
    AfterValidator(_known_airport),
]
ServiceDate = Annotated[dt.date, Field(description="local service date at the origin, YYYY-MM-DD")]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Cabins(_Record):
    """Seats offered per cabin on one flight."""

    Y: int = Field(ge=0, le=999, description="economy seats")
    J: int = Field(ge=0, le=999, description="business seats")


class ScheduleRecord(_Record):
    """One operated flight leg on one local service date."""

    carrier: Carrier
    number: FlightNumber
    date: ServiceDate
    origin: AirportCode
    destination: AirportCode
    departure: AwareDatetime = Field(description="scheduled departure, ISO 8601 with offset or Z")
    arrival: AwareDatetime = Field(description="scheduled arrival, ISO 8601 with offset or Z")
    aircraft: str = Field(default="320", pattern=r"^[A-Z0-9]{3,4}$", description="IATA aircraft type code")
    cabins: Cabins
    status: Literal["scheduled", "removed"] = Field(
        default="scheduled", description="removed: `--mode upsert` deletes the flight (only one no booking has a segment on)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ScheduleRecord:
        if self.origin == self.destination:
            raise ValueError("origin and destination are the same airport")
        if self.arrival <= self.departure:
            raise ValueError("arrival must be after departure")
        if self.arrival - self.departure > dt.timedelta(hours=24):
            raise ValueError("block time over 24 hours")
        local = self.departure.astimezone(ZoneInfo(airports.get(self.origin).tz))
        if local.date() != self.date:
            raise ValueError(f"date {self.date} is not the local departure date at {self.origin} ({local.date()})")
        if self.cabins.Y + self.cabins.J == 0:
            raise ValueError("a flight needs at least one seat")
        return self


class ConsentFlags(_Record):
    """What the passenger agreed to be contacted for on this channel."""

    service: bool = Field(description="operational messages about this booking (legal basis: contract)")
    marketing: bool = Field(description="promotional messages (legal basis: consent)")


class ContactRecord(_Record):
    """One way to reach a passenger; phone channels take E.164 numbers, WhatsApp a BSUID too (or only)."""

    channel: Channel
    address: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="E.164 for sms/whatsapp, e-mail address, push token or Telegram chat id; a whatsapp contact with a bsuid may omit it",
    )
    bsuid: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}\.[A-Za-z0-9]{1,128}$",
        description="whatsapp only: Meta's business-scoped user id, e.g. US.13491208655302741918",
    )
    consent: ConsentFlags
    platform: Literal["ios", "android"] | None = Field(
        default=None, description="push only, required there: ios is sent through APNs, android through FCM"
    )
    app_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$", description="push only: the app's bundle or application id"
    )

    @model_validator(mode="after")
    def _address_fits_channel(self) -> ContactRecord:
        if self.bsuid is not None and self.channel != "whatsapp":
            raise ValueError("bsuid is for whatsapp contacts only")
        if (self.platform is not None or self.app_id is not None) and self.channel != "push":
            raise ValueError("platform and app_id are for push contacts only")
        if self.channel == "push" and self.platform is None:
            raise ValueError("platform is required for a push token (ios or android)")
        if self.address is None:
            if self.bsuid is None:
                raise ValueError("address is required (a whatsapp contact may give a bsuid instead)")
            return self
        if self.channel in ("sms", "whatsapp") and not _E164.match(self.address):
            raise ValueError("address is not an E.164 phone number")
        if self.channel == "email" and not _EMAIL.match(self.address):
            raise ValueError("address is not an e-mail address")
        return self


class PassengerRecord(_Record):
    """A traveller on the booking; the first one is the booking's contact."""

    given_name: str = Field(min_length=1, max_length=64)
    family_name: str = Field(min_length=1, max_length=64)
    tier: TierName = "none"
    language: str = Field(
        pattern=r"^[a-z]{2,3}(-[A-Z]{2}|-[0-9]{3}|-[A-Z][a-z]{3})?$",
        max_length=8,
        description="BCP 47 language tag, e.g. es or pt-BR",
    )
    ssr: str | None = Field(default=None, pattern=r"^[A-Z]{4}$", description="IATA special service request code, e.g. WCHR")
    contacts: list[ContactRecord] = Field(default_factory=list, max_length=5)
    preferred_channels: list[Channel] | None = Field(
        default=None, description="contact order; channels not listed follow in list order"
    )
    loyalty_status: str | None = Field(default=None, min_length=1, max_length=32, description="the loyalty programme's level name, e.g. Senator")
    miles: int | None = Field(default=None, ge=0, le=10**12, description="loyalty miles balance: breaks ties between equal tiers in allocation")
    preferences: dict[PreferenceKey, PreferenceValue] | None = Field(
        default=None,
        max_length=16,
        description="travel preferences ranking can use (docs/loyalty.md): cabin (Y/J), time (morning/afternoon/evening/night), avoid_connection (yes)",
    )

    @model_validator(mode="after")
    def _channels_consistent(self) -> PassengerRecord:
        channels = [c.channel for c in self.contacts]
        if len(set(channels)) != len(channels):
            raise ValueError("contacts: one contact per channel (consent is kept per channel)")
        if self.preferred_channels is not None:
            if len(set(self.preferred_channels)) != len(self.preferred_channels):
                raise ValueError("preferred_channels: a channel is listed twice")
            missing = [c for c in self.preferred_channels if c not in channels]
            if missing:
                raise ValueError(f"preferred_channels: no contact for {', '.join(missing)}")
        return self


class SegmentRecord(_Record):
    """One flight of the booking, found in the schedule by carrier, number and date."""

    carrier: Carrier
    number: FlightNumber
    date: ServiceDate
    cabin: CabinCode = "Y"
    status: SegmentStatusCode = "HK"


class BookingRecord(_Record):
    """One PNR: its passengers travel together on every segment, in travel order."""

    locator: str = Field(pattern=r"^[A-Z0-9]{6}$", description="record locator (PNR)")
    group: str | None = Field(default=None, min_length=1, max_length=64, description="group name, for group bookings")
    version: int | None = Field(
        default=None,
        ge=1,
        le=2**62,
        description="the PSS's version of this PNR; required by `--mode upsert`, where only a newer version changes a booking",
    )
    status: Literal["active", "cancelled"] = Field(
        default="active", description="cancelled: every segment is given up (HX) and its seats go back"
    )
    passengers: list[PassengerRecord] = Field(min_length=1, max_length=9)
    segments: list[SegmentRecord] = Field(min_length=1, max_length=4)

    @model_validator(mode="after")
    def _segments_in_order(self) -> BookingRecord:
        keys = [(s.carrier, s.number, s.date) for s in self.segments]
        if len(set(keys)) != len(keys):
            raise ValueError("segments: the same flight appears twice")
        dates = [s.date for s in self.segments]
        if dates != sorted(dates):
            raise ValueError("segments: not in travel order")
        return self

    def segment_status(self, segment: SegmentRecord) -> str:
        """The status a segment is stored with: a cancelled booking gives up every segment."""
        return "HX" if self.status == "cancelled" else segment.status


SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "schedule.schema.json": ScheduleRecord,
    "booking.schema.json": BookingRecord,
}
SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_text(model: type[BaseModel]) -> str:
    """The committed JSON Schema text of a record model, so a drift shows up as a diff."""
    schema: dict[str, Any] = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(out_dir: Path = SCHEMA_DIR) -> list[Path]:
    """Regenerate the JSON Schemas after a model change (`python -m rebooking_core.records`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMA_FILES.items():
        path = out_dir / name
        path.write_text(schema_text(model), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    write_schemas()
