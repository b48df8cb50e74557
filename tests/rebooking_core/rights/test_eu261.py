"""EU261 table-driven from the Regulation's articles and the CJEU's rulings; `rebooking_core.eu261` still answers the same."""

from __future__ import annotations

import datetime as dt

import pytest

from rebooking_core import eu261 as compat
from rebooking_core.rights import eu261
from rebooking_core.rights.delay_codes import IATA_CODES, MNEMONICS
from rebooking_core.rights.engine import assess
from rebooking_core.rights.facts import Licence, Reroute
from rebooking_core.rights.outcome import Control
from tests.rebooking_core.rights.cases import DEP, D, H, M, cancelled, delayed, journey, moved

EU261 = eu261.EU261


# Art. 7(1) and 7(4): great-circle distance from first departure to final destination (C-559/16 Bossen).
@pytest.mark.parametrize(
    ("origin", "destination", "via", "amount", "letter"),
    [
        ("FRA", "MAD", (), 250, "a"),  # 1,418 km
        ("LIS", "PDL", (), 250, "a"),  # 1,449 km to the Azores
        ("MAD", "LPA", (), 400, "b"),  # 1,766 km to the Canaries: intra-Community
        ("FRA", "TLV", (), 400, "b"),  # 2,954 km, leaves the EU
        ("LPA", "HEL", (), 400, "b"),  # 4,696 km but intra-Community
        ("CDG", "RUN", (), 400, "b"),  # 9,369 km to Réunion: intra-Community, an outermost region
        ("CDG", "PTP", (), 400, "b"),  # Guadeloupe likewise
        ("CDG", "NOU", (), 600, "c"),  # New Caledonia is an OCT: not intra-Community
        ("FRA", "JFK", (), 600, "c"),  # 6,188 km
        ("MUC", "JFK", ("FRA",), 600, "c"),  # a connection: origin to final destination
        ("FRA", "MAD", ("JFK",), 250, "a"),  # a detour does not raise the band: Bossen
    ],
)
def test_distance_bands_art_7_1(origin: str, destination: str, via: tuple[str, ...], amount: int, letter: str) -> None:
    outcome = EU261.assess(journey(origin, destination, Licence.EU, *via), cancelled(), None)
    assert (outcome.amount, outcome.currency, outcome.reason) == (amount, "EUR", "cancelled_no_reroute")
    assert f"Art. 3(1)(a), 5(1)(c), 7(1)({letter})" in outcome.basis


# Art. 3(1): departures from the EU on any carrier; arrivals from outside only on a Community carrier.
@pytest.mark.parametrize(
    ("origin", "destination", "carrier", "covered", "article"),
    [
        ("FRA", "JFK", Licence.OTHER, True, "3(1)(a)"),
        ("JFK", "FRA", Licence.EU, True, "3(1)(b)"),
        ("JFK", "FRA", Licence.OTHER, False, None),
        ("JFK", "FRA", Licence.UK, False, None),  # a UK carrier is no Community carrier since 2021
        ("LHR", "FRA", Licence.EU, True, "3(1)(b)"),  # the UK is a third country
        ("PPT", "CDG", Licence.OTHER, False, None),  # from an OCT on a non-Community carrier
        ("PPT", "CDG", Licence.EU, True, "3(1)(b)"),
        ("GIB", "MAD", Licence.EU, True, "3(1)(b)"),
        ("JFK", "DXB", Licence.EU, False, None),
    ],
)
def test_scope_art_3_1(origin: str, destination: str, carrier: Licence, covered: bool, article: str | None) -> None:
    scope = EU261.scope(journey(origin, destination, carrier))
    assert (scope is not None) is covered
    if scope is not None:
        assert scope.basis.endswith(f"Art. {article}") and scope.primary is (article == "3(1)(a)")
    assert compat.in_scope(origin=origin, destination=destination, carrier_is_eu=carrier is Licence.EU) is (
        covered and (carrier is Licence.EU or article == "3(1)(a)")
    )


@pytest.mark.parametrize("code", ["71", "72", "73", "76", "77", "WO", "wx", "81", "82", "83", "84", "89", "85", "86", "87", "88", "98", "STRK-EXT", "BIRD", "FOD", "VOLC", "UNRULY", "MFR", "MED", "POL"])
def test_extraordinary_circumstances_art_5_3_pay_nothing_but_care_stays(code: str) -> None:
    for incident in (cancelled(code), delayed(code)):
        outcome = EU261.assess(journey("FRA", "JFK"), incident, moved(6 * H))
        assert (outcome.amount, outcome.reason, outcome.control) == (0, "extraordinary", Control.EXTRAORDINARY)
        assert "5(3)" in outcome.basis and outcome.care.meals_after is not None  # C-12/11 McDonagh
    assert compat.is_extraordinary(code)


