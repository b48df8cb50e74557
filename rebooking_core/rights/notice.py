"""Which regime's notice of rights a passenger gets, decided at render time from the journey alone.

A first message goes out before the claims sweep may have assessed anything, and an outcome needs
the incident; the notice needs only which regime covers the journey (Reg. 261/2004 Art. 14 and
APPR s. 5 ask the carrier to tell passengers their rights, not the amount). `engine.applicable` is
pure (an airport lookup per point), so it runs per message. The amounts table of each regime's page
is read from the regimes' own data, so the page can never state other amounts than the engine pays.
"""

from __future__ import annotations

from dataclasses import dataclass

from rebooking_core.rights.appr import AMOUNTS as APPR_AMOUNTS
from rebooking_core.rights.appr import APPR
from rebooking_core.rights.appr import TITLE as APPR_TITLE
from rebooking_core.rights.engine import REGIMES, applicable
from rebooking_core.rights.eu261 import EU261
from rebooking_core.rights.facts import CarrierSize, Journey, Licence
from rebooking_core.rights.uk261 import UK261

__all__ = ["LEGAL_TITLES", "NOTICES", "Band", "Notice", "bands", "notice_for", "page_path"]


@dataclass(frozen=True)
class Notice:
    """The regime covering a journey and the catalog keys of its short notice (`key`), SMS version (`short_key`) and tag."""

    regime: str
    key: str
    short_key: str
    tag_key: str


#: Every regime with a notice, by name.
NOTICES: dict[str, Notice] = {
    r.name: Notice(r.name, r.notice_key, f"{r.notice_key}.sms", f"{r.notice_key}.tag")
    for r in REGIMES
}


#: The official title of each regime's legal text, as its page names its basis.
LEGAL_TITLES: dict[str, str] = {
    EU261.name: EU261.title,
    UK261.name: UK261.title,
    APPR.name: APPR_TITLE,
}


def notice_for(
    origin: str, destination: str, carrier: Licence, via: tuple[str, ...] = ()
) -> Notice | None:
    """The notice of the regime that decides for this journey; None when none covers it or an airport is unknown."""
    try:
        found = applicable(Journey(origin, destination, carrier, via))
    except KeyError:
        return None
    return NOTICES.get(found[0][0].name) if found else None


def page_path(regime: str, lang: str) -> str:
    """Where the full text of a regime's rights lives, in one language (served by the gateway)."""
    return f"/rights/{regime}?lang={lang}"


@dataclass(frozen=True)
class Band:
    """One row of a regime's compensation table: a catalog key naming the band, and the amount per carrier size."""

    key: str
    amounts: tuple[int, ...]


def bands(regime: str) -> tuple[str, tuple[Band, ...]]:
    """The compensation table of a regime: its currency and rows, from the same data the engine decides with."""
    if regime in (EU261.name, UK261.name):
        rules = EU261 if regime == EU261.name else UK261
        keys = ("rights.band.261_short", "rights.band.261_medium", "rights.band.261_long")
        return rules.currency, tuple(
            Band(k, (a,)) for k, a in zip(keys, rules.amounts, strict=True)
        )
    keys = ("rights.band.appr_3h", "rights.band.appr_6h", "rights.band.appr_9h")
    large, small = APPR_AMOUNTS[CarrierSize.LARGE], APPR_AMOUNTS[CarrierSize.SMALL]
    return APPR.currency, tuple(
        Band(k, (lg, sm)) for k, lg, sm in zip(keys, large, small, strict=True)
    )
