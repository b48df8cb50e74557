"""The generated client (`rebook_client`) against a gateway served by uvicorn on 127.0.0.1: real HTTP, real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from rebook_client import AuthenticatedClient
from rebook_client.api.ops import get_disruption, list_disruptions, list_flights, post_disruption
from rebook_client.models import (
    DisruptionAccepted,
    DisruptionIn,
    DisruptionInKind,
    FlightRef,
    Problem,
)
from rebook_client.types import UNSET

from gateway.http.app import create_app
from tests.gateway.conftest import DAY, OPS_KEY, Gateway, World, running


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def served(g: Gateway) -> AsyncIterator[str]:
    """The app on a loopback port (the container is already started, so uvicorn runs no lifespan)."""
    port = _free_port()
    config = uvicorn.Config(create_app(g.container), host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def base_url(db_url: str, world: World) -> AsyncIterator[tuple[Gateway, str]]:
    async with running(db_url, world) as g, served(g) as url:
        yield g, url


async def test_the_client_creates_a_disruption_reads_it_and_pages_a_list(base_url: tuple[Gateway, str]) -> None:
    g, url = base_url
    carrier, number, date = g.world.target
    body = DisruptionIn(kind=DisruptionInKind.CANCELLED, flight=FlightRef(carrier=carrier, number=number, date=date))
    async with AuthenticatedClient(base_url=url, token=OPS_KEY) as client:
        created = await post_disruption.asyncio_detailed(client=client, body=body, idempotency_key="client-first")
        assert created.status_code == 202, created.content
        assert isinstance(created.parsed, DisruptionAccepted) and created.parsed.created
        retried = await post_disruption.asyncio_detailed(client=client, body=body, idempotency_key="client-first")
        assert retried.content == created.content and retried.headers["Idempotent-Replayed"] == "true"
        await g.settle()

        status = await get_disruption.asyncio(client=client, disruption_id=created.parsed.id)
        assert status is not None and not isinstance(status, Problem)
        assert (status.id, status.kind) == (created.parsed.id, "cancelled")
        assert status.impacted == g.world.passengers_on(g.world.target) > 0

        listed = await list_disruptions.asyncio(client=client)
        assert listed is not None and not isinstance(listed, Problem)
        assert [d.id for d in listed.items] == [created.parsed.id] and listed.next_cursor is None

        numbers: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = await list_flights.asyncio(client=client, date=DAY, limit=40, cursor=cursor if cursor else UNSET)
            assert page is not None and not isinstance(page, Problem)
            assert len(page.items) <= 40
            numbers += [f.number for f in page.items]
            pages += 1
            cursor = page.next_cursor if isinstance(page.next_cursor, str) else None
            if cursor is None:
                break
        expected = sorted(r.number for r in g.world.schedule if r.date == DAY)
        assert sorted(numbers) == expected and pages == -(-len(expected) // 40) and pages > 1


async def test_the_client_parses_problems(base_url: tuple[Gateway, str]) -> None:
    _, url = base_url
    async with AuthenticatedClient(base_url=url, token=OPS_KEY) as client:
        missing = await get_disruption.asyncio(client=client, disruption_id=424242)
    assert isinstance(missing, Problem) and (missing.status, missing.detail) == (404, "no disruption 424242")
    async with AuthenticatedClient(base_url=url, token="not-a-key") as stranger:
        refused = await list_disruptions.asyncio(client=stranger)
    assert isinstance(refused, Problem) and refused.status == 401
