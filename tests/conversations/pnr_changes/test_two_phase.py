"""The two-phase booking on both databases, the PSS a scripted double of the `Reservations` port.

The gateway is the conversations rig (sandbox channels, a clock the test moves); the choice is
recorded by `record_intent` and the PSS called by the real `PnrChangePump`. Only the PSS is a
double here (what it answers is the input); the whole spine against `HttpPss` and its HTTP fake is
in tests/e2e/test_pss_booking.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from conversations.engine import Status
from conversations.pnr_changes.models import PnrChangeRow
from conversations.pnr_changes.pump import PnrChangePump
from conversations.pnr_changes.record import record_intent
from conversations.pnr_changes.rules import IntentPolicy, IntentState, Next
from rebooking_core.airline.ports import (
    PnrChange,
    PnrOutcome,
    PnrState,
    PnrView,
    PssUnavailable,
    RefundOutcome,
    RefundRequest,
)
from rebooking_core.models import Offer
from rebooking_core.offers import expire_offers
from tests.conversations.conftest import Pax, Rig

POLICY = IntentPolicy(
    lease=dt.timedelta(seconds=30),
    retry_s=(2.0,),
    poll_s=(5.0,),
    max_attempts=4,
    give_up_after=dt.timedelta(minutes=30),
)


@dataclass
class ScriptedPss:
    """Answers `change` and `change_status` from scripts (None: no answer, `PssUnavailable`); applies a change once per key."""

    change_script: list[PnrOutcome | None] = field(default_factory=list)
    status_script: list[PnrOutcome | None] = field(default_factory=list)
    applied: dict[str, PnrChange] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    async def change(self, change: PnrChange, *, idempotency_key: str) -> PnrOutcome:
        self.calls.append(("change", idempotency_key))
        answer = (
            self.change_script.pop(0)
            if self.change_script
            else PnrOutcome(PnrState.CONFIRMED, version=2)
        )
        if answer is None or answer.state is not PnrState.REFUSED:
            # A timeout after it arrived: applied, and never twice.
            self.applied.setdefault(idempotency_key, change)
        if answer is None:
            raise PssUnavailable("timed out")
        return answer

    async def change_status(self, locator: str, idempotency_key: str) -> PnrOutcome:
        self.calls.append(("status", idempotency_key))
        if not self.status_script:  # unscripted: what became of the key
            return (
                PnrOutcome(PnrState.CONFIRMED, version=2)
                if idempotency_key in self.applied
                else PnrOutcome(PnrState.UNKNOWN)
            )
        answer = self.status_script.pop(0)
        if answer is None:
            raise PssUnavailable("timed out")
        return answer

    async def refund(self, request: RefundRequest, *, idempotency_key: str) -> RefundOutcome:
        raise AssertionError("not used")

    async def read(self, locator: str) -> PnrView | None:
        raise AssertionError("not used")


@pytest.fixture
def pss() -> ScriptedPss:
    return ScriptedPss()


@pytest.fixture
def pump(rig: Rig, pss: ScriptedPss) -> PnrChangePump:
    rig.c.service.commands.record_intent = record_intent
    return PnrChangePump(rig.c.service, pss, policy=POLICY, clock=rig.clock)


async def _intents(rig: Rig) -> list[PnrChangeRow]:
    async with rig.c.db.reading() as s:
        return list((await s.scalars(select(PnrChangeRow).order_by(PnrChangeRow.id))).all())


async def _offer_status(rig: Rig, offer_id: int | None) -> str:
    async with rig.c.db.reading() as s:
        return str((await s.execute(select(Offer.status).where(Offer.id == offer_id))).scalar_one())


async def _chosen(rig: Rig, who: Pax) -> tuple[int, int]:
    """The passenger answers "1": the first option's first flight and the held seats before the answer."""
    [first, *_] = await rig.options(who)
    await rig.reply("sms", who, "1")
    return first.flight_ids[0], first.id


def _keys(outbox: list) -> list[str]:  # type: ignore[type-arg]
    return [m.key for m in outbox]


