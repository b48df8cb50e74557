"""EU261 worked examples: scope, bands, extraordinary circumstances, notice, halving, delays."""

from __future__ import annotations

import datetime as dt

import pytest

from rebooking_core.eu261 import EXTRAORDINARY_REASONS, band_eur, compensation
from rebooking_core.types import DisruptionKind

DEP = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def cancel(
    origin: str,
    destination: str,
    *,
    arr_late: dt.timedelta | None,
    dep_early: dt.timedelta = dt.timedelta(0),
    notice: dt.timedelta = dt.timedelta(days=1),
    reason: str | None = None,
    eu: bool = True,
    block: dt.timedelta = 2 * H,
):
    original_arrival = DEP + block
    return compensation(
        origin=origin,
        destination=destination,
        carrier_is_eu=eu,
        disruption_kind=DisruptionKind.CANCELLED,
        reason_code=reason,
        original_arrival=original_arrival,
        new_arrival=None if arr_late is None else original_arrival + arr_late,
        notice=notice,
        original_departure=DEP,
        new_departure=DEP - dep_early,
    )


def delay(origin: str, destination: str, late: dt.timedelta, *, reason: str | None = None):
    return compensation(
        origin=origin,
        destination=destination,
        carrier_is_eu=True,
        disruption_kind="delayed",
        reason_code=reason,
        original_arrival=DEP,
        new_arrival=DEP + late,
        notice=dt.timedelta(0),
    )


@pytest.mark.parametrize(
    ("origin", "destination", "amount"),
    [
        ("FRA", "MAD", 250),  # 1,418 km
        ("CDG", "ATH", 400),  # 2,109 km, intra-EU
        ("FRA", "TLV", 400),  # 2,954 km, leaves the EU
        ("LPA", "HEL", 400),  # 4,696 km but intra-EU: capped at 400
        ("FRA", "JFK", 600),  # 6,188 km
    ],
)
def test_distance_bands(origin: str, destination: str, amount: int) -> None:
    assert band_eur(origin, destination) == amount
    outcome = cancel(origin, destination, arr_late=None)
    assert (outcome.eligible, outcome.amount_eur, outcome.basis) == (
        True,
        amount,
        "cancelled_no_reroute",
    )


def test_scope_departures_any_carrier_arrivals_only_on_eu_carrier() -> None:
    assert cancel("FRA", "JFK", arr_late=None, eu=False).amount_eur == 600
    assert cancel("JFK", "FRA", arr_late=None, eu=True).amount_eur == 600
    outside = cancel("JFK", "FRA", arr_late=None, eu=False)
    assert (outside.eligible, outside.amount_eur, outside.basis) == (False, 0, "out_of_scope")
    assert cancel("JFK", "DXB", arr_late=None, eu=True).basis == "out_of_scope"


@pytest.mark.parametrize("reason", ["WEAT", "atc", " 71 ", "85", "STRK-EXT", "98"])
def test_extraordinary_circumstances_pay_nothing(reason: str) -> None:
    outcome = cancel("FRA", "JFK", arr_late=None, reason=reason)
    assert (outcome.eligible, outcome.amount_eur, outcome.basis) == (False, 0, "extraordinary")
    assert delay("FRA", "JFK", 5 * H, reason=reason).amount_eur == 0


@pytest.mark.parametrize("reason", [None, "TECH", "41", "97", "93"])
def test_technical_own_strike_and_unknown_reasons_are_not_extraordinary(reason: str | None) -> None:
    assert reason is None or reason.strip() not in EXTRAORDINARY_REASONS
    assert cancel("FRA", "JFK", arr_late=None, reason=reason).amount_eur == 600


def test_notice_of_two_weeks_or_more_pays_nothing() -> None:
    assert cancel("FRA", "JFK", arr_late=None, notice=dt.timedelta(days=14)).basis == "notice_14d"
    assert (
        cancel("FRA", "JFK", arr_late=None, notice=dt.timedelta(days=13, hours=23)).amount_eur
        == 600
    )


def test_notice_7_to_14_days_with_close_rerouting() -> None:
    ten_days = dt.timedelta(days=10)
    ok = cancel(
        "FRA",
        "JFK",
        arr_late=3 * H + dt.timedelta(minutes=59),
        dep_early=2 * H,
        notice=ten_days,
        block=8 * H,
    )
    assert (ok.amount_eur, ok.basis) == (0, "notice_7d_reroute")
    # leaves 2h01 earlier: the exemption no longer applies; arrives within 4h, so halved
    early = cancel(
        "FRA", "JFK", arr_late=H, dep_early=2 * H + dt.timedelta(minutes=1), notice=ten_days
    )
    assert (early.amount_eur, early.basis) == (300, "reroute_halved")


def test_notice_under_7_days_art_5_1_c_iii() -> None:
    # FRA-MAD, told 2 days ahead, rerouted leaving 30 min earlier and arriving 1h59 later: nothing owed
    exempt = cancel(
        "FRA",
        "MAD",
        arr_late=H + dt.timedelta(minutes=59),
        dep_early=dt.timedelta(minutes=30),
        notice=dt.timedelta(days=2),
    )
    assert (exempt.eligible, exempt.basis) == (False, "notice_under_7d_reroute")
    # arriving exactly 2h later: no exemption, but within the 2h Art. 7(2) limit -> halved
    halved = cancel("FRA", "MAD", arr_late=2 * H, notice=dt.timedelta(days=2))
    assert (halved.amount_eur, halved.basis) == (125, "reroute_halved")
    # leaving 1h01 earlier: no exemption either
    assert cancel("FRA", "MAD", arr_late=H, dep_early=H + dt.timedelta(minutes=1)).amount_eur == 125


@pytest.mark.parametrize(
    ("origin", "destination", "late", "amount"),
    [
        ("FRA", "MAD", 2 * H + dt.timedelta(minutes=1), 250),  # beyond 2h: full
        ("CDG", "ATH", 3 * H, 200),  # within 3h: half
        ("CDG", "ATH", 3 * H + dt.timedelta(minutes=1), 400),
        ("FRA", "JFK", 4 * H, 300),  # within 4h: half
        ("FRA", "JFK", 4 * H + dt.timedelta(minutes=1), 600),
    ],
)
def test_rerouting_halves_within_art_7_2_limits(
    origin: str, destination: str, late: dt.timedelta, amount: int
) -> None:
    assert cancel(origin, destination, arr_late=late, dep_early=-late).amount_eur == amount


@pytest.mark.parametrize(
    ("origin", "destination", "late", "amount", "basis"),
    [
        ("FRA", "MAD", 2 * H + dt.timedelta(minutes=59), 0, "delay_under_3h"),
        ("FRA", "MAD", 3 * H, 250, "delay_3h_plus"),
        ("CDG", "ATH", 5 * H, 400, "delay_3h_plus"),
        ("FRA", "JFK", 3 * H + dt.timedelta(minutes=30), 300, "delay_3h_4h_halved"),
        ("FRA", "JFK", 4 * H, 600, "delay_3h_plus"),
    ],
)
def test_delay_at_arrival_sturgeon(
    origin: str, destination: str, late: dt.timedelta, amount: int, basis: str
) -> None:
    outcome = delay(origin, destination, late)
    assert (outcome.amount_eur, outcome.basis, outcome.eligible) == (amount, basis, amount > 0)
