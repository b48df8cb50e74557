"""The passenger page's notice of rights: the regime covering their journey, and an amount only when the engine owes one.

The amount comes from the passenger's claim row (`rebooking_core.claims`), written by the rights
engine, and shows only while that claim is owed or paid: an assessment not made yet, or one that
found nothing owed, shows no amount, so the page never promises what the engine did not compute.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import locales
from conversations.models import Conversation
from locales.formatting import format_money
from rebooking_core.claims import ClaimStatus
from rebooking_core.models import Claim, Flight
from rebooking_core.rights.carriers import Carriers
from rebooking_core.rights.notice import NOTICES, Notice, notice_for, page_path

__all__ = ["RightsView", "rights_view"]

#: Claims whose amount the page states: the engine found it owed (or it was paid since).
_STATED = (ClaimStatus.OWED.value, ClaimStatus.PAID.value)


@dataclass(frozen=True)
class RightsView:
    """The notice in the page's language, the link to the regime's full text, and the amount owed (None: none computed)."""

    regime: str
    notice: str
    link: str
    amount: str | None


async def rights_view(
    s: AsyncSession,
    conv: Conversation,
    flight: Flight,
    *,
    disruption_id: int,
    carriers: Carriers,
    locale: str,
) -> RightsView | None:
    """What the page says of this passenger's rights; None when no regime covers the journey."""
    claim = await _claim(s, conv, disruption_id)
    notice = NOTICES.get(claim.regime) if claim is not None else None
    if notice is None:
        notice = _journey_notice(conv, flight, carriers)
    if notice is None:
        return None
    lang = locales.negotiate(locale)
    amount = None
    if (
        claim is not None
        and claim.status in _STATED
        and claim.amount > 0
        and claim.regime == notice.regime
    ):
        amount = locales.render(
            "rights.amount", locale, amount=format_money(claim.amount, claim.currency, locale)
        )
    return RightsView(
        regime=notice.regime,
        notice=locales.render(notice.key, locale),
        link=page_path(notice.regime, lang),
        amount=amount,
    )


async def _claim(s: AsyncSession, conv: Conversation, disruption_id: int) -> Claim | None:
    """The contact passenger's claim for the disruption (all of a booking share a journey, so any of theirs else)."""
    query = select(Claim).where(Claim.disruption_id == disruption_id)
    if conv.passenger_id is not None:
        query = query.where(Claim.passenger_id == conv.passenger_id)
    else:
        query = query.where(Claim.booking_id == conv.booking_id)
    return (await s.scalars(query.order_by(Claim.id).limit(1))).first()


def _journey_notice(conv: Conversation, flight: Flight, carriers: Carriers) -> Notice | None:
    impact = conv.impact or {}
    origin = str(impact.get("journey_origin") or impact.get("rebook_from") or flight.origin)
    destination = str(impact.get("destination") or flight.destination)
    return notice_for(origin, destination, carriers.licence_of(flight.carrier))
