"""UK261 table-driven: pounds, UK scope since 2021, the same articles, UK citations of the case law."""

from __future__ import annotations

import datetime as dt

import pytest

from rebooking_core.rights import uk261
from rebooking_core.rights.delay_codes import IATA_CODES, MNEMONICS
from rebooking_core.rights.facts import Licence
from rebooking_core.rights.outcome import Control
from tests.rebooking_core.rights.cases import D, H, M, cancelled, delayed, journey, moved

UK261 = uk261.UK261


@pytest.mark.parametrize(
    ("origin", "destination", "amount", "letter"),
    [
        ("LHR", "EDI", 220, "a"),  # 534 km, domestic
        ("BHD", "LHR", 220, "a"),  # Northern Ireland is the UK
        ("LHR", "CDG", 220, "a"),
        ("LGW", "GIB", 350, "b"),  # 1,717 km
        ("LHR", "ATH", 350, "b"),
        ("LGW", "FNC", 350, "b"),
        ("LHR", "JFK", 520, "c"),
        ("LHR", "DXB", 520, "c"),
    ],
)
def test_amounts_in_pounds_art_7_1(origin: str, destination: str, amount: int, letter: str) -> None:
    outcome = UK261.assess(journey(origin, destination, Licence.UK), cancelled(), None)
    assert (outcome.amount, outcome.currency, outcome.regime) == (amount, "GBP", "uk261")
    assert f"7(1)({letter})" in outcome.basis and "UK261" in outcome.basis


@pytest.mark.parametrize(
    ("origin", "destination", "carrier", "article"),
    [
        ("LHR", "JFK", Licence.OTHER, "3(1)(a)"),  # departures: any carrier
        ("JFK", "LHR", Licence.UK, "3(1)(b)"),  # arrivals in the UK on a UK carrier
        ("JFK", "LHR", Licence.EU, "3(1)(b)"),  # ... or a Community carrier
        ("JFK", "LHR", Licence.OTHER, None),
        ("JFK", "FRA", Licence.UK, "3(1)(b)"),  # arrivals in the EU on a UK carrier
        ("JFK", "FRA", Licence.EU, None),
        ("FRA", "LHR", Licence.EU, "3(1)(b)"),
        ("JER", "LGW", Licence.UK, "3(1)(b)"),  # Jersey is not the UK: an arrival
        ("JER", "LGW", Licence.OTHER, None),
        ("GIB", "LGW", Licence.UK, "3(1)(b)"),  # Gibraltar likewise
        ("LGW", "GIB", Licence.OTHER, "3(1)(a)"),
        ("IOM", "MAN", Licence.OTHER, None),
    ],
)
def test_scope_art_3_1(origin: str, destination: str, carrier: Licence, article: str | None) -> None:
    scope = UK261.scope(journey(origin, destination, carrier))
    assert (None if scope is None else scope.basis.rsplit("Art. ", 1)[1]) == article


@pytest.mark.parametrize(("notice", "late", "amount", "reason"), [(14 * D, None, 0, "notice_14d"), (10 * D, 3 * H, 0, "notice_7d_reroute"), (2 * D, 2 * H, 110, "reroute_halved"), (2 * D, 2 * H + M, 220, "cancelled")])
def test_notice_and_rerouting_art_5_and_7_2(notice: dt.timedelta, late: dt.timedelta | None, amount: int, reason: str) -> None:
    reroute = None if late is None else moved(late, early=H)
    outcome = UK261.assess(journey("LHR", "EDI", Licence.UK), cancelled(notice=notice), reroute)
    assert (outcome.amount, outcome.reason) == (amount, reason)


@pytest.mark.parametrize(("late", "amount", "reason"), [(3 * H - M, 0, "delay_under_3h"), (3 * H + 30 * M, 260, "delay_3h_4h_halved"), (4 * H, 520, "delay_3h_plus")])
def test_delay_at_final_destination(late: dt.timedelta, amount: int, reason: str) -> None:
    outcome = UK261.assess(journey("EDI", "JFK", Licence.UK, "LHR"), delayed(), moved(late))
    assert (outcome.amount, outcome.reason) == (amount, reason)


@pytest.mark.parametrize(
    ("code", "control", "cited"),
    [
        ("BIRD", Control.EXTRAORDINARY, "C-315/15"),
        ("72", Control.EXTRAORDINARY, "Recital 14"),
        ("98", Control.EXTRAORDINARY, "C-195/17"),
        ("41", Control.CARRIER, "C-257/14"),
        ("97", Control.CARRIER, "C-195/17 Krüsemann (retained EU case law)"),
        ("64", Control.CARRIER, "Lipton v BA City Flyer [2024] EWCA Civ 454"),
    ],
)
def test_reasons_cite_what_binds_a_uk_court(code: str, control: Control, cited: str) -> None:
    found, why = UK261.control(code)
    assert found is control and cited in why
    assert UK261.assess(journey("LHR", "JFK"), cancelled(code), None).amount == (0 if control is Control.EXTRAORDINARY else 520)


def test_no_post_2020_cjeu_ruling_is_cited_as_binding() -> None:
    later = ("C-28/20", "C-308/21", "C-156/22")
    for table in (uk261.EXTRAORDINARY, uk261.OWN_RISK):
        for code, why in table.items():
            assert code in IATA_CODES or code in MNEMONICS
            assert not any(case in why for case in later) or "persuasive only" in why, (code, why)


def test_care_and_refund_as_under_eu261() -> None:
    outcome = UK261.assess(journey("LHR", "ATH", Licence.UK), delayed(), moved(5 * H))
    assert outcome.care.meals_after == 3 * H and outcome.refund_right