async def test_a_choice_records_the_intent_holds_the_seats_and_tells_nothing_until_the_pss_confirms(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    before = await rig.inventory()
    flight, option_id = await _chosen(rig, a)

    conv = await rig.conversation(a)
    assert conv.status == Status.CONFIRMING
    assert _keys(await rig.outbox(a)) == ["offer"], "nothing told before the PSS answered"
    assert await rig.inventory() == before, "the seats stay held, none sold yet"
    assert await rig.segments(a) == [(rig.disrupted.id, "HK")]
    [intent] = await _intents(rig)
    assert (intent.state, intent.attempts, intent.option_id, intent.locator) == (
        "sending",
        0,
        option_id,
        a.locator,
    )
    assert (
        intent.change["cancel"][0]["number"] == rig.disrupted.number
        and intent.change["cancel"][0]["status"] == "HX"
    )
    assert [s["status"] for s in intent.change["sell"]] == ["HK"]
    assert await _offer_status(rig, conv.offer_id) == "accepted"
    # Past the offer's deadline: an accepted offer is not expired, its seats stay held.
    rig.clock.advance(hours=2)
    async with rig.c.db.transaction() as s:
        assert await expire_offers(s, now=rig.clock()) == 0

    assert await pump.drain() == 1

    assert pss.calls == [("change", intent.idempotency_key)]
    assert list(pss.applied) == [intent.idempotency_key]
    conv = await rig.conversation(a)
    assert conv.status == Status.BOOKED and conv.booked_option_id == option_id
    assert _keys(await rig.outbox(a)) == ["offer", "booked"]
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (flight, "HK")]
    after = await rig.inventory()
    assert after[flight] == (before[flight][0] + 1, 0)
    assert all(after[f.id][1] == 0 for f in rig.alternatives), (
        "the other options' holds were released"
    )
    assert (await _intents(rig))[0].state == "confirmed"
    assert await pump.drain() == 0, "nothing left to send"


