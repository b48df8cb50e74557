"""Which vouchers a wait earns, per regime and distance band, from the rights engine's Care (Art. 6(1), 5(1)(b), 9; APPR s. 14)."""

from __future__ import annotations

import datetime as dt

import pytest

from rebooking_core.care.thresholds import OVERNIGHT, CareKind, Due, due
from rebooking_core.rights.engine import assess
from rebooking_core.rights.facts import Incident, Journey, Licence, Reroute
from rebooking_core.types import DisruptionKind

H = dt.timedelta(hours=1)
LEAD = 3 * H
#: 10:00 UTC on a winter day: noon in Frankfurt, 10:00 in London, 05:00 in Toronto — waits below end the same local day.
SCHEDULED = dt.datetime(2026, 12, 8, 10, 0, tzinfo=dt.UTC)


def _due(
    origin: str,
    destination: str,
    licence: Licence,
    wait: dt.timedelta,
    *,
    kind: DisruptionKind = DisruptionKind.DELAYED,
    reason: str | None = "TECH",
    now: dt.datetime | None = None,
) -> tuple[Due, ...]:
    journey = Journey(origin, destination, licence)
    incident = Incident(
        kind=kind,
        reason_code=reason,
        scheduled_arrival=SCHEDULED + 3 * H,
        scheduled_departure=SCHEDULED,
        station=origin,
    )
    new_departure = SCHEDULED + wait
    outcome = assess(
        journey, incident, Reroute(arrival=new_departure + 3 * H, departure=new_departure)
    )
    return due(
        outcome.care,
        scheduled_departure=SCHEDULED,
        new_departure=new_departure,
        now=now or SCHEDULED,
        lead=LEAD,
    )


MEAL = CareKind.MEAL
NIGHT = (Due(CareKind.HOTEL, OVERNIGHT), Due(CareKind.TRANSFER, OVERNIGHT))


@pytest.mark.parametrize(
    ("origin", "destination", "licence", "wait", "expected"),
    [
        # EU261 Art. 6(1)(a): 1,500 km or less (FRA-MAD 1,418 km) -> 2 h
        ("FRA", "MAD", Licence.EU, 2 * H - dt.timedelta(minutes=1), ()),
        ("FRA", "MAD", Licence.EU, 2 * H, (Due(MEAL, "2h"),)),
        # 6(1)(b): 1,500-3,500 km (FRA-LIS 1,872 km) -> 3 h
        ("FRA", "LIS", Licence.EU, 3 * H - dt.timedelta(minutes=1), ()),
        ("FRA", "LIS", Licence.EU, 3 * H, (Due(MEAL, "3h"),)),
        # 6(1)(b): intra-Community above 1,500 km, however far (CDG-RUN 9,369 km, Réunion is in the EU) -> 3 h
        ("CDG", "RUN", Licence.EU, 3 * H, (Due(MEAL, "3h"),)),
        # 6(1)(c): beyond (FRA-JFK 6,188 km) -> 4 h
        ("FRA", "JFK", Licence.EU, 4 * H - dt.timedelta(minutes=1), ()),
        ("FRA", "JFK", Licence.EU, 4 * H, (Due(MEAL, "4h"),)),
        # UK261 the same, by UK departure
        ("LHR", "EDI", Licence.UK, 2 * H, (Due(MEAL, "2h"),)),
        ("LHR", "ATH", Licence.UK, 3 * H - dt.timedelta(minutes=1), ()),
        ("LHR", "ATH", Licence.UK, 3 * H, (Due(MEAL, "3h"),)),
        ("LHR", "JFK", Licence.UK, 4 * H, (Due(MEAL, "4h"),)),
        # APPR s. 14(1): food and drink after 2 h whatever the distance (YYZ-YVR 3,346 km)
        ("YYZ", "YVR", Licence.CA, 2 * H - dt.timedelta(minutes=1), ()),
        ("YYZ", "YVR", Licence.CA, 2 * H, (Due(MEAL, "2h"),)),
        # out of every regime's scope: JFK-LAX on a carrier of no covered licence
        ("JFK", "LAX", Licence.OTHER, 6 * H, ()),
    ],
)
def test_a_delay_earns_a_meal_from_its_regimes_threshold_by_distance_band(
    origin: str, destination: str, licence: Licence, wait: dt.timedelta, expected: tuple[Due, ...]
) -> None:
    assert _due(origin, destination, licence, wait) == expected


def test_a_cancellation_under_eu261_earns_care_for_any_wait_for_the_rerouting() -> None:
    """Art. 5(1)(b): care at once; the engine says meals after 0 h."""
    assert _due(
        "FRA", "MAD", Licence.EU, dt.timedelta(minutes=30), kind=DisruptionKind.CANCELLED
    ) == (Due(MEAL, "0h"),)
    assert _due("FRA", "MAD", Licence.EU, dt.timedelta(0), kind=DisruptionKind.CANCELLED) == ()


def test_extraordinary_circumstances_keep_care_under_eu261_but_not_under_appr() -> None:
    """C-12/11 McDonagh: care is owed even in extraordinary circumstances; APPR s. 10 sets no standards of treatment then."""
    assert _due("FRA", "MAD", Licence.EU, 2 * H, reason="WX") == (Due(MEAL, "2h"),)
    assert _due("YYZ", "YVR", Licence.CA, 5 * H, reason="WX") == ()


@pytest.mark.parametrize(
    ("origin", "destination", "licence", "threshold"),
    [
        ("FRA", "MAD", Licence.EU, "2h"),
        ("LHR", "JFK", Licence.UK, "4h"),
        ("YYZ", "YVR", Licence.CA, "2h"),
    ],
)
def test_a_new_departure_on_a_later_local_day_earns_a_hotel_and_its_transfer(
    origin: str, destination: str, licence: Licence, threshold: str
) -> None:
    assert _due(origin, destination, licence, 22 * H) == (Due(MEAL, threshold), *NIGHT)


def test_a_short_delay_across_midnight_earns_nothing_below_the_threshold() -> None:
    """Art. 6(1)(ii) sits inside 6(1): a later day with a wait under the band's threshold owes no hotel."""
    late = dt.datetime(2026, 12, 8, 22, 30, tzinfo=dt.UTC)  # 23:30 in Frankfurt
    journey = Journey("FRA", "MAD", Licence.EU)
    incident = Incident(
        kind=DisruptionKind.DELAYED,
        reason_code="TECH",
        scheduled_arrival=late + 3 * H,
        scheduled_departure=late,
        station="FRA",
    )
    reroute = Reroute(arrival=late + 4 * H, departure=late + H)
    outcome = assess(journey, incident, reroute)
    assert outcome.care.hotel
    assert (
        due(outcome.care, scheduled_departure=late, new_departure=late + H, now=late, lead=LEAD)
        == ()
    )


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (SCHEDULED - LEAD - dt.timedelta(minutes=1), ()),  # before passengers are at the airport
        (SCHEDULED - LEAD, (Due(MEAL, "2h"),)),  # Art. 6(1): as soon as the delay is expected
        (SCHEDULED + 3 * H - dt.timedelta(minutes=1), (Due(MEAL, "2h"),)),
        (SCHEDULED + 3 * H, ()),  # the new departure has gone
    ],
)
def test_vouchers_are_issued_only_within_the_waiting_window(
    now: dt.datetime, expected: tuple[Due, ...]
) -> None:
    assert _due("FRA", "MAD", Licence.EU, 3 * H, now=now) == expected
