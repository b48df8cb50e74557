"""The worker's step that tells the airline of a refund: outside the reply's transaction, once per key, retried when the PSS is down."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.worker.process import Worker
from rebooking_core.airline.ports import PnrState, PssUnavailable, RefundOutcome, RefundRequest
from rebooking_core.refunds import RefundState, idempotency_key, send_requested
from tests.conversations.choices.helpers import refunds
from tests.conversations.conftest import Rig


@dataclass
class Airline:
    """The Reservations port's refund as an airline answers it: a scripted outcome, or down (PssUnavailable)."""

    answer: PnrState = PnrState.CONFIRMED
    down: bool = False
    calls: list[tuple[RefundRequest, str]] = field(default_factory=list)

    async def refund(self, request: RefundRequest, *, idempotency_key: str) -> RefundOutcome:
        self.calls.append((request, idempotency_key))
        if self.down:
            raise PssUnavailable("timed out")
        return RefundOutcome(
            self.answer, reference="R-1" if self.answer is PnrState.CONFIRMED else None
        )


async def _refunded(rig: Rig) -> None:
    who = await rig.add_pax(("sms",), pax=2)
    await rig.offered(who)
    await rig.reply("sms", who, "4")


async def test_a_recorded_refund_is_sent_once_with_its_locator_segments_and_basis(rig: Rig) -> None:
    await _refunded(rig)
    airline = Airline()

    assert await send_requested(rig.c.db, airline, now=rig.clock()) == 1
    assert await send_requested(rig.c.db, airline, now=rig.clock()) == 0

    [(request, key)] = airline.calls
    [row] = await refunds(rig)
    assert key == idempotency_key(row.disruption_id, row.booking_id)
    assert request.locator.startswith("RB") and request.passengers == 2
    assert [(s.flight.carrier, s.flight.number, s.status) for s in request.segments] == [
        ("LH", "100", "HX")
    ]
    assert request.basis == row.basis and row.basis
    assert (row.state, row.reference) == (RefundState.ACCEPTED, "R-1")


async def test_a_pss_that_is_down_leaves_the_request_for_the_next_sweep(rig: Rig) -> None:
    await _refunded(rig)
    airline = Airline(down=True)

    assert await send_requested(rig.c.db, airline, now=rig.clock()) == 0
    assert [r.state for r in await refunds(rig)] == [RefundState.REQUESTED]

    airline.down = False
    airline.answer = PnrState.REFUSED
    assert await send_requested(rig.c.db, airline, now=rig.clock()) == 1
    assert [r.state for r in await refunds(rig)] == [RefundState.REFUSED]
    assert len({key for _, key in airline.calls}) == 1, "the retry carries the same idempotency key"


async def test_the_worker_sends_a_refund_to_the_built_in_store_which_accepts_it_once(
    rig: Rig,
) -> None:
    await _refunded(rig)
    worker = Worker(rig.c)

    assert await worker.send_refunds() == 1
    assert await worker.send_refunds() == 0

    [row] = await refunds(rig)
    assert row.state == RefundState.ACCEPTED and row.reference
    again = await rig.c.pss.refund(
        RefundRequest(locator="x", segments=(), basis=row.basis, passengers=2),
        idempotency_key=row.idempotency_key,
    )
    assert again.reference == row.reference, "the same key is the same refund at the airline"
