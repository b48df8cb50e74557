"""Which passenger-rights territory an airport lies in: a country code alone does not decide it.

- EU261 applies where the Treaties apply (Reg. 261/2004 Art. 3(1)(a); Art. 355 TFEU): the 27
  member states, including the outermost regions (Art. 349 and 355(1) TFEU: Canary Islands,
  Madeira, Azores, Guadeloupe, Martinique, Réunion, Mayotte, French Guiana, Saint-Martin), the
  Åland Islands (Art. 355(4)), Ceuta and Melilla, Heligoland. `airportsdata` files six of the
  French regions under their own ISO codes (GP, MQ, RE, YT, GF, MF): they are listed here.
- The EEA EFTA states (Iceland, Norway, Liechtenstein) apply it through the EEA Agreement
  (Annex XIII), Switzerland through the EC–Swiss Air Transport Agreement of 1999 (Annex).
- Not EU261 territory:
  - overseas countries and territories (Art. 355(2) TFEU and Annex II): Greenland, New
    Caledonia, French Polynesia, Wallis and Futuna, Saint-Pierre-et-Miquelon, Saint-Barthélemy
    (an OCT since 2012, European Council Decision 2010/718/EU), Aruba, Curaçao, Sint Maarten,
    Bonaire, Sint Eustatius, Saba;
  - the Faroe Islands (Art. 355(5)(a) TFEU);
  - Svalbard (LYR), although Norwegian: the EEA Agreement does not apply there (Protocol 40);
  - northern Cyprus (ECN): the acquis is suspended where the Republic of Cyprus exercises no
    effective control (2003 Act of Accession, Protocol No 10, Art. 1);
  - the United Kingdom since 1 January 2021 (it left the EU; the EU–UK Trade and Cooperation
    Agreement does not extend Reg. 261/2004).
- UK261 applies to departures from "the United Kingdom" (retained Reg. 261/2004 Art. 3(1)(a) as
  amended by SI 2019/278): Great Britain and Northern Ireland (Interpretation Act 1978, Sch. 1),
  so Belfast is UK261 territory (Reg. 261/2004 is not among the EU acts the Windsor Framework
  applies in Northern Ireland).
- Decided and cited, neither EU261 nor UK261 territory:
  - Gibraltar (GIB): EU261 never applied at its airport (Reg. 261/2004 Art. 1(3) suspended it
    pending the 1987 Spain–UK declaration), it left the EU with the UK, and it is not part of the
    United Kingdom, so UK261 Art. 3(1)(a) does not reach it either. A flight from Gibraltar to the
    UK on a UK or EU carrier is still UK261 through Art. 3(1)(b).
  - Jersey, Guernsey, Alderney (Channel Islands) and the Isle of Man: Crown Dependencies, never
    part of the EU (EU law reached them only as Protocol 3 to the 1972 Act of Accession set out:
    customs and agriculture) and not part of the United Kingdom (Interpretation Act 1978, Sch. 1).
    As for Gibraltar, arrivals in the UK on a UK or EU carrier are UK261 through Art. 3(1)(b).
- APPR: airports in Canada (Saint-Pierre-et-Miquelon, off Newfoundland, is French: an OCT).
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType

__all__ = ["AIRPORT_EXCEPTIONS", "COUNTRIES", "Territory", "of"]


class Territory(StrEnum):
    """Where an airport lies for passenger rights."""

    EU = "eu"
    UK = "uk"
    CA = "ca"
    OTHER = "other"


_EU_MEMBER_STATES = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"]
#: Iceland, Liechtenstein and Norway (EEA Agreement, Annex XIII) and Switzerland (Air Transport Agreement).
_EEA_AND_SWISS = ("IS", "LI", "NO", "CH")
#: Outermost regions that airportsdata files under their own ISO code (the Canaries, Madeira and the Azores are ES/PT).
_OUTERMOST_OWN_CODES = ("GP", "MQ", "RE", "YT", "GF", "MF")

#: Territory by ISO country code, as airportsdata gives it; a code not listed is OTHER.
COUNTRIES: MappingProxyType[str, Territory] = MappingProxyType(
    {
        **dict.fromkeys(_EU_MEMBER_STATES, Territory.EU),
        **dict.fromkeys(_EEA_AND_SWISS, Territory.EU),
        **dict.fromkeys(_OUTERMOST_OWN_CODES, Territory.EU),
        "GB": Territory.UK,
        "CA": Territory.CA,
    }
)

#: Airports whose country code misleads, with why (see the module docstring).
AIRPORT_EXCEPTIONS: MappingProxyType[str, tuple[Territory, str]] = MappingProxyType(
    {
        "LYR": (Territory.OTHER, "Svalbard: the EEA Agreement does not apply (Protocol 40)"),
        "ECN": (Territory.OTHER, "northern Cyprus: acquis suspended (2003 Act of Accession, Protocol No 10)"),
    }
)


def of(iata: str, country: str) -> Territory:
    """The territory of airport `iata` that airportsdata files under `country`."""
    exception = AIRPORT_EXCEPTIONS.get(iata.upper())
    if exception is not None:
        return exception[0]
    return COUNTRIES.get(country.upper(), Territory.OTHER)
