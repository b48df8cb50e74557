"""Turn outbox rows into localized rich messages, from the database as it is at send time."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from conversations.care_message import care_body
from conversations.choices import OFF, ChoiceConfig, Extra, extras_of
from conversations.clock import Clock, utcnow
from conversations.engine import MessageKind
from conversations.models import Conversation, OutboxMessage
from conversations.optin import deep_links
from conversations.outbox import choice_texts
from conversations.outbox.rights_notice import rights_notice
from conversations.page import links
from conversations.ports import ChoiceView, OutboundMessage, TemplateCall
from infra import crypto
from infra.sql import padded
from locales.formatting import format_date, format_datetime, format_money, format_time
from rebooking_core import airports
from rebooking_core.models import Booking, Disruption, Flight, Offer, OfferOption
from rebooking_core.rights.carriers import Carriers


@dataclass(frozen=True)
class Branding:
    airline: str = "Rebook Air"
    help_contact: str = "+1 555 0100"
    #: Where passenger pages live (PUBLIC_BASE_URL): each message gets its own page link. "" mints none
    #: (no running channel shows one).
    page_base_url: str = ""
    page_ttl: dt.timedelta = links.DEFAULT_TTL
    #: The Telegram bot's username while Telegram runs: confirmations on other channels end with its deep link.
    telegram_bot: str = ""
    telegram_link_ttl: dt.timedelta = deep_links.DEFAULT_TTL
    #: Where the public rights pages live (PUBLIC_BASE_URL): a first message's notice links there. "" links none.
    rights_base_url: str = ""


_OFFER_KINDS = {
    MessageKind.OFFER,
    MessageKind.OFFER_REFRESHED,
    MessageKind.OFFER_SEAT_GONE,
    MessageKind.OFFER_UPDATED,
    MessageKind.REMINDER,
    MessageKind.OFFER_ON_DATE,
    MessageKind.NOTHING_ON_DATE,
}
#: A passenger's first message of a disruption carries the notice of their rights (Reg. 261/2004 Art. 14(2)):
#: the offer, the no-options escalation, and protect first's "we have moved you".
_FIRST = {MessageKind.OFFER, MessageKind.ESCALATED_NO_OPTIONS, MessageKind.PROTECTED}
_ESCALATIONS = {MessageKind.ESCALATED_AGENT, MessageKind.ESCALATED_NO_OPTIONS, MessageKind.ESCALATED_DEADLINE}
_SIMPLE = {
    MessageKind.ESCALATED_AGENT: "escalated.agent",
    MessageKind.ESCALATED_NO_OPTIONS: "escalated.no_options",
    MessageKind.ESCALATED_DEADLINE: "escalated.deadline",
    MessageKind.NOT_UNDERSTOOD: "reply.not_understood",
    MessageKind.STOP_HINT: "reply.stop_hint",
    MessageKind.STOP_ACK: "keyword.stop",
    MessageKind.START_ACK: "keyword.start",
    MessageKind.HELP: "keyword.help",
    MessageKind.DISRUPTION_LIFTED: "story.lifted",
    MessageKind.KEPT: "story.kept",
    MessageKind.BOOKING_CHANGED: "booking.changed",
    MessageKind.CHANGE_CLOSED: "change.closed",
    MessageKind.CHANGE_NO_OPTIONS: "change.none",
}


def flight_code(f: Flight) -> str:
    return f"{f.carrier}{f.number}"


def choice_token(offer_id: int, option_id: int) -> str:
    return f"opt:{offer_id}:{option_id}"


def more_token(offer_id: int) -> str:
    return f"more:{offer_id}"


@dataclass
class RenderData:
    """Everything a batch of rows renders from, read in a few IN queries instead of per message."""

    flights: dict[int, Flight] = field(default_factory=dict)
    offers: dict[int, Offer] = field(default_factory=dict)
    options: dict[int, list[OfferOption]] = field(default_factory=dict)
    options_by_id: dict[int, OfferOption] = field(default_factory=dict)
    disruptions: dict[int, Disruption] = field(default_factory=dict)
    bookings: dict[int, Booking] = field(default_factory=dict)
    #: Outbox row id -> the page token minted for it (only when pages are linked).
    page_tokens: dict[int, str] = field(default_factory=dict)


@dataclass
class _Wanted:
    """Ids a batch needs, gathered before any query so each table is read once."""

    flights: set[int] = field(default_factory=set)
    offers: set[int] = field(default_factory=set)
    counted_offers: set[int] = field(default_factory=set)
    options: set[int] = field(default_factory=set)
    disruptions: set[int] = field(default_factory=set)
    bookings: set[int] = field(default_factory=set)
    #: The passenger's own choices are shown: every offer needs its disruption (conversations.choices).
    choices: bool = False

    def add(self, row: OutboxMessage, conv: Conversation) -> None:
        kind = MessageKind(row.key)
        self.flights.add(conv.flight_id)
        if kind in _OFFER_KINDS and row.offer_id is not None:
            self.offers.add(row.offer_id)
            if kind in (MessageKind.OFFER, MessageKind.OFFER_UPDATED) or self.choices:
                self.disruptions.add(conv.disruption_id)
        elif kind in choice_texts.KINDS:
            self.disruptions.add(conv.disruption_id)
        elif kind is MessageKind.PROTECTED and row.offer_id is not None:
            self.offers.add(row.offer_id)
            self.disruptions.add(conv.disruption_id)
            self.bookings.add(conv.booking_id)
            if conv.booked_option_id:
                self.options.add(conv.booked_option_id)
        elif kind in (MessageKind.BOOKED, MessageKind.ALREADY_BOOKED):
            self.bookings.add(conv.booking_id)
            if conv.booked_option_id:
                self.options.add(conv.booked_option_id)
        elif kind is MessageKind.AGENT_REFUND:
            self.bookings.add(conv.booking_id)
        elif kind not in (MessageKind.AGENT_TEXT, MessageKind.AGENT_VOUCHER, MessageKind.CARE_VOUCHER) and conv.offer_id is not None:
            self.counted_offers.add(conv.offer_id)


class MessageRenderer:
    """Knows which catalog keys and parameters each MessageKind needs."""

    def __init__(self, branding: Branding, *, clock: Clock = utcnow, carriers: Carriers | None = None) -> None:
        self.branding = branding
        self.clock = clock
        #: Which of the passenger's own choices (refund, keep, later date) offers show; the container sets the airline's.
        self.choices: ChoiceConfig = OFF
        #: Who licensed the operating carriers: with the journey, it decides which regime's notice a first message carries.
        self.carriers = carriers or Carriers()

    async def prefetch(
        self, s: AsyncSession, rows: Iterable[OutboxMessage], convs: Mapping[int, Conversation]
    ) -> RenderData:
        """Read what `render` needs for these rows with a fixed number of statements, whatever their count."""
        wanted = _Wanted(choices=self.choices.enabled)
        for row in rows:
            conv = convs.get(row.conversation_id) if row.conversation_id is not None else None
            if conv is not None:
                wanted.add(row, conv)
        data = RenderData()
        await _load_options(s, wanted, data)
        if wanted.flights:
            found = await s.scalars(select(Flight).where(Flight.id.in_(padded(wanted.flights))))
            data.flights = {f.id: f for f in found}
        if wanted.offers:
            data.offers = {o.id: o for o in await s.scalars(select(Offer).where(Offer.id.in_(padded(wanted.offers))))}
        if wanted.disruptions:
            found_d = await s.scalars(select(Disruption).where(Disruption.id.in_(padded(wanted.disruptions))))
            data.disruptions = {d.id: d for d in found_d}
        if wanted.bookings:
            found_b = await s.scalars(select(Booking).where(Booking.id.in_(padded(wanted.bookings))))
            data.bookings = {b.id: b for b in found_b}
        if self.branding.page_base_url:
            # One link per message, written with the send's transaction (the token itself is never stored).
            now = self.clock()
            for row in rows:
                conv = convs.get(row.conversation_id) if row.conversation_id is not None else None
                if conv is not None and row.key != MessageKind.AGENT_TEXT.value:  # an agent's words go as written
                    data.page_tokens[row.id] = links.mint(
                        s, booking_id=conv.booking_id, disruption_id=conv.disruption_id, now=now, ttl=self.branding.page_ttl
                    )
        return data

    def render(
        self,
        data: RenderData,
        row: OutboxMessage,
        conv: Conversation,
        *,
        to: str,
        window_open_until: dt.datetime | None,
    ) -> OutboundMessage:
        kind = MessageKind(row.key)
        loc = conv.locale
        flight = data.flights.get(conv.flight_id)
        if flight is None:
            raise LookupError(f"conversation {conv.id} names a missing flight")
        base: dict[str, object] = {
            "airline": self.branding.airline,
            "flight": flight_code(flight),
            "contact": self.branding.help_contact,
        }
        token = data.page_tokens.get(row.id)
        shell = OutboundMessage(
            idempotency_key=row.idempotency_key,
            to=to,
            locale=loc,
            body="",
            window_open_until=window_open_until,
            page_link=f"{self.branding.page_base_url.rstrip('/')}/p/{token}" if token else None,
            thread=f"conversation-{conv.id}",
        )
        if kind in _FIRST:
            shell = replace(shell, rights=rights_notice(conv, flight, self.carriers, self.branding.rights_base_url))
        if kind in _OFFER_KINDS and row.offer_id is not None:
            return self._offer(data, shell, kind, row.offer_id, conv, flight, base, asked=str(row.params.get("day") or ""))
        if kind is MessageKind.PROTECTED and row.offer_id is not None:
            return self._protected(data, shell, row.offer_id, conv, flight, base)
        if kind in (MessageKind.BOOKED, MessageKind.ALREADY_BOOKED):
            return replace(shell, body=self._booked(data, conv, kind) + self._telegram_invite(conv, kind))
        if kind is MessageKind.AGENT_TEXT:
            # An agent's own words go out as written; they are stored encrypted (message text is PII).
            return replace(shell, body=crypto.keyring().decrypt(str(row.params["text"])))
        if kind in (MessageKind.AGENT_REFUND, MessageKind.AGENT_VOUCHER):
            return replace(shell, body=self._agent_decision(data, conv, kind, row.params, base))
        if kind in choice_texts.KINDS:
            offered = extras_of(conv.impact, data.disruptions.get(conv.disruption_id), flight, self.choices, today=self.clock().date())
            return replace(shell, body=choice_texts.text(kind, row.params, conv, flight, offered, base))
        if kind is MessageKind.CARE_VOUCHER:
            vouchers = list(row.params.get("vouchers", ()))
            return replace(shell, body=care_body(vouchers, loc, airline=self.branding.airline, flight=str(base["flight"])))
        params = dict(base)
        params["count"] = len(data.options.get(conv.offer_id, ())) if conv.offer_id is not None else 0
        body = self._text(_SIMPLE.get(kind, "escalated.agent"), loc, params)
        if kind in _ESCALATIONS:
            # Outside WhatsApp's 24 h window only a template may start the conversation: without
            # one, a WhatsApp-only passenger whose booking went to an agent would hear nothing.
            template = TemplateCall(
                key="escalation_notice",
                locale=loc,
                params=(str(base["flight"]), str(base["airline"])),
                quick_reply_payload=None,
                quick_reply_title="",
            )
            return replace(shell, body=body, template=template)
        return replace(shell, body=body)

    def _text(self, key: str, loc: str, params: dict[str, object]) -> str:
        return _localized(key, loc, tuple(params.items()))

    def _offer(
        self,
        data: RenderData,
        shell: OutboundMessage,
        kind: MessageKind,
        offer_id: int,
        conv: Conversation,
        flight: Flight,
        base: dict[str, object],
        *,
        asked: str = "",
    ) -> OutboundMessage:
        loc = conv.locale
        offer = data.offers.get(offer_id)
        options = data.options.get(offer_id, [])
        origin, dest = airports.get(flight.origin), airports.get(flight.destination)
        disruption = data.disruptions.get(conv.disruption_id)
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
        # The booking's cause (the flight's story keeps one per conversation) picks the wording; the disruption's kind before it had one.
        cause = conv.impact.get("cause") or ("delayed" if disruption is not None and disruption.kind == "delayed" else "cancelled")
        if kind is MessageKind.OFFER:
            body_key = f"offer.{cause}"
        elif kind is MessageKind.OFFER_UPDATED:
            body_key = f"offer.updated_{cause}"
        else:
            body_key = {
                MessageKind.OFFER_REFRESHED: "offer.refreshed",
                MessageKind.OFFER_SEAT_GONE: "offer.seat_gone",
                MessageKind.REMINDER: "offer.reminder",
                MessageKind.OFFER_ON_DATE: "choice.later.offer",
                MessageKind.NOTHING_ON_DATE: "choice.later.nothing",
            }[kind]
        if options:
            params["day"] = format_date(options[0].dep_utc, origin.tz, loc)
        if asked:  # the day named, with nothing on it (noon there, so no zone moves the day)
            params["day"] = format_date(dt.datetime.combine(dt.date.fromisoformat(asked), dt.time(12), dt.UTC), origin.tz, loc)
        choices = tuple(self._choice(offer_id, o, data.flights, loc) for o in options)
        offered = extras_of(conv.impact, disruption, flight, self.choices, today=self.clock().date())
        choices += choice_texts.menu(offer_id, offered, len(options), flight, loc)
        template = TemplateCall(
            key="disruption_notice",
            locale=loc,
            params=tuple(str(params[k]) for k in ("airline", "flight", "route", "date")),
            quick_reply_payload=more_token(offer_id),
            quick_reply_title=_localized("template.see_options", loc),
        )
        return replace(
            shell,
            body=self._text(body_key, loc, params),
            expires_at=offer.expires_at if offer else None,
            choices=choices,
            choices_prompt=self._text("offer.prompt", loc, {**params, "count": len(choices)}),  # the own choices are numbered too
            list_button=_localized("offer.list_button", loc),
            footer=self._text("offer.expires", loc, params),
            template=template,
        )

    def _protected(
        self, data: RenderData, shell: OutboundMessage, offer_id: int, conv: Conversation, flight: Flight, base: dict[str, object]
    ) -> OutboundMessage:
        """Protect first: where we moved the passenger, and the offer's other options to choose instead (numbered by rank)."""
        loc = conv.locale
        booked = data.options_by_id.get(conv.booked_option_id) if conv.booked_option_id else None
        booking = data.bookings.get(conv.booking_id)
        legs = [data.flights[fid] for fid in booked.flight_ids if fid in data.flights] if booked is not None else []
        if booked is None or booking is None or not legs:
            return replace(shell, body=self._text("escalated.agent", loc, {}))
        cause = conv.impact.get("cause") or "cancelled"
        params = dict(base)
        params.update(
            flights="+".join(flight_code(f) for f in legs),
            dep=format_datetime(booked.dep_utc, airports.get(legs[0].origin).tz, loc),
            locator=booking.locator,
            new_time=format_time(flight.est_dep_utc or flight.dep_utc, airports.get(flight.origin).tz, loc),
            route=f"{flight.origin}–{flight.destination}",
            date=format_date(flight.dep_utc, airports.get(flight.origin).tz, loc),
        )
        everything = data.options.get(offer_id, [])
        others = [o for o in everything if o.id != booked.id]
        # After the flights, a refund instead (where the rights engine or the airline gives one), numbered on.
        offered = extras_of(conv.impact, data.disruptions.get(conv.disruption_id), flight, self.choices, today=self.clock().date())
        refund = dataclasses.replace(offered, offered=tuple(e for e in offered.offered if e is Extra.REFUND))
        template = TemplateCall(
            key="disruption_notice",
            locale=loc,
            params=tuple(str(params[k]) for k in ("airline", "flight", "route", "date")),
            quick_reply_payload=more_token(offer_id),
            quick_reply_title=_localized("template.see_options", loc),
        )
        return replace(
            shell,
            body=self._text(f"protected.{cause}" if cause in ("cancelled", "delayed") else "protected.moved", loc, params),
            choices=tuple(self._choice(offer_id, o, data.flights, loc) for o in others)
            + choice_texts.menu(offer_id, refund, len(everything), flight, loc),
            choices_prompt=_localized("protected.prompt", loc) if others or refund.offered else "",
            list_button=_localized("offer.list_button", loc),
            template=template,
        )

    def _choice(self, offer_id: int, o: OfferOption, flights: Mapping[int, Flight], loc: str) -> ChoiceView:
        flown = [flights[i] for i in o.flight_ids if i in flights]
        legs = tuple((flight_code(f), f.origin, f.destination) for f in flown)
        title, description = _option_lines(loc, o.dep_utc, o.arr_utc, legs)
        return ChoiceView(token=choice_token(offer_id, o.id), number=o.rank, title=title, description=description)

    def _telegram_invite(self, conv: Conversation, kind: MessageKind) -> str:
        """A confirmation on another channel invites to Telegram: a bot cannot write first, the passenger must start it."""
        bot = self.branding.telegram_bot
        if kind is not MessageKind.BOOKED or not bot or conv.channel == "telegram" or conv.passenger_id is None:
            return ""
        token = deep_links.mint(conv.passenger_id, now=self.clock(), ttl=self.branding.telegram_link_ttl)
        return "\n" + locales.render("telegram.invite", conv.locale, link=deep_links.telegram_url(bot, token))

    def _agent_decision(
        self, data: RenderData, conv: Conversation, kind: MessageKind, params: dict[str, object], base: dict[str, object]
    ) -> str:
        if kind is MessageKind.AGENT_REFUND:
            booking = data.bookings.get(conv.booking_id)
            return locales.render("agent.refund", conv.locale, airline=base["airline"], locator=booking.locator if booking else "")
        amount = format_money(int(str(params.get("amount", 0))), str(params.get("currency", "EUR")), conv.locale)
        return locales.render("agent.voucher", conv.locale, airline=base["airline"], amount=amount)

    def _booked(self, data: RenderData, conv: Conversation, kind: MessageKind) -> str:
        option = data.options_by_id.get(conv.booked_option_id) if conv.booked_option_id else None
        booking = data.bookings.get(conv.booking_id)
        if option is None or booking is None:
            return self._text("escalated.agent", conv.locale, {})
        legs = [data.flights[fid] for fid in option.flight_ids if fid in data.flights]
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


