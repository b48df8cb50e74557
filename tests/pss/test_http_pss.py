"""HttpPss against the contract-keeping fake PSS: every operation, and every way a PSS fails."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.pss.http import HttpPss, PssConfig, PssContractError
from rebooking_core.airline.ports import (
    Availability,
    FlightKey,
    LoyaltyProfile,
    PnrChange,
    PnrSegment,
    PnrState,
    PssUnavailable,
    RefundRequest,
)
from tests.fakes.pss import TOKEN, FakePss, expires
from tests.fakes.server import LocalServer

DAY = dt.date(2031, 3, 1)
LX100, LX102, LX104 = (FlightKey("LX", n, DAY) for n in ("100", "102", "104"))
#: Short enough to keep the suite quick, long enough that a loaded box answers a healthy request in time.
READ_TIMEOUT_S = 1.0
STALL_S = 2.0


def move(version: int | None = 1) -> PnrChange:
    return PnrChange(
        "ABC123",
        cancel=(PnrSegment(LX100, "Y"),),
        sell=(PnrSegment(LX104, "Y"),),
        passengers=2,
        version=version,
    )


@pytest.fixture
def fake() -> FakePss:
    pss = FakePss()
    pss.add_flight(LX100, {"Y": 10, "J": 2}, sold={"Y": 4})
    pss.add_flight(LX102, {"Y": 10}, sold={"Y": 9})
    pss.add_flight(LX104, {"Y": 10})
    pss.add_pnr("ABC123", [(LX100, "Y")], passengers=2)
    pss.add_member("ABC123", 1, tier=2, status="Gold", miles=48_000, preferences={"seat": "aisle"})
    return pss


@pytest.fixture
def server(fake: FakePss) -> Iterator[LocalServer]:
    with LocalServer(fake.app) as srv:
        yield srv
    assert fake.violations == []  # every answer the fake gave is one the contract lists


async def _where(passenger_id: int) -> tuple[str, int] | None:
    return {7: ("ABC123", 1), 8: ("ABC123", 2)}.get(passenger_id)


@pytest.fixture
async def pss(server: LocalServer) -> AsyncIterator[HttpPss]:
    client = HttpPss(
        PssConfig(server.url, TOKEN, pool_size=4, read_timeout_s=READ_TIMEOUT_S),
        passenger_in_pnr=_where,
    )
    try:
        yield client
    finally:
        await client.aclose()


async def test_availability_per_flight_and_cabin(pss: HttpPss) -> None:
    assert await pss.availability([LX100, LX102]) == [
        Availability(LX100, "J", 2),
        Availability(LX100, "Y", 6),
        Availability(LX102, "Y", 1),
    ]


async def test_hold_and_release_move_the_pss_counters_once(pss: HttpPss, fake: FakePss) -> None:
    until = expires()
    hold = await pss.hold(LX104, "Y", 2, expires_at=until, idempotency_key="offer-1")
    assert hold is not None and hold.seats == 2 and hold.expires_at == until
    assert await pss.hold(LX104, "Y", 2, expires_at=until, idempotency_key="offer-1") == hold
    assert fake.seats(LX104, "Y").held == 2
    await pss.release(hold.reference)
    await pss.release(hold.reference)
    await pss.release("HDNEVERHELD")
    assert fake.seats(LX104, "Y").held == 0


async def test_a_hold_the_pss_refuses_is_none(pss: HttpPss, fake: FakePss) -> None:
    assert await pss.hold(LX102, "Y", 2, expires_at=expires(), idempotency_key="too-many") is None
    assert fake.seats(LX102, "Y").held == 0


async def test_a_hold_whose_answer_was_lost_is_held_once_on_retry(
    pss: HttpPss, fake: FakePss
) -> None:
    until = expires()
    fake.stall_next(STALL_S, op="hold")
    with pytest.raises(PssUnavailable):
        await pss.hold(LX104, "Y", 3, expires_at=until, idempotency_key="lost")
    hold = await pss.hold(LX104, "Y", 3, expires_at=until, idempotency_key="lost")
    assert hold is not None
    assert fake.seats(LX104, "Y").held == 3
    # A retry must resend the same request: another expiry under the same key is a different request.
    assert await pss.hold(LX104, "Y", 3, expires_at=expires(5), idempotency_key="lost") is None
    assert fake.seats(LX104, "Y").held == 3


async def test_read_gives_segments_version_and_ticket(pss: HttpPss) -> None:
    view = await pss.read("ABC123")
    assert view is not None
    assert (view.version, view.passengers, view.segments, view.ticket) == (
        1,
        2,
        (PnrSegment(LX100, "Y", "HK"),),
        "not_required",
    )
    assert await pss.read("ZZZ999") is None
    assert await pss.ticket("ABC123") == "not_required"
    assert await pss.ticket("ZZZ999") is None


async def test_a_confirmed_change_moves_the_pnr_and_the_seats(pss: HttpPss, fake: FakePss) -> None:
    outcome = await pss.change(move(), idempotency_key="choice-1")
    assert (outcome.state, outcome.version, outcome.ticket) == (PnrState.CONFIRMED, 2, "reissued")
    assert fake.pnr("ABC123").segments == [
        [("LX", "100", "2031-03-01"), "Y", "HX"],
        [("LX", "104", "2031-03-01"), "Y", "HK"],
    ]
    assert (fake.seats(LX100, "Y").sold, fake.seats(LX104, "Y").sold) == (2, 2)
    assert await pss.change_status("ABC123", "choice-1") == outcome


async def test_the_same_key_twice_changes_the_pnr_once(pss: HttpPss, fake: FakePss) -> None:
    first = await pss.change(move(), idempotency_key="choice-1")
    again = await pss.change(move(), idempotency_key="choice-1")
    assert again == first
    assert fake.applied == [("ABC123", "choice-1")]
    assert fake.seats(LX104, "Y").sold == 2


async def test_a_timeout_after_the_pss_changed_the_pnr_is_unavailable_then_confirmed_by_status_and_retry(
    pss: HttpPss, fake: FakePss
) -> None:
    fake.stall_next(STALL_S, op="modify")
    with pytest.raises(PssUnavailable):
        await pss.change(move(), idempotency_key="choice-1")
    status = await pss.change_status("ABC123", "choice-1")
    assert status.state is PnrState.CONFIRMED and status.version == 2
    retried = await pss.change(move(), idempotency_key="choice-1")
    assert retried.state is PnrState.CONFIRMED
    assert fake.applied == [("ABC123", "choice-1")]


async def test_a_timeout_before_the_pss_saw_the_change_leaves_the_status_unknown(
    pss: HttpPss, fake: FakePss
) -> None:
    fake.stall_next(STALL_S, op="modify", apply=False)
    with pytest.raises(PssUnavailable):
        await pss.change(move(), idempotency_key="choice-1")
    assert (await pss.change_status("ABC123", "choice-1")).state is PnrState.UNKNOWN
    assert fake.applied == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_5xx_is_unavailable_and_changes_nothing(
    pss: HttpPss, fake: FakePss, status: int
) -> None:
    fake.fail_next(status, op="modify")
    with pytest.raises(PssUnavailable):
        await pss.change(move(), idempotency_key="choice-1")
    assert fake.applied == []
    assert (await pss.change(move(), idempotency_key="choice-1")).state is PnrState.CONFIRMED
    assert fake.applied == [("ABC123", "choice-1")]


async def test_a_connection_refused_is_unavailable() -> None:
    with LocalServer(FakePss().app) as gone:
        url = gone.url
    client = HttpPss(PssConfig(url, TOKEN, read_timeout_s=READ_TIMEOUT_S), passenger_in_pnr=_where)
    try:
        with pytest.raises(PssUnavailable):
            await client.read("ABC123")
    finally:
        await client.aclose()


async def test_a_stale_version_is_refused_with_the_current_one(pss: HttpPss, fake: FakePss) -> None:
    fake.bump("ABC123")  # an agent changed the PNR after rebook planned on version 1
    outcome = await pss.change(move(version=1), idempotency_key="choice-1")
    assert (outcome.state, outcome.reason, outcome.version) == (
        PnrState.REFUSED,
        "version_conflict",
        2,
    )
    assert fake.applied == []
    assert ("modify", 409) in fake.requests


async def test_no_version_means_the_current_one(pss: HttpPss, fake: FakePss) -> None:
    fake.bump("ABC123")
    outcome = await pss.change(move(version=None), idempotency_key="any")
    assert outcome.state is PnrState.CONFIRMED and outcome.version == 3


async def test_accepted_then_confirmed_by_the_pss(pss: HttpPss, fake: FakePss) -> None:
    fake.accept_next()
    outcome = await pss.change(move(), idempotency_key="choice-1")
    assert outcome.state is PnrState.PENDING and ("modify", 202) in fake.requests
    assert (await pss.change_status("ABC123", "choice-1")).state is PnrState.PENDING
    assert fake.applied == []
    fake.confirm("ABC123", "choice-1")
    confirmed = await pss.change_status("ABC123", "choice-1")
    assert (confirmed.state, confirmed.version, confirmed.ticket) == (
        PnrState.CONFIRMED,
        2,
        "reissued",
    )
    # A retry of the original request now answers what it became, and changes nothing more.
    assert (await pss.change(move(), idempotency_key="choice-1")).state is PnrState.CONFIRMED
    assert fake.applied == [("ABC123", "choice-1")]


async def test_accepted_then_confirmed_after_polls(pss: HttpPss, fake: FakePss) -> None:
    fake.accept_next(polls=3)
    assert (await pss.change(move(), idempotency_key="choice-1")).state is PnrState.PENDING
    states = [(await pss.change_status("ABC123", "choice-1")).state for _ in range(3)]
    assert states == [PnrState.PENDING, PnrState.PENDING, PnrState.CONFIRMED]


async def test_accepted_then_refused_later(pss: HttpPss, fake: FakePss) -> None:
    fake.accept_next()
    await pss.change(move(), idempotency_key="choice-1")
    fake.refuse("ABC123", "choice-1", "ticket_not_reissuable")
    outcome = await pss.change_status("ABC123", "choice-1")
    assert (outcome.state, outcome.reason) == (PnrState.REFUSED, "ticket_not_reissuable")


async def test_refusals_carry_the_pss_reason(pss: HttpPss, fake: FakePss) -> None:
    fake.refuse_next("ticket_not_reissuable")
    refused = await pss.change(move(), idempotency_key="a")
    assert (refused.state, refused.reason) == (PnrState.REFUSED, "ticket_not_reissuable")
    full = PnrChange(
        "ABC123",
        cancel=(PnrSegment(LX100, "Y"),),
        sell=(PnrSegment(LX102, "Y"),),
        passengers=2,
        version=1,
    )
    no_seat = await pss.change(full, idempotency_key="b")
    assert (no_seat.state, no_seat.reason) == (PnrState.REFUSED, "no_seats")
    unknown = PnrChange(
        "ZZZ999", cancel=(), sell=(PnrSegment(LX104, "Y"),), passengers=1, version=1
    )
    assert (await pss.change(unknown, idempotency_key="c")).reason == "unknown_pnr"
    assert fake.applied == []


async def test_refund_is_accepted_once_per_key(pss: HttpPss) -> None:
    request = RefundRequest(
        "ABC123", (PnrSegment(LX100, "Y"),), basis="EU261 Art. 8(1)(a)", passengers=2
    )
    first = await pss.refund(request, idempotency_key="refund-1")
    assert first.state is PnrState.CONFIRMED and first.reference
    assert await pss.refund(request, idempotency_key="refund-1") == first
    wrong = RefundRequest(
        "ABC123", (PnrSegment(LX102, "Y"),), basis="EU261 Art. 8(1)(a)", passengers=2
    )
    refused = await pss.refund(wrong, idempotency_key="refund-2")
    assert (refused.state, refused.reason) == (PnrState.REFUSED, "not_refundable")


async def test_loyalty_profile_by_the_passengers_place_in_the_pnr(pss: HttpPss) -> None:
    assert await pss.profile(7) == LoyaltyProfile(
        tier=2, status="Gold", miles=48_000, preferences={"seat": "aisle"}
    )
    assert await pss.profile(8) is None  # the PSS has no member behind passenger 2
    assert await pss.profile(9) is None  # not a passenger rebook knows


async def test_a_wrong_token_is_unavailable_never_a_refusal(
    server: LocalServer, fake: FakePss
) -> None:
    client = HttpPss(
        PssConfig(server.url, "not-the-token", read_timeout_s=READ_TIMEOUT_S),
        passenger_in_pnr=_where,
    )
    try:
        with pytest.raises(PssUnavailable):
            await client.change(move(), idempotency_key="choice-1")
    finally:
        await client.aclose()
    assert fake.requests == [("modify", 401)] and fake.applied == []


async def test_one_pooled_client_reuses_its_connections_and_keeps_to_the_pool_size(
    server: LocalServer, fake: FakePss
) -> None:
    client = HttpPss(
        PssConfig(server.url, TOKEN, pool_size=2, read_timeout_s=5), passenger_in_pnr=_where
    )
    try:
        for _ in range(5):
            await client.read("ABC123")
        assert len(fake.connections) == 1  # one socket, reused
        fake.stall_next(0.2, n=12, op="read")  # keep requests in flight together
        await asyncio.gather(*(client.read("ABC123") for _ in range(12)))
    finally:
        await client.aclose()
    assert len(fake.connections) <= 2
    assert fake.peak_in_flight == 2


def _off_contract() -> Starlette:
    """A PSS that answers 200 with bodies the contract does not allow."""

    async def pnr(request: Request) -> JSONResponse:
        return JSONResponse({"locator": "ABC123", "segments": []})  # no version, no passengers

    async def modify(request: Request) -> JSONResponse:
        return JSONResponse({"status": "maybe"})

    async def teapot(request: Request) -> JSONResponse:
        return JSONResponse({"status": 418, "reason": "teapot"}, status_code=418)

    return Starlette(
        routes=[
            Route("/pnrs/ABC123", pnr),
            Route("/pnrs/ABC123/modifications", modify, methods=["POST"]),
            Route("/pnrs/ABC123/ticket", teapot),
        ]
    )


async def test_an_answer_outside_the_contract_is_a_contract_error_never_a_result() -> None:
    with LocalServer(_off_contract()) as srv:
        client = HttpPss(
            PssConfig(srv.url, TOKEN, read_timeout_s=READ_TIMEOUT_S), passenger_in_pnr=_where
        )
        try:
            with pytest.raises(PssContractError, match="read"):
                await client.read("ABC123")
            with pytest.raises(PssContractError, match="'maybe'"):
                await client.change(move(), idempotency_key="k")
            with pytest.raises(PssContractError, match="418"):
                await client.ticket("ABC123")
        finally:
            await client.aclose()
