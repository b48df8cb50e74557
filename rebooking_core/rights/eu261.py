"""EU261 as data: Regulation (EC) No 261/2004, in euros, with the reasons the CJEU treats as extraordinary.

Every reason code below cites where its classification comes from. The test of Art. 5(3) is
C-549/07 Wallentin-Hermann (para. 23): an event not inherent in the normal exercise of the
carrier's activity and beyond its actual control. Routine technical faults fail it (Wallentin-
Hermann; C-257/14 van der Lans), so do the carrier's own staff striking (C-195/17 Krüsemann;
C-28/20 Airhelp v SAS); a bird strike passes (C-315/15 Pešková). A code in neither list is the
carrier's risk: it bears the burden of proving extraordinary circumstances.
"""

from __future__ import annotations

from types import MappingProxyType

from rebooking_core.rights.article261 import Regulation261
from rebooking_core.rights.facts import Licence
from rebooking_core.rights.territory import Territory

__all__ = ["EU261", "EXTRAORDINARY", "OWN_RISK"]

_WEATHER = "Recital 14: meteorological conditions incompatible with the operation of the flight"
_ATM = "Recital 15: an air traffic management decision for the aircraft on that day"
_AIRPORT = "Recital 14: a restriction or closure decided by the airport or the authorities, beyond the carrier's control"
_EXTERNAL_STRIKE = "Recital 14: a strike outside the carrier (air traffic control, airport staff); C-28/20 Airhelp v SAS sets it apart from the carrier's own staff"
_TECHNICAL = "C-549/07 Wallentin-Hermann; C-257/14 van der Lans: technical faults, even unexpected ones not caused by poor maintenance, are inherent in the carrier's activity"
_HANDLING = "C-549/07 Wallentin-Hermann para. 23: passenger, baggage, cargo and ramp handling are inherent in the carrier's activity"
_CREW = "C-195/17 Krüsemann; C-156/22 to C-158/22 TAP Portugal: crew absence, even sudden illness or death, is the carrier's risk"
_OWN_STRIKE = "C-195/17 Krüsemann; C-28/20 Airhelp v SAS: a strike of the carrier's own staff is not extraordinary"
_KNOCK_ON = "a knock-on delay counts only through its root cause (C-74/19 LE v TAP): send the root cause's code"

#: Reason code -> why the CJEU case law or the Regulation's recitals make it extraordinary (Art. 5(3)).
EXTRAORDINARY: MappingProxyType[str, str] = MappingProxyType(
    {
        "71": _WEATHER,
        "72": _WEATHER,
        "73": _WEATHER,
        "76": _WEATHER + " (the airport clears its runways)",
        "77": _WEATHER,
        "84": _WEATHER + "; " + _ATM,
        "WEAT": _WEATHER,
        "WX": _WEATHER,
        "81": _ATM,
        "82": _ATM,
        "83": _ATM,
        "89": _ATM,
        "ATC": _ATM,
        "ATFM": _ATM,
        "85": "Recital 14: security risks",
        "SEC": "Recital 14: security risks",
        "86": "C-549/07 Wallentin-Hermann para. 23: decisions of immigration, customs or health authorities are beyond the carrier's control",
        "87": "C-308/21 SATA International: a general failure of facilities the airport runs is beyond the carrier's control",
        "88": _AIRPORT,
        "AIRP": _AIRPORT,
        "98": _EXTERNAL_STRIKE,
        "STRK-EXT": _EXTERNAL_STRIKE,
        "STRKX": _EXTERNAL_STRIKE,
        "BIRD": "C-315/15 Pešková and Peška: a collision with a bird is extraordinary",
        "FOD": "C-501/17 Germanwings: tyre damage from a foreign object on the runway is extraordinary",
        "POL": "Recital 14: political instability",
        "VOLC": "C-12/11 McDonagh: a volcanic eruption closing airspace is extraordinary (care is still owed)",
        "MED": "C-549/07 Wallentin-Hermann para. 23: a passenger's medical emergency is not inherent in the carrier's activity",
        "UNRULY": "C-74/19 LE v TAP: a disruptive passenger's behaviour can be extraordinary",
        "MFR": "C-549/07 Wallentin-Hermann para. 26: a hidden manufacturing defect revealed by the manufacturer or an authority",
    }
)

#: Reason codes the case law leaves with the carrier, with the citation.
OWN_RISK: MappingProxyType[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("41", "42", "43", "44", "45", "46", "47", "48", "TECH"), _TECHNICAL),
        **dict.fromkeys(("55", "56", "57", "58"), _TECHNICAL.replace("technical faults", "system failures")),
        **dict.fromkeys(("11", "12", "13", "14", "15", "16", "17", "18", "19", "31", "32", "33", "34", "35", "37", "38", "39"), _HANDLING),
        "36": _HANDLING + "; a general failure of the airport's fuel system is code 87 (C-308/21)",
        "51": "damage in flight covers the carrier's own risks (heavy landing, taxi collision); a bird strike is BIRD (C-315/15), a runway object FOD (C-501/17)",
        "52": "C-394/14 Siewert: a collision of airport stairs with the aircraft is not extraordinary",
        **dict.fromkeys(("61", "62", "63", "65", "66", "68"), _HANDLING.replace("passenger, baggage, cargo and ramp handling", "flight operations")),
        **dict.fromkeys(("64", "67", "CREW"), _CREW),
        "75": "de-icing belongs to normal winter operations (C-549/07 Wallentin-Hermann para. 23); code the weather itself (71-73) when it prevents the flight",
        **dict.fromkeys(("91", "92", "93", "94", "95", "96"), _KNOCK_ON),
        **dict.fromkeys(("97", "STRK"), _OWN_STRIKE),
        "99": "Art. 5(3): an unspecified reason is not shown to be extraordinary",
    }
)

EU261 = Regulation261(
    name="eu261",
    title="Regulation (EC) No 261/2004",
    currency="EUR",
    amounts=(250, 400, 600),
    home=Territory.EU,
    arrivals=MappingProxyType({Territory.EU: frozenset({Licence.EU})}),
    extraordinary=EXTRAORDINARY,
    own_risk=OWN_RISK,
    notice_key="rights.notice.eu261",
    delay_cases="C-402/07 Sturgeon; C-11/11 Folkerts; C-559/16 Bossen",
    care_cases="C-12/11 McDonagh: also in extraordinary circumstances",
)
