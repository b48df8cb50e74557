"""The notice of rights follows the regime that decides for the journey; the page's amounts are the engine's."""

from __future__ import annotations

import pytest

import locales
from rebooking_core.rights.appr import APPR
from rebooking_core.rights.eu261 import EU261
from rebooking_core.rights.facts import Licence
from rebooking_core.rights.notice import bands, notice_for, page_path
from rebooking_core.rights.uk261 import UK261


@pytest.mark.parametrize(
    ("origin", "destination", "carrier", "regime"),
    [
        ("FRA", "JFK", Licence.EU, "eu261"),  # departure from the EU, any carrier
        ("JFK", "CDG", Licence.EU, "eu261"),  # arrival in the EU on an EU carrier
        ("JFK", "CDG", Licence.OTHER, None),  # arrival in the EU on a non-EU carrier
        ("LHR", "JFK", Licence.OTHER, "uk261"),
        ("JFK", "LHR", Licence.UK, "uk261"),
        ("LHR", "CDG", Licence.EU, "uk261"),  # departure territory decides first
        ("YYZ", "JFK", Licence.OTHER, "appr"),
        ("JFK", "YVR", Licence.OTHER, "appr"),
        ("JFK", "LAX", Licence.EU, None),
        ("ZZZ", "LAX", Licence.EU, None),  # an unknown airport gets no notice, not an error
    ],
)
def test_the_deciding_regime_gives_the_notice(
    origin: str, destination: str, carrier: Licence, regime: str | None
) -> None:
    found = notice_for(origin, destination, carrier)
    assert (found.regime if found else None) == regime
    if found is not None:
        assert found.key == f"rights.notice.{regime}"
        for lang in locales.SUPPORTED:
            assert locales.render(found.key, lang)
            assert len(locales.render(found.short_key, lang)) < len(locales.render(found.key, lang))


def test_page_path_names_regime_and_language() -> None:
    assert page_path("uk261", "fr") == "/rights/uk261?lang=fr"


def test_amount_tables_are_the_engines_own() -> None:
    assert bands("eu261")[0] == "EUR"
    assert tuple(b.amounts[0] for b in bands("eu261")[1]) == EU261.amounts == (250, 400, 600)
    assert tuple(b.amounts[0] for b in bands("uk261")[1]) == UK261.amounts == (220, 350, 520)
    currency, rows = bands("appr")
    assert currency == APPR.currency == "CAD"
    assert [b.amounts for b in rows] == [(400, 125), (700, 250), (1000, 500)]