async def test_a_refusal_gives_a_fresh_offer_and_books_nothing(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    before = await rig.inventory()
    first_offer = (await rig.conversation(a)).offer_id
    pss.change_script.append(PnrOutcome(PnrState.REFUSED, reason="version_conflict"))
    await _chosen(rig, a)

    await pump.drain()

    conv = await rig.conversation(a)
    assert (
        conv.status == Status.OFFERED
        and conv.offer_id != first_offer
        and conv.booked_option_id is None
    )
    assert _keys(await rig.outbox(a)) == ["offer", "offer_seat_gone"]
    assert await rig.segments(a) == [(rig.disrupted.id, "HK")]
    assert await rig.inventory() == before, (
        "the old offer's holds released, the new offer's taken: no seat sold"
    )
    assert await rig.holds() == {"released": 3, "held": 3}
    [intent] = await _intents(rig)
    assert (intent.state, intent.reason) == ("refused", "version_conflict")
    assert await _offer_status(rig, first_offer) == "superseded"


async def test_pending_is_polled_and_booked_only_once_confirmed(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    pss.change_script.append(PnrOutcome(PnrState.PENDING))
    pss.status_script.append(PnrOutcome(PnrState.PENDING))
    flight, _ = await _chosen(rig, a)

    await pump.drain()
    assert (await _intents(rig))[0].state == "pending"
    assert await pump.drain() == 0, "not due before the poll interval"
    rig.clock.advance(seconds=5)
    await pump.drain()
    assert (await rig.conversation(a)).status == Status.CONFIRMING
    assert _keys(await rig.outbox(a)) == ["offer"]
    rig.clock.advance(seconds=5)
    await pump.drain()  # the status script is empty: the applied change reads as confirmed

    assert [c for c, _ in pss.calls] == ["change", "status", "status"]
    assert (await rig.conversation(a)).status == Status.BOOKED
    assert _keys(await rig.outbox(a)) == ["offer", "booked"]
    assert (flight, "HK") in await rig.segments(a)


async def test_no_answer_then_ask_before_sending_again(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    """A send that timed out after it arrived is found by asking; one that never arrived is sent again, same key."""
    a = await rig.add_pax(("sms",))
    b = await rig.add_pax(("sms",))
    await rig.offered(a, b)
    pss.change_script.extend([None, None])  # both sends time out
    await _chosen(rig, a)
    await _chosen(rig, b)
    await pump.drain()
    key_a, key_b = (i.idempotency_key for i in await _intents(rig))
    pss.applied.pop(key_b)  # a's send had arrived, b's never did
    assert [(i.state, i.attempts) for i in await _intents(rig)] == [("sending", 1), ("sending", 1)]
    assert (await rig.conversation(a)).status == Status.CONFIRMING

    rig.clock.advance(seconds=2)
    await pump.drain()

    def calls(key: str) -> list[str]:
        return [c for c, k in pss.calls if k == key]

    assert calls(key_a) == ["change", "status"], "arrived: asked and found, not sent again"
    assert calls(key_b) == ["change", "status", "change"], (
        "never arrived: sent again with the same key"
    )
    for who in (a, b):
        assert (await rig.conversation(who)).status == Status.BOOKED
        assert _keys(await rig.outbox(who)) == ["offer", "booked"]


async def test_an_interrupted_attempt_is_recovered_by_asking_once_its_lease_expires(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    """A worker that dies after the PSS applied the change and before its commit: the next claim asks, never resends."""
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    await _chosen(rig, a)
    # The dead worker claimed it and called the PSS, which applied the change; then it died.
    [claimed] = await pump._claim(1)
    await pss.change(PnrChange("X", (), (), 1), idempotency_key=claimed.key)
    assert await pump.drain() == 0, "leased: nobody else takes it"

    rig.clock.advance(seconds=31)
    assert await pump.drain() == 1

    assert [c for c, _ in pss.calls] == ["change", "status"], "asked, not sent a second time"
    assert (await rig.conversation(a)).status == Status.BOOKED
    assert _keys(await rig.outbox(a)) == ["offer", "booked"]
    assert (await _intents(rig))[0].attempts == 2


async def test_a_late_answer_from_a_worker_that_lost_its_lease_records_nothing(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    await _chosen(rig, a)
    [slow] = await pump._claim(1)
    rig.clock.advance(seconds=31)
    await pump.drain()  # another worker took over and booked
    await pump._record(
        slow, Next(IntentState.REFUSED, reason="late"), PnrOutcome(PnrState.REFUSED), rig.clock()
    )

    assert (await _intents(rig))[0].state == "confirmed"
    assert (await rig.conversation(a)).status == Status.BOOKED
    assert _keys(await rig.outbox(a)) == ["offer", "booked"]


async def test_the_cap_escalates_to_the_desk_and_frees_the_offer(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    pss.change_script.append(None)
    pss.status_script.extend([None] * 10)  # the PSS stays silent
    await _chosen(rig, a)
    offer_id = (await rig.conversation(a)).offer_id
    for _ in range(POLICY.max_attempts):
        await pump.drain()
        rig.clock.advance(seconds=2)

    [intent] = await _intents(rig)
    assert (intent.state, intent.reason, intent.attempts) == (
        "escalated",
        "pss_unconfirmed",
        POLICY.max_attempts,
    )
    conv = await rig.conversation(a)
    assert conv.status == Status.ESCALATED and conv.escalation_reason == "pss_unconfirmed"
    assert [e.reason for e in await rig.escalations(a)] == ["pss_unconfirmed"]
    assert _keys(await rig.outbox(a)) == ["offer", "escalated_agent"]
    assert await _offer_status(rig, offer_id) == "open", "reopened: the sweeps can free its seats"
    assert await pump.drain() == 0


async def test_without_a_remote_pss_a_choice_books_at_once_and_records_no_intent(rig: Rig) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    await _chosen(rig, a)
    assert (await rig.conversation(a)).status == Status.BOOKED
    assert await _intents(rig) == []


async def test_two_workers_passing_at_once_send_each_change_once(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    people = [await rig.add_pax(("sms",)) for _ in range(4)]
    await rig.offered(*people)
    for who in people:
        await _chosen(rig, who)
    first, second = (
        PnrChangePump(rig.c.service, pss, policy=POLICY, clock=rig.clock, batch=2) for _ in range(2)
    )

    claimed = 0
    for _ in range(3):
        claimed += sum(await asyncio.gather(first.run_once(), second.run_once()))

    assert claimed == 4, "every change claimed once, by one of the two"
    sends = [key for call, key in pss.calls if call == "change"]
    assert sorted(sends) == sorted(i.idempotency_key for i in await _intents(rig)), (
        "each change sent once"
    )
    for who in people:
        assert (await rig.conversation(who)).status == Status.BOOKED
        assert _keys(await rig.outbox(who)) == ["offer", "booked"]


async def test_a_stop_while_the_pss_is_asked_books_what_the_pss_booked_and_says_nothing(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    flight, option_id = await _chosen(rig, a)
    await rig.reply("sms", a, "STOP")

    await pump.drain()

    conv = await rig.conversation(a)
    assert conv.status == Status.OPTED_OUT and conv.booked_option_id == option_id
    assert await rig.segments(a) == [(rig.disrupted.id, "HX"), (flight, "HK")], (
        "the PSS has it, so rebook has it"
    )
    assert "booked" not in _keys(await rig.outbox(a))
    assert (await rig.inventory())[flight] == (1, 0)


async def test_the_same_option_chosen_again_after_the_desk_took_over_asks_the_pss_under_the_same_key(
    rig: Rig, pss: ScriptedPss, pump: PnrChangePump
) -> None:
    """The PSS stayed silent until the cap, then booked it after all: the passenger's second "1" finds that out."""
    a = await rig.add_pax(("sms",))
    await rig.offered(a)
    pss.change_script.append(None)
    pss.status_script.extend([None] * (POLICY.max_attempts - 1))
    await _chosen(rig, a)
    for _ in range(POLICY.max_attempts):
        await pump.drain()
        rig.clock.advance(seconds=2)
    assert (await rig.conversation(a)).status == Status.ESCALATED
    [before] = await _intents(rig)

    await rig.reply(
        "sms", a, "1"
    )  # the offer reopened when the desk took over; still within its deadline
    assert (await rig.conversation(a)).status == Status.CONFIRMING
    await pump.drain()

    [intent] = await _intents(rig)
    assert (intent.id, intent.idempotency_key) == (before.id, before.idempotency_key)
    assert (intent.state, intent.attempts) == ("confirmed", 2)
    assert [c for c, k in pss.calls if k == intent.idempotency_key][-1] == "status", (
        "asked first, not sent"
    )
    assert [c for c, _ in pss.calls].count("change") == 1
    assert (await rig.conversation(a)).status == Status.BOOKED
    assert _keys(await rig.outbox(a)) == ["offer", "escalated_agent", "booked"]
