"""Flight-status documents into updates: each status against what the flight was before, ids stable for the same status."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from rebooking_core.flight_updates import UpdateKind
from rebooking_core.ingest.flightstatus import (
    MalformedStatus,
    Previous,
    Status,
    parse_status,
    to_updates,
)
from tests.fakes.flightstatus_api import status_doc

DAY = dt.date(2026, 12, 6)
STD = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)
AT = dt.datetime(2026, 12, 6, 7, 0, tzinfo=dt.UTC)


def doc(status: str, *, late: int = 0, **more: Any) -> dict[str, Any]:
    return status_doc("RB", "391", DAY, status, updated_at=AT, scheduled=STD, estimated=STD + dt.timedelta(minutes=late), **more)


def kinds(document: dict[str, Any], **options: Any) -> list[UpdateKind]:
    return [u.kind for u in to_updates(parse_status(document), source="acme", **options)]


@pytest.mark.parametrize(
    ("document", "previous", "quiet", "expected"),
    [
        (doc("cancelled"), None, False, [UpdateKind.CANCELLATION]),
        (doc("diverted", diverted_to="BRU"), None, False, [UpdateKind.DIVERSION]),
        (doc("delayed", late=45), None, False, [UpdateKind.DELAY]),
        (doc("scheduled", late=45), None, False, [UpdateKind.DELAY]),  # the times say late whatever the label
        (doc("scheduled"), None, False, [UpdateKind.DELAY_REDUCED]),  # a push: sent because something changed
        (doc("scheduled"), None, True, []),  # a poller's first look at an on-time flight
        (doc("scheduled"), Previous(Status.DELAYED), True, [UpdateKind.DELAY_REDUCED]),
        (doc("scheduled"), Previous(Status.SCHEDULED), True, []),
        (doc("scheduled"), Previous(Status.CANCELLED), True, [UpdateKind.REINSTATEMENT]),
        (doc("scheduled", previous={"status": "cancelled"}), None, False, [UpdateKind.REINSTATEMENT]),
        (doc("delayed", late=30), Previous(Status.CANCELLED), True, [UpdateKind.REINSTATEMENT]),
        (doc("scheduled", seats={"Y": 132, "J": 8}), Previous(Status.SCHEDULED, (("J", 12), ("Y", 162))), True, [UpdateKind.EQUIPMENT]),
        (doc("delayed", late=60, seats={"Y": 132}), Previous(Status.SCHEDULED, (("Y", 162),)), True, [UpdateKind.EQUIPMENT, UpdateKind.DELAY]),
    ],
)
def test_a_status_means(document: dict[str, Any], previous: Previous | None, quiet: bool, expected: list[UpdateKind]) -> None:
    assert kinds(document, previous=previous, quiet_when_unknown=quiet) == expected


def test_a_late_arrival_after_an_on_time_departure_is_an_arrival_estimate() -> None:
    document = doc("departed")
    document["arrival"]["estimated"] = "2026-12-06T11:40:00Z"
    [eta] = to_updates(parse_status(document), source="acme", quiet_when_unknown=True)
    assert (eta.kind, eta.new_departure, eta.new_arrival) == (UpdateKind.ARRIVAL, None, STD + dt.timedelta(hours=2, minutes=40))


def test_the_update_carries_times_codes_and_a_stable_id() -> None:
    document = doc("delayed", late=45, delay_codes=[{"code": "93", "minutes": 45}])
    [delay] = to_updates(parse_status(document), source="acme")
    assert delay.new_departure == STD + dt.timedelta(minutes=45)
    assert delay.new_arrival == STD + dt.timedelta(minutes=45, hours=2)
    assert (delay.delay_codes, delay.reason, delay.issued_at, delay.source) == ((("93", 45),), "93", AT, "acme")
    again = to_updates(parse_status(document), source="acme")[0]
    assert again.message_id == delay.message_id
    later = to_updates(parse_status({**document, "updated_at": "2026-12-06T07:05:00Z"}), source="acme")[0]
    assert later.message_id != delay.message_id
    assert to_updates(parse_status({**document, "id": "evt-9"}), source="acme")[0].message_id == "evt-9"
    assert parse_status(document).fingerprint == parse_status({**document, "updated_at": "2026-12-06T07:05:00Z"}).fingerprint


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"flight": None}, "flight"),
        ({"flight": {"carrier": "rb", "number": "391", "date": "2026-12-06"}}, "flight.carrier"),
        ({"flight": {"carrier": "RB", "number": "391", "date": "06/12/2026"}}, "flight.date"),
        ({"status": "boarding"}, "status"),
        ({"updated_at": None}, "updated_at"),
        ({"departure": {"scheduled": "2026-12-06T09:00:00"}}, "departure.scheduled"),
        ({"arrival": []}, "arrival"),
        ({"seats": {"Y": -1}}, "seats"),
        ({"seats": {"economy": 3}}, "seats"),
        ({"delay_codes": [{"code": "93"}]}, "delay_codes"),
        ({"id": "x" * 101}, "id"),
        ({"previous": {"status": "gone"}}, "previous.status"),
        ({"status": "diverted"}, "diverted_to"),
    ],
)
def test_a_malformed_document_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MalformedStatus) as refused:
        parse_status({**doc("delayed", late=10), **change})
    assert str(refused.value).startswith(field), str(refused.value)
    assert "2026" not in str(refused.value)  # the field, never its value
