"""UK261 as data: Regulation (EC) No 261/2004 as it forms part of UK law since 2021, in pounds.

SI 2019/278 (reg. 8) turned the Regulation into UK law: departures from the United Kingdom
(Art. 3(1)(a)); arrivals from elsewhere in the UK on a Community or UK air carrier, or in the EU
on a UK air carrier (Art. 3(1)(b)); GBP 220 / 350 / 520 (Art. 7(1)). No domestic UK journey is
longer than 1500 km, so Art. 7(1)(b)'s home-territory clause never changes an amount.
CJEU judgments up to 31 December 2020 are retained case law (European Union (Withdrawal) Act
2018 s. 6(3)); later ones bind no UK court (s. 6(1)), which may have regard to them (s. 6(2)):
the citations below say which is which.
"""

from __future__ import annotations

from types import MappingProxyType

from rebooking_core.rights.article261 import Regulation261
from rebooking_core.rights.eu261 import EXTRAORDINARY as EU_EXTRAORDINARY
from rebooking_core.rights.eu261 import OWN_RISK as EU_OWN_RISK
from rebooking_core.rights.facts import Licence
from rebooking_core.rights.territory import Territory

__all__ = ["EXTRAORDINARY", "OWN_RISK", "UK261"]

_RETAINED = " (retained EU case law)"
_LATER = "; later CJEU rulings are persuasive only (EUWA 2018 s. 6(2))"

#: As EU261, the citations restated for UK law where the CJEU ruling came after 2020.
EXTRAORDINARY: MappingProxyType[str, str] = MappingProxyType(
    {
        **{code: why + _RETAINED for code, why in EU_EXTRAORDINARY.items()},
        "87": "C-549/07 Wallentin-Hermann para. 23 (retained EU case law): a general failure of facilities the airport runs is beyond the carrier's control",
        **dict.fromkeys(
            ("98", "STRK-EXT", "STRKX"),
            "Recital 14: a strike outside the carrier (air traffic control, airport staff); C-195/17 Krüsemann (retained EU case law) sets it apart from the carrier's own staff",
        ),
    }
)

OWN_RISK: MappingProxyType[str, str] = MappingProxyType(
    {
        **{code: why + _RETAINED for code, why in EU_OWN_RISK.items()},
        **dict.fromkeys(
            ("64", "67", "CREW"),
            "Lipton v BA City Flyer [2024] EWCA Civ 454: a crew member's illness is not extraordinary; C-195/17 Krüsemann (retained EU case law)",
        ),
        "36": "C-549/07 Wallentin-Hermann para. 23 (retained EU case law): fuelling is the carrier's activity; a failure of the airport's own fuel system is code 87",
        **dict.fromkeys(("97", "STRK"), "C-195/17 Krüsemann (retained EU case law): the carrier's own staff walking out is not extraordinary" + _LATER),
    }
)

UK261 = Regulation261(
    name="uk261",
    title="Regulation (EC) No 261/2004 as retained in UK law (UK261)",
    currency="GBP",
    amounts=(220, 350, 520),
    home=Territory.UK,
    arrivals=MappingProxyType(
        {
            Territory.UK: frozenset({Licence.EU, Licence.UK}),
            Territory.EU: frozenset({Licence.UK}),
        }
    ),
    extraordinary=EXTRAORDINARY,
    own_risk=OWN_RISK,
    notice_key="rights.notice.uk261",
    delay_cases="C-402/07 Sturgeon; C-11/11 Folkerts; C-559/16 Bossen (retained EU case law)",
    care_cases="C-12/11 McDonagh (retained EU case law): also in extraordinary circumstances",
)