# The catalogs never change while running, and a disruption shows the same few flights, times and
# expiry to thousands of passengers: the texts are cached on exactly what they are made of.
@lru_cache(maxsize=4096)
def _localized(key: str, loc: str, params: tuple[tuple[str, object], ...] = ()) -> str:
    """A catalog text with the parameters its key uses in this locale (others are ignored)."""
    wanted = locales.placeholders(key, loc)
    return locales.render(key, loc, **{k: v for k, v in params if k in wanted})


@lru_cache(maxsize=4096)
def _option_lines(
    loc: str, dep_utc: dt.datetime, arr_utc: dt.datetime, legs: tuple[tuple[str, str, str], ...]
) -> tuple[str, str]:
    """Title and description of an option flown on `legs` (code, origin, destination)."""
    dep_tz = airports.get(legs[0][1]).tz
    arr_tz = airports.get(legs[-1][2]).tz
    codes = "+".join(code for code, _, _ in legs)
    title = locales.render("option.title", loc, dep=format_time(dep_utc, dep_tz, loc), flights=codes)
    arr = format_datetime(arr_utc, arr_tz, loc)
    if len(legs) > 1:
        description = locales.render("option.connection", loc, via=airports.get(legs[0][2]).city, arr=arr)
    else:
        description = locales.render("option.direct", loc, arr=arr)
    return title, f"{format_date(dep_utc, dep_tz, loc)} · {description}"


async def _load_options(s: AsyncSession, wanted: _Wanted, data: RenderData) -> None:
    """Options of the offers to show or count and the booked ones, in one query; their legs join the flights to read."""
    offer_ids = wanted.offers | wanted.counted_offers
    matches = [OfferOption.offer_id.in_(padded(offer_ids))] if offer_ids else []
    if wanted.options:
        matches.append(OfferOption.id.in_(padded(wanted.options)))
    if not matches:
        return
    found = await s.scalars(
        select(OfferOption).where(or_(*matches)).order_by(OfferOption.offer_id, OfferOption.rank, OfferOption.id)
    )
    for option in found:
        data.options_by_id[option.id] = option
        data.options.setdefault(option.offer_id, []).append(option)
        if option.offer_id in wanted.offers or option.id in wanted.options:
            wanted.flights.update(option.flight_ids)
