"""Canada's APPR table-driven: delay bands by carrier size, the three categories, 14 days' notice, care and refunds."""

from __future__ import annotations

import datetime as dt

import pytest

from rebooking_core.rights import appr
from rebooking_core.rights.appr import APPR, Appr
from rebooking_core.rights.delay_codes import IATA_CODES, MNEMONICS
from rebooking_core.rights.facts import Licence, Reroute
from rebooking_core.rights.outcome import Control
from tests.rebooking_core.rights.cases import DEP, D, H, M, cancelled, delayed, journey, moved


# s. 19(1): by the delay of arrival at the destination on the original ticket, large / small carrier.
@pytest.mark.parametrize(
    ("late", "large", "small", "reason"),
    [
        (3 * H - M, 0, 0, "delay_under_3h"),
        (3 * H, 400, 125, "delay_band_1"),
        (6 * H - M, 400, 125, "delay_band_1"),
        (6 * H, 700, 250, "delay_band_2"),
        (9 * H - M, 700, 250, "delay_band_2"),
        (9 * H, 1000, 500, "delay_band_3"),
        (30 * H, 1000, 500, "delay_band_3"),
    ],
)
def test_compensation_by_arrival_delay_and_carrier_size(late: dt.timedelta, large: int, small: int, reason: str) -> None:
    for size_small, amount in ((False, large), (True, small)):
        for incident in (delayed(), cancelled()):
            outcome = APPR.assess(journey("YUL", "YVR", Licence.CA, "YYZ", small=size_small), incident, moved(late))
            assert (outcome.amount, outcome.currency, outcome.reason) == (amount, "CAD", reason)
            assert "s. 19(1)" in outcome.basis


def test_a_refunded_passenger_gets_400_or_125_s_19_2() -> None:
    assert APPR.assess(journey("YYZ", "YVR", Licence.CA), cancelled(), None).amount == 400
    small = APPR.assess(journey("YYZ", "YVR", Licence.CA, small=True), cancelled(), None)
    assert (small.amount, small.reason) == (125, "refunded") and "s. 19(2)(b)" in small.basis


@pytest.mark.parametrize(
    ("code", "control", "section"),
    [
        ("72", Control.EXTRAORDINARY, "s. 10(1)(c)"),
        ("89", Control.EXTRAORDINARY, "s. 10(1)(d)"),
        ("BIRD", Control.EXTRAORDINARY, "s. 10(1)(i)"),
        ("97", Control.EXTRAORDINARY, "s. 10(1)(j)"),  # own staff's strike: outside control, unlike EU261
        ("MED", Control.EXTRAORDINARY, "s. 10(1)(h)"),
        ("MFR", Control.EXTRAORDINARY, "s. 10(1)(k)"),
        ("41", Control.SAFETY, "s. 11"),
        ("SAFE", Control.SAFETY, "s. 11"),
        ("42", Control.CARRIER, "excludes scheduled maintenance"),
        ("64", Control.CARRIER, "s. 12"),
        ("14", Control.CARRIER, "s. 12"),
        (None, Control.CARRIER, "s. 12"),
    ],
)
def test_three_categories(code: str | None, control: Control, section: str) -> None:
    found, why = APPR.control(code)
    assert found is control and section in why
    outcome = APPR.assess(journey("YYZ", "YVR", Licence.CA), cancelled(code), moved(4 * H))
    assert outcome.amount == (400 if control is Control.CARRIER else 0)
    assert outcome.reason == {Control.CARRIER: "delay_band_1", Control.SAFETY: "required_for_safety", Control.EXTRAORDINARY: "outside_control"}[control]


def test_when_the_2023_amendments_apply_safety_no_longer_spares_compensation() -> None:
    amended = Appr(safety_exempts=False)
    assert amended.assess(journey("YYZ", "YVR", Licence.CA), cancelled("41"), moved(4 * H)).amount == 400
    assert amended.assess(journey("YYZ", "YVR", Licence.CA), cancelled("72"), moved(4 * H)).amount == 0
    assert "S.C. 2023, c. 26" in (appr.__doc__ or "")


# s. 12(2)(d), (3)(d): compensation only when told 14 days or less before departure (14 days exactly still pays).
@pytest.mark.parametrize(("notice", "amount"), [(14 * D, 400), (14 * D + M, 0)])
def test_notice_of_14_days(notice: dt.timedelta, amount: int) -> None:
    outcome = APPR.assess(journey("YYZ", "YVR", Licence.CA), cancelled(notice=notice), moved(4 * H))
    assert outcome.amount == amount
    assert (outcome.reason == "notice_14d") is (amount == 0)


def test_care_after_two_hours_within_control_none_outside() -> None:
    inside = APPR.assess(journey("YYZ", "YVR", Licence.CA), delayed("41"), moved(4 * H))
    assert inside.care.meals_after == 2 * H and "s. 14" in inside.care.basis
    outside = APPR.assess(journey("YYZ", "YVR", Licence.CA), delayed("72"), moved(4 * H))
    assert outside.care.meals_after is None


@pytest.mark.parametrize(
    ("code", "leaves_after", "refund"),
    [("41", 5 * H, True), ("72", 47 * H, False), ("72", 48 * H + M, True)],
)
def test_refund_within_control_or_no_rebooking_within_48_h(code: str, leaves_after: dt.timedelta, refund: bool) -> None:
    reroute = Reroute(arrival=DEP + leaves_after + 5 * H, departure=DEP + leaves_after)
    assert APPR.assess(journey("YYZ", "YVR", Licence.CA), cancelled(code), reroute).refund_right is refund
    assert APPR.assess(journey("YYZ", "YVR", Licence.CA), cancelled("72"), None).refund_right


@pytest.mark.parametrize(
    ("origin", "destination", "via", "covered", "primary"),
    [
        ("YYZ", "YVR", (), True, True),
        ("YYZ", "JFK", (), True, True),
        ("JFK", "YYZ", (), True, False),
        ("ORD", "FRA", ("YYZ",), True, False),  # a connection through Canada
        ("JFK", "FSP", (), False, False),  # Saint-Pierre-et-Miquelon is French
        ("LHR", "JFK", (), False, False),
    ],
)
def test_scope_flights_to_from_within_canada(origin: str, destination: str, via: tuple[str, ...], covered: bool, primary: bool) -> None:
    scope = APPR.scope(journey(origin, destination, Licence.OTHER, *via))
    assert (scope is not None) is covered
    assert scope is None or scope.primary is primary


def test_every_code_is_cited() -> None:
    for table in (appr.OUTSIDE_CONTROL, appr.SAFETY, appr.WITHIN_CONTROL):
        for code, why in table.items():
            assert (code in IATA_CODES or code in MNEMONICS) and why.strip()
