"""The notice of rights a first message carries: the regime covering the passenger's journey, localized, with its page.

Decided at render time from the journey the conversation keeps (`Conversation.impact`) and the operating
carrier's licence, not from the claim: the claims sweep may not have assessed the passenger yet when
the first message goes, and which regime applies does not depend on what happened, only on where
and with whom they fly. A disruption's thousands of first messages share a few journeys: cached.
"""

from __future__ import annotations

from functools import lru_cache

import locales
from conversations.models import Conversation
from conversations.ports import RightsNotice
from rebooking_core.models import Flight
from rebooking_core.rights.carriers import Carriers
from rebooking_core.rights.facts import Licence
from rebooking_core.rights.notice import notice_for, page_path

__all__ = ["rights_notice"]


def rights_notice(
    conv: Conversation, flight: Flight, carriers: Carriers, base_url: str
) -> RightsNotice | None:
    """The notice for this conversation's journey in its language; None when no regime covers it."""
    impact = conv.impact or {}
    origin = str(impact.get("journey_origin") or impact.get("rebook_from") or flight.origin)
    destination = str(impact.get("destination") or flight.destination)
    return _notice(
        origin,
        destination,
        carriers.licence_of(flight.carrier),
        locales.negotiate(conv.locale),
        base_url,
    )


@lru_cache(maxsize=1024)
def _notice(
    origin: str, destination: str, licence: Licence, lang: str, base_url: str
) -> RightsNotice | None:
    found = notice_for(origin, destination, licence)
    if found is None:
        return None
    link = base_url.rstrip("/") + page_path(found.regime, lang) if base_url else ""
    return RightsNotice(
        text=locales.render(found.key, lang),
        short=locales.render(found.short_key, lang),
        link=link,
        tag=locales.render(found.tag_key, lang),
    )
