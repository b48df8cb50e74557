"""The passenger's own choices on the page: refund instead, keep my flight and a later date are posts through the engine."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from conversations.engine import Status
from conversations.page import links
from gateway.http.app import create_app
from tests.conversations.choices.helpers import add_flight, delayed, events, refunds
from tests.conversations.conftest import Pax, Rig

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
async def http(rig: Rig) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(rig.c))
    async with httpx.AsyncClient(transport=transport, base_url="http://rebook.test") as client:
        yield client


async def _page(rig: Rig, http: httpx.AsyncClient, who: Pax) -> tuple[str, str, str]:
    """The link's token, its CSRF token and the page as shown."""
    conv = await rig.conversation(who)
    async with rig.c.db.transaction() as s:
        token = links.mint(
            s,
            booking_id=who.booking_id,
            disruption_id=conv.disruption_id,
            now=rig.clock(),
            ttl=dt.timedelta(days=1),
        )
    page = await http.get(f"/p/{token}")
    assert page.status_code == 200
    csrf = _CSRF.search(page.text)
    assert csrf is not None
    return token, csrf.group(1), page.text


async def test_refund_on_the_page_is_recorded_once_and_gives_the_seats_back(
    rig: Rig, http: httpx.AsyncClient
) -> None:
    who = await rig.add_pax(("sms",))
    await rig.offered(who)
    token, csrf, page = await _page(rig, http, who)
    assert f'action="/p/{token}/own/refund"' in page and f'action="/p/{token}/own/later"' in page
    assert f'action="/p/{token}/own/keep"' not in page, "a cancelled flight cannot be kept"
    # One coherent set: the refund is the passenger's own choice, so the hand-over does not promise a second
    # one; a person is still one tap away, and the choices share one "other options" section.
    assert f'action="/p/{token}/refund"' not in page and "Ask for a refund" not in page
    assert page.count("Refund instead") == 1 and f'action="/p/{token}/agent"' in page
    assert page.count('aria-labelledby="other"') == 1

    done = await http.post(f"/p/{token}/own/refund", data={"csrf": csrf})
    again = await http.post(f"/p/{token}/own/refund", data={"csrf": csrf})

    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/p/{token}?notice=refund_recorded",
    )
    assert (again.status_code, again.headers["location"]) == (
        303,
        f"/p/{token}?notice=refund_recorded",
    )
    assert "No money moves here" in (await http.get(done.headers["location"])).text
    conv = await rig.conversation(who)
    assert (conv.status, conv.choice) == (Status.CLOSED, "refund")
    assert len(await refunds(rig)) == 1 and len(await events(rig, "refund.requested")) == 1
    assert await rig.segments(who) == [(rig.disrupted.id, "HX")]
    inventory = await rig.inventory()
    assert inventory[rig.disrupted.id] == (0, 0)
    assert all(inventory[f.id] == (0, 0) for f in rig.alternatives)
    await rig.c.dispatcher.drain()
    told = [m.text for m in rig.inbox("sms", who)]
    assert sum("refund request for flight LH100 is recorded" in text for text in told) == 1
    assert "already recorded" in told[-1]


async def test_keep_on_the_page_releases_the_holds(rig: Rig, http: httpx.AsyncClient) -> None:
    who = await rig.add_pax(("sms",))
    await delayed(rig, who, hours=4)
    token, csrf, page = await _page(rig, http, who)
    assert f'action="/p/{token}/own/keep"' in page and f'action="/p/{token}/own/refund"' not in page
    # No refund right on a 4 h delay: the hand-over to a person who may grant one stays, beside "talk to a person".
    assert f'action="/p/{token}/refund"' in page and f'action="/p/{token}/agent"' in page

    done = await http.post(f"/p/{token}/own/keep", data={"csrf": csrf})

    assert done.headers["location"] == f"/p/{token}?notice=kept"
    assert (await rig.conversation(who)).choice == "keep"
    inventory = await rig.inventory()
    assert inventory[rig.disrupted.id] == (1, 0) and all(h == 0 for _, h in inventory.values())


async def test_a_refund_not_offered_on_the_page_changes_nothing(
    rig: Rig, http: httpx.AsyncClient
) -> None:
    who = await rig.add_pax(("sms",))
    await delayed(rig, who, hours=4)
    token, csrf, _ = await _page(rig, http, who)
    held = await rig.inventory()

    done = await http.post(f"/p/{token}/own/refund", data={"csrf": csrf})

    assert done.headers["location"] == f"/p/{token}?notice=not_offered"
    assert (await rig.conversation(who)).status == Status.OFFERED
    assert await refunds(rig) == [] and await rig.inventory() == held


async def test_a_later_date_on_the_page_offers_that_days_flights(
    rig: Rig, http: httpx.AsyncClient
) -> None:
    who = await rig.add_pax(("sms",))
    later = rig.disrupted.dep_utc + dt.timedelta(days=2)
    flight = await add_flight(rig, "130", later)
    await rig.offered(who)
    token, csrf, _ = await _page(rig, http, who)

    far = await http.post(
        f"/p/{token}/own/later",
        data={"csrf": csrf, "date": (later + dt.timedelta(days=60)).date().isoformat()},
    )
    assert far.headers["location"] == f"/p/{token}?notice=date_refused"
    done = await http.post(
        f"/p/{token}/own/later", data={"csrf": csrf, "date": later.date().isoformat()}
    )

    assert done.headers["location"] == f"/p/{token}?notice=dated"
    [option] = await rig.options(who)
    assert option.flight_ids == [flight.id]
    assert (await rig.inventory())[flight.id] == (0, 1)
    shown = await http.get(done.headers["location"])
    assert f'name="option_id" value="{option.id}"' in shown.text
