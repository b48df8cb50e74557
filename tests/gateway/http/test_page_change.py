"""The passenger page under protect first: the protection and the other options, and a choice there moves the seat."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from conversations.engine import Status
from conversations.models import Conversation
from conversations.page import links
from rebooking_core.models import Inventory, OfferOption
from tests.gateway.conftest import Gateway, World, running

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@pytest.fixture
async def protected(db_url: str, world: World) -> AsyncIterator[Gateway]:
    async with running(db_url, world, first_contact="protect") as g:
        assert (await g.disrupt(world.target)).status_code == 202
        await g.settle()
        yield g


async def _sold(g: Gateway, flight_ids: list[int]) -> list[int]:
    async with g.container.db.reading() as s:
        rows = dict(
            (
                await s.execute(
                    select(Inventory.flight_id, Inventory.sold).where(Inventory.cabin == "Y")
                )
            ).all()
        )
    return [int(rows[f]) for f in flight_ids]


async def test_a_protected_passenger_sees_the_other_options_and_a_choice_there_moves_the_seat(
    protected: Gateway,
) -> None:
    g = protected
    async with g.container.db.transaction() as s:
        protections = await s.scalars(
            select(Conversation)
            .where(Conversation.status == Status.BOOKED.value)
            .order_by(Conversation.id)
        )
        for conv in (
            protections
        ):  # one whose protection came with another option (extras are held above the reserve)
            options = list(
                await s.scalars(
                    select(OfferOption)
                    .where(OfferOption.offer_id == conv.offer_id)
                    .order_by(OfferOption.rank)
                )
            )
            if len(options) > 1:
                break
        token = links.mint(
            s, booking_id=conv.booking_id, disruption_id=conv.disruption_id, now=g.container.clock()
        )
    booked, other = options[0], options[1]
    assert conv.booked_option_id == booked.id
    page = await g.client.get(f"/p/{token}")
    assert page.status_code == 200
    assert (
        f'id="option-{other.id}"' in page.text
        and f'name="option_id" value="{booked.id}"' not in page.text
    )
    before = await _sold(g, [booked.flight_ids[0], other.flight_ids[0]])

    csrf = _CSRF.search(page.text)
    assert csrf is not None
    r = await g.client.post(
        f"/p/{token}/choose", data={"csrf": csrf.group(1), "option_id": str(other.id)}
    )

    assert (r.status_code, r.headers["location"]) == (303, f"/p/{token}?notice=booked")
    after = await _sold(g, [booked.flight_ids[0], other.flight_ids[0]])
    assert after == [before[0] - conv.passengers, before[1] + conv.passengers], (
        "the whole party's seats moved"
    )
    async with g.container.db.reading() as s:
        moved = await s.get(Conversation, conv.id)
    assert moved is not None and (moved.status, moved.booked_option_id) == (
        Status.BOOKED.value,
        other.id,
    )
    shown = await g.client.get(f"/p/{token}")
    assert 'name="option_id"' not in shown.text, (
        "the passenger chose: nothing more to choose from that offer"
    )
