"""Turn an outbox row into a localized rich message, from the database as it is at send time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from conversations.engine import MessageKind
from conversations.models import Conversation, OutboxMessage
from conversations.ports import ChoiceView, OutboundMessage, TemplateCall
from infra import crypto
from locales.formatting import format_date, format_datetime, format_money, format_time
from rebooking_core import airports
from rebooking_core.models import Booking, Disruption, Flight, Offer, OfferOption


@dataclass(frozen=True)
class Branding:
    airline: str = "Rebook Air"
    help_contact: str = "+1 555 0100"


_OFFER_KINDS = {MessageKind.OFFER, MessageKind.OFFER_REFRESHED, MessageKind.OFFER_SEAT_GONE, MessageKind.REMINDER}
_SIMPLE = {
    MessageKind.ESCALATED_AGENT: "escalated.agent",
    MessageKind.ESCALATED_NO_OPTIONS: "escalated.no_options",
    MessageKind.ESCALATED_DEADLINE: "escalated.deadline",
    MessageKind.NOT_UNDERSTOOD: "reply.not_understood",
    MessageKind.STOP_HINT: "reply.stop_hint",
    MessageKind.STOP_ACK: "keyword.stop",
    MessageKind.START_ACK: "keyword.start",
    MessageKind.HELP: "keyword.help",
}


def flight_code(f: Flight) -> str:
    return f"{f.carrier}{f.number}"


def choice_token(offer_id: int, option_id: int) -> str:
    return f"opt:{offer_id}:{option_id}"


def more_token(offer_id: int) -> str:
    return f"more:{offer_id}"


class MessageRenderer:
    """Knows which catalog keys and parameters each MessageKind needs."""

    def __init__(self, branding: Branding) -> None:
        self.branding = branding

    async def render(
        self,
        s: AsyncSession,
        row: OutboxMessage,
        conv: Conversation,
        *,
        to: str,
        window_open_until: dt.datetime | None,
    ) -> OutboundMessage:
        kind = MessageKind(row.key)
        loc = conv.locale
        flight = await s.get(Flight, conv.flight_id)
        if flight is None:
            raise LookupError(f"conversation {conv.id} names a missing flight")
        base: dict[str, object] = {
            "airline": self.branding.airline,
            "flight": flight_code(flight),
            "contact": self.branding.help_contact,
        }
        shell = OutboundMessage(
            idempotency_key=row.idempotency_key, to=to, locale=loc, body="", window_open_until=window_open_until
        )
        if kind in _OFFER_KINDS and row.offer_id is not None:
            return await self._offer(s, shell, kind, row.offer_id, conv, flight, base)
        if kind in (MessageKind.BOOKED, MessageKind.ALREADY_BOOKED):
            return replace(shell, body=await self._booked(s, conv, kind))
        if kind is MessageKind.AGENT_TEXT:
            # An agent's own words go out as written; they are stored encrypted (message text is PII).
            return replace(shell, body=crypto.keyring().decrypt(str(row.params["text"])))
        if kind in (MessageKind.AGENT_REFUND, MessageKind.AGENT_VOUCHER):
            return replace(shell, body=await self._agent_decision(s, conv, kind, row.params, base))
        params = dict(base)
        params["count"] = await self._option_count(s, conv.offer_id)
        return replace(shell, body=self._text(_SIMPLE.get(kind, "escalated.agent"), loc, params))

    def _text(self, key: str, loc: str, params: dict[str, object]) -> str:
        wanted = locales.placeholders(key, loc)
        return locales.render(key, loc, **{k: v for k, v in params.items() if k in wanted})

    async def _option_count(self, s: AsyncSession, offer_id: int | None) -> int:
        if offer_id is None:
            return 0
        rows = await s.scalars(select(OfferOption.id).where(OfferOption.offer_id == offer_id))
        return len(rows.all())

    async def _offer(
        self,
        s: AsyncSession,
        shell: OutboundMessage,
        kind: MessageKind,
        offer_id: int,
        conv: Conversation,
        flight: Flight,
        base: dict[str, object],
    ) -> OutboundMessage:
        loc = conv.locale
        offer = await s.get(Offer, offer_id)
        options = list(
            (await s.scalars(select(OfferOption).where(OfferOption.offer_id == offer_id).order_by(OfferOption.rank))).all()
        )
        flight_ids = {fid for o in options for fid in o.flight_ids}
        flights = {f.id: f for f in (await s.scalars(select(Flight).where(Flight.id.in_(flight_ids)))).all()}
        origin, dest = airports.get(flight.origin), airports.get(flight.destination)
        disruption = await s.get(Disruption, conv.disruption_id)
        expires = offer.expires_at if offer else dt.datetime.now(dt.UTC)
        params = dict(base)
        params.update(
            origin=origin.city,
            destination=dest.city,
            date=format_date(flight.dep_utc, origin.tz, loc),
            new_time=format_time(flight.est_dep_utc or flight.dep_utc, origin.tz, loc),
            time=format_time(expires, origin.tz, loc),
            count=len(options),
            route=f"{flight.origin}–{flight.destination}",
        )
        if kind is MessageKind.OFFER:
            body_key = "offer.delayed" if disruption is not None and disruption.kind == "delayed" else "offer.cancelled"
        else:
            body_key = {
                MessageKind.OFFER_REFRESHED: "offer.refreshed",
                MessageKind.OFFER_SEAT_GONE: "offer.seat_gone",
                MessageKind.REMINDER: "offer.reminder",
            }[kind]
        choices = tuple(self._choice(offer_id, o, flights, loc) for o in options)
        template = TemplateCall(
            key="disruption_notice",
            locale=loc,
            params=tuple(str(params[k]) for k in ("airline", "flight", "route", "date")),
            quick_reply_payload=more_token(offer_id),
            quick_reply_title=locales.render("template.see_options", loc),
        )
        return replace(
            shell,
            body=self._text(body_key, loc, params),
            choices=choices,
            choices_prompt=self._text("offer.prompt", loc, params),
            list_button=locales.render("offer.list_button", loc),
            footer=self._text("offer.expires", loc, params),
            template=template,
        )

    def _choice(self, offer_id: int, o: OfferOption, flights: dict[int, Flight], loc: str) -> ChoiceView:
        legs = [flights[fid] for fid in o.flight_ids if fid in flights]
        first, last = legs[0], legs[-1]
        dep_tz = airports.get(first.origin).tz
        arr_tz = airports.get(last.destination).tz
        title = locales.render(
            "option.title", loc, dep=format_time(o.dep_utc, dep_tz, loc), flights="+".join(flight_code(f) for f in legs)
        )
        arr = format_datetime(o.arr_utc, arr_tz, loc)
        if len(legs) > 1:
            description = locales.render("option.connection", loc, via=airports.get(first.destination).city, arr=arr)
        else:
            description = locales.render("option.direct", loc, arr=arr)
        day = format_date(o.dep_utc, dep_tz, loc)
        return ChoiceView(token=choice_token(offer_id, o.id), number=o.rank, title=title, description=f"{day} · {description}")

    async def _agent_decision(
        self, s: AsyncSession, conv: Conversation, kind: MessageKind, params: dict[str, object], base: dict[str, object]
    ) -> str:
        if kind is MessageKind.AGENT_REFUND:
            booking = await s.get(Booking, conv.booking_id)
            return locales.render("agent.refund", conv.locale, airline=base["airline"], locator=booking.locator if booking else "")
        amount = format_money(int(str(params.get("amount", 0))), str(params.get("currency", "EUR")), conv.locale)
        return locales.render("agent.voucher", conv.locale, airline=base["airline"], amount=amount)

    async def _booked(self, s: AsyncSession, conv: Conversation, kind: MessageKind) -> str:
        option = await s.get(OfferOption, conv.booked_option_id) if conv.booked_option_id else None
        booking = await s.get(Booking, conv.booking_id)
        if option is None or booking is None:
            return self._text("escalated.agent", conv.locale, {})
        flights = [await s.get(Flight, fid) for fid in option.flight_ids]
        legs = [f for f in flights if f is not None]
        codes = "+".join(flight_code(f) for f in legs)
        if kind is MessageKind.ALREADY_BOOKED:
            return locales.render("booked.already", conv.locale, flights=codes, locator=booking.locator)
        first, last = legs[0], legs[-1]
        o_ap, d_ap = airports.get(first.origin), airports.get(last.destination)
        return locales.render(
            "booked.confirmation",
            conv.locale,
            flights=codes,
            origin=o_ap.city,
            dep=format_datetime(option.dep_utc, o_ap.tz, conv.locale),
            destination=d_ap.city,
            arr=format_datetime(option.arr_utc, d_ap.tz, conv.locale),
            locator=booking.locator,
        )
