"""Care depends on the local day a wait ends on, so these tests start their clock at a fixed hour (the next 04:00 UTC):
started at the real time, a three-hour delay of the flight six hours ahead ran past midnight in Madrid and Frankfurt
every evening, and a meal became a night's stay."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conversations.conftest import Clock


def morning_clock() -> Clock:
    """A clock at the next 04:00 UTC: the rig's flight leaves at 10:00 UTC, and waits up to ten hours end that day."""
    clock = Clock()
    morning = clock.now.replace(hour=4, minute=0, second=0)
    clock.now = morning if morning > clock.now else morning + dt.timedelta(days=1)
    return clock


@pytest.fixture
def clock() -> Clock:
    return morning_clock()
