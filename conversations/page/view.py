"""What the passenger page shows, read from the database and localized; the template only lays it out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from consent.models import ConsentState
from conversations.engine import Status
from conversations.models import Conversation
from conversations.page.care_view import VoucherView, care_vouchers
from conversations.page.models import PageLink
from locales.formatting import format_date, format_datetime, format_money, format_time
from rebooking_core import airports
from rebooking_core.models import (
    Booking,
    ContactPoint,
    Disruption,
    Flight,
    Offer,
    OfferOption,
    SeatHold,
)

#: Cabin codes with a catalog name; any other code is shown as it is.
CABINS = {"F": "page.cabin_first", "J": "page.cabin_business", "W": "page.cabin_premium", "Y": "page.cabin_economy"}
#: States in which the passenger may still choose an option themselves (the engine books from these).
CHOOSING = (Status.OFFERED, Status.ESCALATED)
#: Channels a passenger can set on the page, in the order they are listed.
CHANNELS = ("whatsapp", "sms", "email", "push", "telegram")


@dataclass(frozen=True)
class Leg:
    flight: str
    origin: str
    origin_code: str
    dep: str
    destination: str
    destination_code: str
    arr: str


@dataclass(frozen=True)
class OptionView:
    id: int
    number: int
    legs: tuple[Leg, ...]
    stops: int
    cabin: str
    seat_held: bool
    compensation: str | None


@dataclass(frozen=True)
class ChannelChoice:
    channel: str
    granted: bool
    preferred: bool


@dataclass(frozen=True)
class PageView:
    locale: str
    status: Status
    flight: str
    origin: str
    destination: str
    date: str
    disruption_kind: str
    new_time: str | None
    options: tuple[OptionView, ...]
    hold_until: str | None
    booked: OptionView | None
    locator: str
    channels: tuple[ChannelChoice, ...]
    #: Meal, hotel and transfer vouchers issued while the passenger waits (conversations/care_sweep.py).
    care: tuple[VoucherView, ...] = ()
    #: Booked, and still free to choose again (docs/protect-first.md): a protection's other options, or fresh ones.
    alternatives: tuple[OptionView, ...] = ()

    @property
    def can_choose(self) -> bool:
        return bool(self.options)


def _code(f: Flight) -> str:
    return f"{f.carrier}{f.number}"


def _option(
    o: OfferOption, flights: Mapping[int, Flight], held: set[int], loc: str
) -> OptionView:
    legs = []
    for fid in o.flight_ids:
        f = flights.get(fid)
        if f is None:
            continue
        dep_ap, arr_ap = airports.get(f.origin), airports.get(f.destination)
        legs.append(
            Leg(
                flight=_code(f),
                origin=dep_ap.city,
                origin_code=f.origin,
                dep=format_datetime(f.dep_utc, dep_ap.tz, loc),
                destination=arr_ap.city,
                destination_code=f.destination,
                arr=format_datetime(f.arr_utc, arr_ap.tz, loc),
            )
        )
    cabin_key = CABINS.get(o.cabin)
    return OptionView(
        id=o.id,
        number=o.rank,
        legs=tuple(legs),
        stops=o.stops,
        cabin=locales.render(cabin_key, loc) if cabin_key else o.cabin,
        seat_held=o.id in held,
        compensation=format_money(o.eu261_eur, "EUR", loc) if o.eu261_eur else None,
    )


async def _flights(s: AsyncSession, ids: set[int]) -> dict[int, Flight]:
    if not ids:
        return {}
    return {f.id: f for f in await s.scalars(select(Flight).where(Flight.id.in_(sorted(ids))))}


async def _channels(s: AsyncSession, passenger_id: int | None) -> tuple[ChannelChoice, ...]:
    """The passenger's own contact channels, consent as the ledger holds it, the preferred one first in line."""
    if passenger_id is None:
        return ()
    contacts = list(
        await s.scalars(
            select(ContactPoint)
            .where(ContactPoint.passenger_id == passenger_id)
            .order_by(ContactPoint.preference, ContactPoint.id)
        )
    )
    states = {
        c.channel: c.state
        for c in await s.scalars(
            select(ConsentState).where(ConsentState.passenger_id == passenger_id, ConsentState.purpose == "service")
        )
    }
    seen = list(dict.fromkeys(c.channel for c in contacts if c.channel in CHANNELS))
    return tuple(
        ChannelChoice(channel=ch, granted=states.get(ch) == "granted", preferred=i == 0) for i, ch in enumerate(seen)
    )


async def page_view(s: AsyncSession, link: PageLink, conv: Conversation, *, now: dt.datetime, locale: str) -> PageView:
    """Everything the page shows for this link's booking and disruption, in `locale`."""
    loc = locales.negotiate(locale)
    flight = await s.get(Flight, conv.flight_id)
    disruption = await s.get(Disruption, link.disruption_id)
    booking = await s.get(Booking, link.booking_id)
    if flight is None or disruption is None or booking is None:
        raise LookupError("a page link names a missing flight, disruption or booking")
    status = Status(conv.status)
    offer = await s.get(Offer, conv.offer_id) if conv.offer_id is not None else None
    choosing = (
        status in CHOOSING and offer is not None and offer.status == "open" and now < offer.expires_at
    )
    # Booked and free to choose again: a protection not answered yet, or fresh options asked for since.
    changing = (
        status is Status.BOOKED
        and offer is not None
        and ((offer.status == "accepted" and conv.chosen_at is None) or (offer.status == "open" and now < offer.expires_at))
    )
    wanted_options: list[int] = []
    if conv.booked_option_id is not None:
        wanted_options.append(conv.booked_option_id)
    query = select(OfferOption).order_by(OfferOption.rank, OfferOption.id)
    if (choosing or changing) and offer is not None:
        query = query.where((OfferOption.offer_id == offer.id) | OfferOption.id.in_(wanted_options))
    else:
        query = query.where(OfferOption.id.in_(wanted_options))
    options: Sequence[OfferOption] = list(await s.scalars(query)) if choosing or changing or wanted_options else []
    held = set(
        await s.scalars(
            select(SeatHold.option_id).where(
                SeatHold.option_id.in_([o.id for o in options]), SeatHold.status == "held", SeatHold.expires_at > now
            )
        )
    ) if options else set()
    flights = await _flights(s, {fid for o in options for fid in o.flight_ids})
    origin, destination = airports.get(flight.origin), airports.get(flight.destination)
    shown = tuple(_option(o, flights, held, loc) for o in options if choosing and offer is not None and o.offer_id == offer.id)
    booked_row = next((o for o in options if o.id == conv.booked_option_id), None)
    new_dep = flight.est_dep_utc or disruption.new_dep_utc
    return PageView(
        locale=loc,
        status=status,
        flight=_code(flight),
        origin=origin.city,
        destination=destination.city,
        date=format_date(flight.dep_utc, origin.tz, loc),
        disruption_kind=disruption.kind,
        new_time=format_datetime(new_dep, origin.tz, loc) if new_dep is not None else None,
        options=shown,
        hold_until=format_time(offer.expires_at, origin.tz, loc) if choosing and offer is not None else None,
        booked=_option(booked_row, flights, set(), loc) if booked_row is not None else None,
        locator=booking.locator,
        channels=await _channels(s, conv.passenger_id),
        care=await care_vouchers(s, booking_id=link.booking_id, disruption_id=link.disruption_id, loc=loc),
        alternatives=tuple(
            _option(o, flights, held, loc)
            for o in options
            if changing and offer is not None and o.offer_id == offer.id and o.id != conv.booked_option_id
        ),
    )
