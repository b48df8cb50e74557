"""Every territory with its own rule, by the IATA codes of its airports (a country code alone is not enough)."""

from __future__ import annotations

import pytest

from rebooking_core import airports
from rebooking_core.rights.territory import COUNTRIES, Territory, of

EU, UK, CA, OTHER = Territory.EU, Territory.UK, Territory.CA, Territory.OTHER

CASES = [
    # member states, mainland
    ("FRA", EU), ("CDG", EU), ("MAD", EU), ("LCA", EU), ("PFO", EU), ("MLA", EU), ("DUB", EU), ("VIE", EU),
    # outermost regions (Art. 349 and 355(1) TFEU)
    *[(code, EU) for code in ("LPA", "TFS", "TFN", "ACE", "FUE", "SPC", "GMZ", "VDE")],  # Canary Islands
    ("FNC", EU), ("PXO", EU),  # Madeira
    *[(code, EU) for code in ("PDL", "TER", "HOR", "PIX", "SMA", "FLW")],  # Azores
    ("PTP", EU),  # Guadeloupe (airportsdata: GP)
    ("FDF", EU),  # Martinique (MQ)
    ("RUN", EU), ("ZSE", EU),  # Réunion (RE)
    ("DZA", EU),  # Mayotte (YT), outermost region since 2014
    ("CAY", EU),  # French Guiana (GF)
    ("SFG", EU),  # Saint-Martin, the French side (MF)
    # special parts of member states where the Treaties apply
    ("MHQ", EU),  # Åland (Art. 355(4) TFEU)
    ("MLN", EU),  # Melilla
    ("HGL", EU),  # Heligoland
    ("BSL", EU), ("MLH", EU),  # EuroAirport, on French soil
    # EEA and Switzerland
    ("KEF", EU), ("RKV", EU), ("AEY", EU),  # Iceland
    ("OSL", EU), ("BGO", EU), ("TOS", EU),  # Norway
    ("ZRH", EU), ("GVA", EU),  # Switzerland
    # overseas countries and territories (Art. 355(2) TFEU, Annex II): not EU261
    ("SXM", OTHER),  # Sint Maarten, the Dutch side of the same island as SFG
    ("SBH", OTHER),  # Saint-Barthélemy, an OCT since 2012
    ("FSP", OTHER),  # Saint-Pierre-et-Miquelon
    ("PPT", OTHER),  # French Polynesia
    ("NOU", OTHER), ("GEA", OTHER),  # New Caledonia
    ("WLS", OTHER),  # Wallis and Futuna
    ("AUA", OTHER), ("CUR", OTHER), ("BON", OTHER), ("EUX", OTHER), ("SAB", OTHER),
    ("GOH", OTHER), ("SFJ", OTHER), ("UAK", OTHER),  # Greenland
    ("FAE", OTHER),  # Faroe Islands (Art. 355(5)(a) TFEU)
    # country codes that mislead
    ("LYR", OTHER),  # Svalbard: Norwegian, outside the EEA Agreement
    ("ECN", OTHER),  # northern Cyprus: acquis suspended
    # the United Kingdom after 2020, Northern Ireland included
    ("LHR", UK), ("LGW", UK), ("MAN", UK), ("EDI", UK), ("BFS", UK), ("BHD", UK),
    # decided: neither EU261 nor UK261 territory
    ("GIB", OTHER),  # Gibraltar
    ("JER", OTHER), ("GCI", OTHER), ("ACI", OTHER),  # Channel Islands
    ("IOM", OTHER),  # Isle of Man
    # Canada
    ("YYZ", CA), ("YUL", CA), ("YVR", CA), ("YQX", CA),
    # elsewhere
    ("JFK", OTHER), ("TLV", OTHER), ("DXB", OTHER),
]


@pytest.mark.parametrize(("iata", "expected"), CASES)
def test_territory_of_every_airport_kind(iata: str, expected: Territory) -> None:
    airport = airports.get(iata)
    assert airport.territory is expected
    assert airport.in_eu261_area is (expected is EU)


def test_country_codes_alone_would_get_svalbard_and_northern_cyprus_wrong() -> None:
    assert COUNTRIES["NO"] is EU and COUNTRIES["CY"] is EU
    assert of("LYR", "NO") is OTHER and of("ECN", "CY") is OTHER
    assert of("lyr", "no") is OTHER and of("OSL", "no") is EU


def test_an_unlisted_country_is_outside_every_regime() -> None:
    assert of("XXX", "US") is OTHER and of("XXX", "") is OTHER
