"""Loyalty fields of the booking file: stored on the passenger, read by impact assessment, refused when malformed."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from rebooking_core.impact import load_passengers
from rebooking_core.importer import (
    ImportFailed,
    import_bookings,
    import_schedule,
    parse_bookings,
    parse_schedule,
)
from rebooking_core.models import Booking, Passenger
from tests.rebooking_core.test_importer import _booking, _flight, _lines

PREFERENCES = {"seat": "aisle", "time": "morning", "cabin": "J", "avoid_connection": "yes"}


def _loyal(locator: str) -> dict[str, object]:
    rec = _booking(locator, pax=2)
    rec["passengers"][0].update(
        {"loyalty_status": "Senator", "miles": 412_000, "preferences": PREFERENCES}
    )
    rec["passengers"][1].update({"miles": 900_000})
    return rec


async def test_loyalty_fields_are_stored_and_reach_the_impact_rows(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as s, s.begin():
        await import_schedule(s, parse_schedule(_lines(_flight())))
        await import_bookings(s, parse_bookings(_lines(_loyal("LOY001"), _booking("PLAIN1"))))
    async with AsyncSession(engine) as s:
        rows = (
            await s.execute(
                select(
                    Booking.locator,
                    Passenger.is_contact,
                    Passenger.loyalty_status,
                    Passenger.miles,
                    Passenger.preferences,
                )
                .join(Booking, Booking.id == Passenger.booking_id)
                .order_by(Passenger.id)
            )
        ).all()
        loaded = await load_passengers(s, booking_ids=select(Booking.id))
    assert [tuple(r) for r in rows] == [
        ("LOY001", True, "Senator", 412_000, PREFERENCES),
        ("LOY001", False, None, 900_000, None),
        ("PLAIN1", True, None, None, None),
    ]
    by_locator = {(p.locator, p.is_contact): p for p in loaded}
    contact = by_locator[("LOY001", True)]
    # what ranking understands, canonical; the seat preference is the airport's business
    assert contact.miles == 412_000
    assert contact.preferences == (("avoid_connection", "yes"), ("cabin", "J"), ("time", "morning"))
    assert by_locator[("LOY001", False)].miles == 900_000
    plain = by_locator[("PLAIN1", True)]
    assert plain.miles is None and plain.preferences == ()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"miles": -1}, "passengers.0.miles: Input should be greater than or equal to 0"),
        ({"miles": "12000"}, "passengers.0.miles: Input should be a valid integer"),
        (
            {"loyalty_status": ""},
            "passengers.0.loyalty_status: String should have at least 1 character",
        ),
        (
            {"preferences": {"Seat": "aisle"}},
            "passengers.0.preferences.Seat.[key]: String should match pattern '^[a-z][a-z0-9_]{0,31}$'",
        ),
        (
            {"preferences": {"time": "morning\u202e"}},
            "passengers.0.preferences.time: invisible format character U+202E not allowed",
        ),
        (
            {"preferences": {f"k{i}": "v" for i in range(17)}},
            "passengers.0.preferences: Dictionary should have at most 16 items after validation, not 17",
        ),
    ],
)
def test_malformed_loyalty_fields_are_refused_at_their_line(
    change: dict[str, object], problem: str
) -> None:
    rec = _booking("LOY002")
    rec["passengers"][0].update(change)
    with pytest.raises(ImportFailed) as err:
        parse_bookings(_lines(_booking("LOY001"), rec))
    assert str(err.value) == f"line 2: {problem}"
