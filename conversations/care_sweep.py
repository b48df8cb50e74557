"""The worker's care sweep: passengers whose wait has earned meal, hotel or transfer vouchers get them, once, and are told.

Off every reply path, like the claim sweep (`conversations.claims_sweep`). Each page of live
conversations (by id) brings their passengers under a regime (their claim's `regime`
is not "none") who wait for a known new departure: the delayed flight's new time, or the
rerouting they booked after a cancellation. A cancelled passenger who has not booked has no end
to the wait yet, and one whose conversation is closed (refunded, kept after the disruption
lifted, booking changed elsewhere) waits for nothing. For each, the rights engine (through
`rebooking_core.claims.decide`, the claim's licence and carrier size) says what care is owed;
`rebooking_core.care.vouchers.issue` writes the vouchers the wait has earned, insert-ignore, and
books hotel rooms through the hotel port. Each batch of new vouchers is one CARE_VOUCHER message
per conversation, keyed by its first voucher (`once`), so it is queued exactly once and goes
through the outbox, which checks consent at send like every message.
A hotel voucher without a room ("ask at the airline's desk") is counted in `Swept.at_desk`; the
worker logs the count per airport for the desk (no personal data).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.engine import MessageKind, Status
from conversations.impact_json import impact_from_json
from conversations.models import OUTBOX, Conversation
from conversations.outbox.rows import outbox_row
from infra.db import insert_ignore
from rebooking_core import airports, claims
from rebooking_core.care.models import CareVoucher
from rebooking_core.care.policy import CarePolicy
from rebooking_core.care.ports import HotelInventory
from rebooking_core.care.thresholds import CareKind
from rebooking_core.care.vouchers import Waiting, issue
from rebooking_core.models import Claim, Disruption, Flight, OfferOption
from rebooking_core.rights.facts import CarrierSize, Licence, Reroute

__all__ = ["Swept", "sweep_care", "voucher_params"]

#: Conversations whose passengers wait for nothing more.
_OVER = (Status.CLOSED.value,)


@dataclass
class Swept:
    """What one sweep did: passengers looked at, vouchers issued, messages queued, hotel vouchers left to the desk per airport."""

    passengers: int = 0
    vouchers: int = 0
    messages: int = 0
    at_desk: Counter[str] = field(default_factory=Counter)


def _waiting(now: dt.datetime, lead: dt.timedelta, after: int, limit: int) -> Select[Any]:
    """A page of live conversations, by id, waiting for a known new departure inside the issuing window."""
    return (
        select(Conversation.id)
        .join(Flight, Flight.id == Conversation.flight_id)
        .outerjoin(OfferOption, OfferOption.id == Conversation.booked_option_id)
        .where(
            Conversation.id > after,
            Conversation.status.not_in(_OVER),
            Flight.dep_utc <= now + lead,
            or_(
                OfferOption.dep_utc > now,
                and_(
                    Conversation.booked_option_id.is_(None),
                    Flight.status != "cancelled",
                    Flight.est_dep_utc > now,
                ),
            ),
        )
        .order_by(Conversation.id)
        .limit(limit)
    )


def _passengers(conversation_ids: list[int]) -> Select[*tuple[Any, ...]]:
    """Each passenger of these conversations with a claim under a regime (an erased one has none: erasure unlinks it)."""
    return (
        select(
            Claim.id,
            Claim.passenger_id,
            Claim.licence,
            Claim.carrier_size,
            Conversation,
            Disruption,
            Flight,
            OfferOption.dep_utc,
            OfferOption.arr_utc,
        )
        .join(
            Conversation,
            and_(
                Conversation.disruption_id == Claim.disruption_id,
                Conversation.booking_id == Claim.booking_id,
            ),
        )
        .join(Disruption, Disruption.id == Claim.disruption_id)
        .join(Flight, Flight.id == Conversation.flight_id)
        .outerjoin(OfferOption, OfferOption.id == Conversation.booked_option_id)
        .where(
            Conversation.id.in_(conversation_ids),
            Claim.passenger_id.is_not(None),
            Claim.regime != "none",
        )
        .order_by(Conversation.id, Claim.id)
    )


def _night(at: dt.datetime, airport: str) -> dt.date:
    try:
        zone = ZoneInfo(airports.get(airport).tz)
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).date()


async def sweep_care(
    s: AsyncSession,
    *,
    now: dt.datetime,
    policy: CarePolicy,
    hotels: Callable[[AsyncSession], HotelInventory],
    after: int = 0,
    limit: int = 500,
) -> tuple[Swept, int | None]:
    """Issue and announce the vouchers due to the passengers of up to `limit` waiting conversations after `after`.

    Returns the report and where the next page starts (None: done). A booking's passengers are
    always in one page, so each booking hears of a threshold's vouchers in one message.
    """
    page = [int(i) for i in await s.scalars(_waiting(now, policy.lead, after, limit))]
    rows = (await s.execute(_passengers(page))).all() if page else []
    swept = Swept(passengers=len(rows))
    waiting: list[Waiting] = []
    conversations: dict[tuple[int, int], Conversation] = {}
    for _, passenger_id, licence, size, conv, disruption, flight, booked_dep, booked_arr in rows:
        impacted = impact_from_json(conv.impact)
        scheduled = impacted.original_departure or flight.dep_utc
        if booked_dep is not None:
            reroute = Reroute(arrival=booked_arr, departure=booked_dep)
        else:
            delay = flight.est_dep_utc - flight.dep_utc
            reroute = Reroute(
                arrival=flight.est_arr_utc or impacted.original_arrival + delay,
                departure=flight.est_dep_utc,
            )
        outcome = claims.decide(impacted, disruption, Licence(licence), CarrierSize(size), reroute)
        if (
            outcome.regime == "none"
            or outcome.care.meals_after is None
            or reroute.departure is None
        ):
            continue
        airport = impacted.rebook_from or flight.origin
        conversations[conv.disruption_id, conv.booking_id] = conv
        waiting.append(
            Waiting(
                passenger_id=passenger_id,
                booking_id=conv.booking_id,
                disruption_id=conv.disruption_id,
                airport=airport,
                regime=outcome.regime,
                currency=outcome.currency,
                care=outcome.care,
                scheduled_departure=scheduled,
                new_departure=reroute.departure,
                night=_night(scheduled, airport),
            )
        )
    issued = await issue(s, waiting, policy=policy, hotels=hotels(s), now=now)
    swept.vouchers = len(issued)
    by_conversation: dict[tuple[int, int], list[CareVoucher]] = defaultdict(list)
    for v in issued:
        by_conversation[v.disruption_id, v.booking_id].append(v)
        if v.kind == CareKind.HOTEL.value and v.hotel is None:
            swept.at_desk[v.airport] += 1
    for key, vouchers in by_conversation.items():
        conv = conversations[key]
        row = outbox_row(
            conv,
            MessageKind.CARE_VOUCHER,
            0,
            now,
            params=voucher_params(vouchers),
            once=f"care-v{vouchers[0].id}",
        )
        swept.messages += await insert_ignore(s, OUTBOX, row)
    return swept, (page[-1] if len(page) == limit else None)


def voucher_params(vouchers: list[CareVoucher]) -> dict[str, object]:
    """What the message shows of each voucher (codes and amounts, no personal data): rendered at send time."""
    return {
        "vouchers": [
            {
                "kind": v.kind,
                "code": v.code,
                "amount": v.amount,
                "currency": v.currency,
                "hotel": v.hotel,
                "valid_until": v.valid_until.isoformat(),
                "airport": v.airport,
            }
            for v in vouchers
        ]
    }
