"""The engine picks one regime per journey (departure territory first) and names the others."""

from __future__ import annotations

import pytest

from rebooking_core.rights.engine import NONE, applicable, assess
from rebooking_core.rights.facts import Licence
from tests.rebooking_core.rights.cases import H, cancelled, journey, moved

EU, UK, CA, OTHER = Licence.EU, Licence.UK, Licence.CA, Licence.OTHER


@pytest.mark.parametrize(
    ("origin", "destination", "carrier", "via", "regime", "also", "currency"),
    [
        ("FRA", "JFK", OTHER, (), "eu261", (), "EUR"),
        ("LHR", "FRA", EU, (), "uk261", ("eu261",), "GBP"),  # UK -> EU on an EU carrier: UK261 decides
        ("FRA", "LHR", UK, (), "eu261", ("uk261",), "EUR"),  # EU -> UK on a UK carrier: EU261 decides
        ("FRA", "LHR", EU, (), "eu261", ("uk261",), "EUR"),
        ("JFK", "FRA", UK, (), "uk261", (), "GBP"),  # into the EU on a UK carrier: only UK261 reaches it
        ("JFK", "LHR", EU, (), "uk261", (), "GBP"),
        ("YYZ", "FRA", EU, (), "appr", ("eu261",), "CAD"),  # from Canada on an EU carrier
        ("FRA", "YYZ", CA, (), "eu261", ("appr",), "EUR"),  # from the EU to Canada
        ("YYZ", "LHR", UK, (), "appr", ("uk261",), "CAD"),
        ("ORD", "FRA", EU, ("YYZ",), "eu261", ("appr",), "EUR"),  # no departure regime: arrival first
        ("ORD", "FRA", CA, ("YYZ",), "appr", (), "CAD"),
        ("JER", "LGW", UK, (), "uk261", (), "GBP"),
        ("CDG", "PPT", OTHER, (), "eu261", (), "EUR"),
        ("PPT", "CDG", OTHER, (), "none", (), ""),
        ("JFK", "LHR", OTHER, (), "none", (), ""),
    ],
)
def test_one_regime_decides(
    origin: str, destination: str, carrier: Licence, via: tuple[str, ...], regime: str, also: tuple[str, ...], currency: str
) -> None:
    outcome = assess(journey(origin, destination, carrier, *via), cancelled(), moved(5 * H))
    assert (outcome.regime, outcome.also, outcome.currency) == (regime, also, currency)
    assert outcome.basis
    if regime == "none":
        assert outcome == NONE
    else:
        assert [r.name for r, _ in applicable(journey(origin, destination, carrier, *via))] == [regime, *also]


def test_an_unknown_airport_is_a_key_error_not_a_guess() -> None:
    with pytest.raises(KeyError):
        assess(journey("QQQ", "FRA"), cancelled())