@pytest.mark.parametrize(
    ("code", "case"),
    [
        ("41", "C-257/14"),  # routine technical fault: van der Lans
        ("42", "C-549/07"),  # maintenance: Wallentin-Hermann
        ("TECH", "C-257/14"),
        ("TD", "C-257/14"),  # the alphabetic AHM code of 41
        ("97", "C-28/20"),  # own staff's strike: Airhelp v SAS
        ("STRK", "C-195/17"),  # Krüsemann
        ("64", "C-156/22"),  # crew absence: TAP Portugal
        ("52", "C-394/14"),  # stairs hitting the aircraft: Siewert
        ("93", "C-74/19"),  # knock-on: only through the root cause
        ("75", "C-549/07"),  # de-icing
    ],
)
def test_the_carriers_own_risks_pay_and_say_why(code: str, case: str) -> None:
    control, why = EU261.control(code)
    assert control is Control.CARRIER and case in why
    assert EU261.assess(journey("FRA", "JFK"), cancelled(code), None).amount == 600
    assert not compat.is_extraordinary(code)


def test_every_numeric_code_classified_is_an_iata_code_and_every_code_is_cited() -> None:
    for table in (eu261.EXTRAORDINARY, eu261.OWN_RISK):
        for code, why in table.items():
            assert code in IATA_CODES or code in MNEMONICS, code
            assert why.strip()
    assert set(eu261.EXTRAORDINARY).isdisjoint(eu261.OWN_RISK)
    assert compat.EXTRAORDINARY_REASONS is eu261.EXTRAORDINARY


# Art. 5(1)(c): notice periods and the rerouting that makes early notice enough.
@pytest.mark.parametrize(
    ("notice", "early", "late", "amount", "reason", "point"),
    [
        (14 * D, None, None, 0, "notice_14d", "(i)"),
        (14 * D - M, None, None, 600, "cancelled_no_reroute", ""),
        (10 * D, 2 * H, 4 * H - M, 0, "notice_7d_reroute", "(ii)"),
        (10 * D, 2 * H + M, 4 * H - M, 300, "reroute_halved", ""),  # leaves too early: no exemption, within 4 h: halved
        (10 * D, 2 * H, 4 * H + M, 600, "cancelled", ""),
        (7 * D, H, 3 * H, 0, "notice_7d_reroute", "(ii)"),  # exactly 7 days is the (ii) window
        (7 * D - M, H, H + 59 * M, 0, "notice_under_7d_reroute", "(iii)"),
        (2 * D, H, 2 * H, 300, "reroute_halved", ""),  # arrives exactly 2 h later: no exemption
        (2 * D, H + M, H, 300, "reroute_halved", ""),  # leaves 1h01 earlier
    ],
)
def test_notice_periods_art_5_1_c(
    notice: dt.timedelta, early: dt.timedelta | None, late: dt.timedelta | None, amount: int, reason: str, point: str
) -> None:
    reroute = None if late is None else moved(late, early=early)
    outcome = EU261.assess(journey("FRA", "JFK"), cancelled(notice=notice), reroute)
    assert (outcome.amount, outcome.reason) == (amount, reason)
    assert f"5(1)(c){point}" in outcome.basis


# Art. 7(2): a rerouting arriving within 2 / 3 / 4 h of the original arrival halves the amount.
@pytest.mark.parametrize(
    ("origin", "destination", "late", "amount"),
    [
        ("FRA", "MAD", 2 * H, 125),
        ("FRA", "MAD", 2 * H + M, 250),
        ("CDG", "ATH", 3 * H, 200),
        ("CDG", "ATH", 3 * H + M, 400),
        ("FRA", "JFK", 4 * H, 300),
        ("FRA", "JFK", 4 * H + M, 600),
    ],
)
def test_rerouting_reductions_art_7_2(origin: str, destination: str, late: dt.timedelta, amount: int) -> None:
    outcome = EU261.assess(journey(origin, destination), cancelled(), moved(late))
    assert outcome.amount == amount
    assert ("7(2)" in outcome.basis) is (amount in (125, 200, 300))


