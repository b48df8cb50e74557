"""Canada's APPR as data: the Air Passenger Protection Regulations (SOR/2019-150), in Canadian dollars.

In force as last amended on 2022-09-08 (the consolidation current to 2026-03-17 shows no later
amendment):

- Scope: flights to, from and within Canada, including connecting flights (Canada
  Transportation Act s. 86.11(1); the CTA's guide "Flight Delays and Cancellations").
- Three categories by the reason: outside the carrier's control (s. 10(1): war or political
  instability, illegal acts, weather or natural disasters making safe operation impossible,
  air traffic control instructions, a NOTAM, security threats, airport operation issues, medical
  emergencies, collisions with wildlife, labour disruption within the carrier or an essential
  service provider, manufacturer-revealed defects, orders of state officials); within its
  control but required for safety (s. 11; "required for safety purposes", s. 1(1), excludes
  scheduled maintenance); within its control (s. 12). Note: here the carrier's own staff striking
  is outside its control (s. 10(1)(j)), unlike EU261 and UK261.
- Compensation only within the carrier's control and when the passenger was told 14 days or
  less before departure (s. 12(2)(d), (3)(d)), by the delay of arrival at the destination on
  the original ticket (s. 19(1)): large carrier CAD 400 (3-6 h) / 700 (6-9 h) / 1,000 (9 h+),
  small carrier 125 / 250 / 500; a passenger refunded instead gets 400 / 125 (s. 19(2)).
- Care (s. 14): food, drink and means of communication after 2 h of waiting from the ticketed
  departure, a hotel and transfers when overnight — within the carrier's control (ss. 11-12).
- Refund: within its control, when the rebooking does not suit the passenger (s. 17(2), for a
  cancellation or a delay of 3 h or more); outside its control, when the carrier cannot rebook
  the passenger on a flight leaving within 48 h (s. 18 as amended on 2022-09-08).
- No second compensation for the same event already compensated under another country's
  passenger-protection rules (CTA guide): the engine makes APPR subsidiary to a regime of the
  departure territory.

The 2023 amendments: the Budget Implementation Act, 2023, No. 1 (S.C. 2023, c. 26, Part 4,
Division 23; Royal Assent 22 June 2023) amended the Canada Transportation Act to drop the three
categories: compensation becomes owed unless the disruption is due to exceptional
circumstances the regulations list. The implementing Regulations Amending the APPR were only
proposed (Canada Gazette, Part I, Vol. 158, No. 51, 21 December 2024) and are not in force, so
the categories above still decide. `Appr(safety_exempts=False)` is the switch for the day they
are: "required for safety" then no longer spares compensation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType

from rebooking_core.rights.article261 import territory_of
from rebooking_core.rights.delay_codes import canonical
from rebooking_core.rights.facts import CarrierSize, Incident, Journey, Reroute
from rebooking_core.rights.outcome import NO_CARE, Care, Control, Outcome, Scope, decided
from rebooking_core.rights.territory import Territory
from rebooking_core.rights.waiting import overnight
from rebooking_core.types import DisruptionKind

__all__ = ["AMOUNTS", "APPR", "OUTSIDE_CONTROL", "SAFETY", "WITHIN_CONTROL", "Appr"]

TITLE = "Air Passenger Protection Regulations, SOR/2019-150"

_WEATHER = "s. 10(1)(c): meteorological conditions or natural disasters that make safe operation impossible"
_ATC = "s. 10(1)(d): instructions from air traffic control"
_AIRPORT = "s. 10(1)(g): airport operation issues"
_LABOUR = "s. 10(1)(j): a labour disruption within the carrier or within an essential service provider"
_STATE = "s. 10(1)(l): an order or instruction from an official of a state or a law enforcement agency"

#: Reason code -> the paragraph of s. 10(1) that puts it outside the carrier's control.
OUTSIDE_CONTROL: MappingProxyType[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("71", "72", "73", "76", "77", "84", "WEAT", "WX"), _WEATHER),
        **dict.fromkeys(("81", "82", "83", "89", "ATC", "ATFM"), _ATC),
        **dict.fromkeys(("85", "SEC"), "s. 10(1)(f): a security threat"),
        "86": _STATE,
        **dict.fromkeys(("87", "88", "AIRP"), _AIRPORT),
        **dict.fromkeys(("97", "98", "STRK", "STRK-EXT", "STRKX"), _LABOUR),
        "BIRD": "s. 10(1)(i): a collision with wildlife",
        "FOD": _AIRPORT,
        "POL": "s. 10(1)(a): war or political instability",
        "VOLC": _WEATHER,
        "MED": "s. 10(1)(h): a medical emergency",
        "UNRULY": "s. 10(1)(b): illegal acts or sabotage",
        "MFR": "s. 10(1)(k): a manufacturing defect identified by the manufacturer or a competent authority",
    }
)

#: Reason code -> why it is within the carrier's control but required for safety (s. 11; s. 1(1)).
SAFETY: MappingProxyType[str, str] = MappingProxyType(
    {
        **dict.fromkeys(
            ("41", "43", "46", "TECH"),
            "s. 11 and s. 1(1) 'mechanical malfunction': a defect found outside scheduled maintenance that the pilot or the safety management system grounds the aircraft for",
        ),
        "SAFE": "s. 11 and s. 1(1) 'required for safety purposes': a safety decision of the pilot or the safety management system",
        "69": "s. 11: a security check the captain requires for safety",
    }
)

#: Reason codes within the carrier's control (s. 12), with why; any unlisted code is treated so too.
WITHIN_CONTROL: MappingProxyType[str, str] = MappingProxyType(
    {
        "42": "s. 1(1): 'required for safety purposes' excludes scheduled maintenance in compliance with legal requirements",
        **dict.fromkeys(("44", "45", "47", "48"), "s. 12: spares, stand-by aircraft and configuration are the carrier's planning"),
        **dict.fromkeys(("64", "67", "CREW"), "s. 12: crew shortages are within the carrier's control (CTA guide)"),
        "75": "s. 12: de-icing is a normal winter operation; code the weather (71-73) when it makes safe operation impossible",
        **dict.fromkeys(("91", "92", "93", "94", "95", "96"), "s. 10(2) lets a knock-on delay count as outside control only through its root cause: send that code"),
        "99": "s. 12: an unspecified reason is not shown to be outside the carrier's control",
    }
)

_BANDS = (dt.timedelta(hours=3), dt.timedelta(hours=6), dt.timedelta(hours=9))
_AMOUNTS = {CarrierSize.LARGE: (400, 700, 1000), CarrierSize.SMALL: (125, 250, 500)}
#: s. 19(1) amounts per carrier size and delay band (3-6 h, 6-9 h, 9 h+): the rights page shows this table.
AMOUNTS = MappingProxyType(_AMOUNTS)
_NOTICE = dt.timedelta(days=14)
_CARE_AFTER = dt.timedelta(hours=2)
_REBOOK_WITHIN = dt.timedelta(hours=48)


@dataclass(frozen=True)
class Appr:
    """The APPR; `safety_exempts` False once the 2023 amendments' regulations are in force (see the module docstring)."""

    safety_exempts: bool = True
    name: str = "appr"
    currency: str = "CAD"
    notice_key: str = "rights.notice.appr"

    def scope(self, journey: Journey) -> Scope | None:
        points = (journey.origin, journey.destination, *journey.via)
        if not any(territory_of(p) is Territory.CA for p in points):
            return None
        basis = f"{TITLE}; Canada Transportation Act s. 86.11(1): flights to, from and within Canada, including connections"
        return Scope(primary=territory_of(journey.origin) is Territory.CA, basis=basis)

    def control(self, reason_code: str | None) -> tuple[Control, str]:
        key = canonical(reason_code)
        if key is not None and key in OUTSIDE_CONTROL:
            return Control.EXTRAORDINARY, OUTSIDE_CONTROL[key]
        if key is not None and key in SAFETY:
            return Control.SAFETY, SAFETY[key]
        if key is not None and key in WITHIN_CONTROL:
            return Control.CARRIER, WITHIN_CONTROL[key]
        return Control.CARRIER, "s. 12: not shown to be outside the carrier's control or required for safety"

    def assess(self, journey: Journey, incident: Incident, reroute: Reroute | None) -> Outcome:
        scope = self.scope(journey)
        control, why = self.control(incident.reason_code)
        if scope is None:
            return self._outcome("out_of_scope", 0, f"{TITLE}: no flight to, from or within Canada", Control.CARRIER, False, NO_CARE)
        refund = self._refund(incident, reroute, control)
        care = self._care(journey, incident, reroute, control)
        if control is Control.EXTRAORDINARY:
            return self._outcome("outside_control", 0, f"{TITLE} {why}", control, refund, care)
        if control is Control.SAFETY and self.safety_exempts:
            return self._outcome("required_for_safety", 0, f"{TITLE} {why}", control, refund, care)
        if incident.notice > _NOTICE:
            section = "12(3)(d)" if incident.kind is DisruptionKind.CANCELLED else "12(2)(d)"
            return self._outcome("notice_14d", 0, f"{TITLE} s. {section}: told more than 14 days before departure", control, refund, care)
        amounts = _AMOUNTS[journey.carrier_size]
        size = journey.carrier_size.value
        if reroute is None:
            if incident.kind is DisruptionKind.CANCELLED:
                return self._outcome("refunded", amounts[0], f"{TITLE} s. 19(2)({'a' if size == 'large' else 'b'}): ticket refunded, {size} carrier", control, refund, care)
            return self._outcome("delay_3h_plus", amounts[0], f"{TITLE} s. 19(1): at least 3 h late at the destination, {size} carrier", control, refund, care)
        late = reroute.arrival - incident.scheduled_arrival
        band = sum(1 for limit in _BANDS if late >= limit)
        if band == 0:
            return self._outcome("delay_under_3h", 0, f"{TITLE} s. 19(1): under 3 h late at the destination on the original ticket", control, refund, care)
        letter = "a" if journey.carrier_size is CarrierSize.LARGE else "b"
        hours = ("3-6 h", "6-9 h", "9 h or more")[band - 1]
        return self._outcome(f"delay_band_{band}", amounts[band - 1], f"{TITLE} s. 19(1)({letter})({'i' * band}): {hours} late at the destination, {size} carrier", control, refund, care)

    def _refund(self, incident: Incident, reroute: Reroute | None, control: Control) -> bool:
        if incident.kind is DisruptionKind.DELAYED:
            late = None if reroute is None else reroute.arrival - incident.scheduled_arrival
            if late is not None and late < _BANDS[0]:
                return False
        if control is not Control.EXTRAORDINARY:
            return True
        if reroute is None or reroute.departure is None or incident.scheduled_departure is None:
            return reroute is None
        return reroute.departure - incident.scheduled_departure > _REBOOK_WITHIN

    def _care(self, journey: Journey, incident: Incident, reroute: Reroute | None, control: Control) -> Care:
        if control is Control.EXTRAORDINARY:
            return Care(None, False, f"{TITLE} s. 10: no standards of treatment outside the carrier's control")
        return Care(_CARE_AFTER, overnight(journey, incident, reroute), f"{TITLE} s. 14(1)-(2)")

    def _outcome(self, reason: str, amount: int, basis: str, control: Control, refund: bool, care: Care) -> Outcome:
        return decided(self, reason, amount, basis, control, refund, care)


APPR = Appr()