# Delays: 3 h at the final destination (Sturgeon, Folkerts); band (c) halved between 3 and 4 h.
@pytest.mark.parametrize(
    ("origin", "destination", "via", "late", "amount", "reason"),
    [
        ("FRA", "MAD", (), 3 * H - M, 0, "delay_under_3h"),
        ("FRA", "MAD", (), 3 * H, 250, "delay_3h_plus"),
        ("CDG", "ATH", (), 5 * H, 400, "delay_3h_plus"),
        ("FRA", "JFK", (), 3 * H + 30 * M, 300, "delay_3h_4h_halved"),
        ("FRA", "JFK", (), 4 * H, 600, "delay_3h_plus"),
        # a connection: the first leg's 2 h delay broke it, the final arrival is 5 h late: owed (C-11/11 Folkerts)
        ("MUC", "JFK", ("FRA",), 5 * H, 600, "delay_3h_plus"),
        # a long first-leg delay made up by the final arrival: nothing owed
        ("MUC", "JFK", ("FRA",), 2 * H, 0, "delay_under_3h"),
    ],
)
def test_delay_at_the_final_destination(
    origin: str, destination: str, via: tuple[str, ...], late: dt.timedelta, amount: int, reason: str
) -> None:
    outcome = EU261.assess(journey(origin, destination, Licence.EU, *via), delayed(), moved(late))
    assert (outcome.amount, outcome.reason, outcome.eligible) == (amount, reason, amount > 0)


# Art. 6(1) and 9: care from 2 / 3 / 4 h by band; a hotel when the new departure is a later day.
@pytest.mark.parametrize(
    ("origin", "destination", "after"),
    [("FRA", "MAD", 2 * H), ("CDG", "ATH", 3 * H), ("MAD", "LPA", 3 * H), ("FRA", "JFK", 4 * H)],
)
def test_care_thresholds_by_distance_band(origin: str, destination: str, after: dt.timedelta) -> None:
    care = EU261.assess(journey(origin, destination), delayed(), moved(H)).care
    assert care.meals_after == after and not care.hotel and "Art. 6(1)" in care.basis
    assert EU261.assess(journey(origin, destination), cancelled(), moved(H)).care.meals_after == dt.timedelta(0)


def test_a_hotel_when_the_new_departure_is_the_next_local_day() -> None:
    # 08:00 UTC is 10:00 in Frankfurt; 21:59 UTC the same evening (23:59 local) needs no night, 22:01 UTC does
    same_evening = Reroute(arrival=DEP + 24 * H, departure=DEP + 13 * H + 59 * M)
    next_day = Reroute(arrival=DEP + 24 * H, departure=DEP + 14 * H + M)
    assert not EU261.assess(journey("FRA", "JFK"), delayed(), same_evening).care.hotel
    assert EU261.assess(journey("FRA", "JFK"), delayed(), next_day).care.hotel


# Art. 8(1)(a) and 6(1)(iii): a refund on every cancellation, and on a delay of 5 h or more.
@pytest.mark.parametrize(("late", "refund"), [(5 * H - M, False), (5 * H, True)])
def test_refund_right(late: dt.timedelta, refund: bool) -> None:
    assert EU261.assess(journey("FRA", "MAD"), delayed(), moved(late)).refund_right is refund
    assert EU261.assess(journey("FRA", "MAD"), cancelled(), moved(late)).refund_right


def test_the_engine_and_the_compat_call_agree_and_carry_the_legal_basis() -> None:
    outcome = assess(journey("FRA", "JFK", Licence.EU), cancelled(), moved(3 * H))
    old = compat.compensation(
        origin="FRA",
        destination="JFK",
        carrier_is_eu=True,
        disruption_kind="cancelled",
        reason_code=None,
        original_arrival=DEP + 3 * H,
        new_arrival=DEP + 6 * H,
        notice=D,
        original_departure=DEP,
        new_departure=DEP + 3 * H,
    )
    assert (old.eligible, old.amount_eur, old.basis) == (True, 300, "reroute_halved")
    assert (outcome.regime, outcome.amount, outcome.reason, outcome.notice_key) == ("eu261", 300, "reroute_halved", "rights.notice.eu261")
    assert old.legal_basis == outcome.basis == "Regulation (EC) No 261/2004 Art. 3(1)(a), 5(1)(c), 7(1)(c), 7(2)(c)"
