"""Claims (#21.6): one per passenger and disruption, listed with filters and pages or as CSV, totalled, settled by the worker's sweep after a booking, anonymised on erasure."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import func, select, update

from conversations.models import Conversation
from gateway.worker.process import Worker
from rebooking_core.models import Claim, Passenger
from tests.gateway.conftest import Gateway
from tests.gateway.http.pages import every


async def claims_in_db(g: Gateway) -> list[Claim]:
    async with g.container.db.reading() as s:
        return list((await s.scalars(select(Claim).order_by(Claim.id))).all())


async def disrupted(g: Gateway, **extra: object) -> int:
    response = await g.disrupt(g.world.target, reason="TECH", **extra)
    assert response.status_code == 202, response.text
    await g.settle()
    return int(response.json()["id"])


async def test_one_claim_per_passenger_a_second_event_adds_none_and_the_lists_agree(gateway: Gateway) -> None:
    disruption = await disrupted(gateway)
    made = await claims_in_db(gateway)
    async with gateway.container.db.reading() as s:
        booked = await s.scalar(select(func.sum(Conversation.passengers)).where(Conversation.disruption_id == disruption))
    assert len(made) == booked == gateway.world.passengers_on(gateway.world.target)
    assert len({(c.disruption_id, c.passenger_id) for c in made}) == len(made)
    # a technical fault on a departure from the EU: owed under EU261 (booked ones may be halved or lifted by the rerouting)
    assert {c.regime for c in made} == {"eu261"} and {c.currency for c in made} == {"EUR"}
    assert all(c.basis.startswith("Regulation (EC) No 261/2004 Art. 3(1)") for c in made)
    assert all((c.status == "owed") is (c.amount > 0) for c in made)

    again = await gateway.disrupt(gateway.world.target, reason="TECH")
    await gateway.settle()
    assert again.status_code == 202 and again.json()["id"] == disruption
    assert [c.id for c in await claims_in_db(gateway)] == [c.id for c in made]

    listed = await every(gateway.client, "/v1/claims", disruption=disruption)
    assert [item["id"] for item in listed] == [c.id for c in made]
    first = await gateway.client.get("/v1/claims", params={"limit": 1})
    assert len(first.json()["items"]) == 1 and first.json()["next_cursor"]
    owed = await every(gateway.client, "/v1/claims", status="owed", regime="eu261")
    assert {item["id"] for item in owed} == {c.id for c in made if c.status == "owed"}
    assert await every(gateway.client, "/v1/claims", regime="appr") == []
    assert await every(gateway.client, "/v1/claims", disruption=disruption + 1) == []
    bad = await gateway.client.get("/v1/claims", params={"status": "maybe"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")

    summary = (await gateway.client.get(f"/v1/disruptions/{disruption}")).json()
    assert sum(t["claims"] for t in summary["claims"]) == len(made)
    assert sum(t["amount"] for t in summary["claims"]) == sum(c.amount for c in made)


async def test_csv_by_format_or_accept_holds_every_matching_claim(gateway: Gateway) -> None:
    await disrupted(gateway)
    made = await claims_in_db(gateway)
    for response in (
        await gateway.client.get("/v1/claims", params={"format": "csv"}),
        await gateway.client.get("/v1/claims", headers={"Accept": "text/csv"}),
    ):
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [int(r["id"]) for r in rows] == [c.id for c in made]
        assert {r["regime"] for r in rows} == {"eu261"} and all(r["basis"] for r in rows)
        assert sum(int(r["amount"]) for r in rows) == sum(c.amount for c in made)
    none = await gateway.client.get("/v1/claims", params={"format": "csv", "regime": "uk261"})
    assert none.text.splitlines() == [",".join(("id", "disruption_id", "passenger_id", "booking_id", "status", "regime", "amount", "currency", "reason", "basis", "created_at", "updated_at"))]


async def test_metrics_total_claims_per_disruption_and_regime(gateway: Gateway) -> None:
    disruption = await disrupted(gateway)
    made = await claims_in_db(gateway)
    metrics = gateway.container.metrics
    await metrics.refresh(gateway.container.db, now=gateway.container.clock())
    text = metrics.render().decode()
    owed = [c for c in made if c.status == "owed"]
    assert f'rebook_claims{{disruption="{disruption}",regime="eu261",status="owed"}} {float(len(owed))}' in text
    assert f'rebook_claims_amount{{currency="EUR",disruption="{disruption}",regime="eu261",status="owed"}} {float(sum(c.amount for c in owed))}' in text


async def booked(g: Gateway, passengers: int = 1) -> tuple[list[Conversation], dict[int, Claim]]:
    """The first `passengers` with an SMS offer book option 1; their booked conversations and the claims before."""
    await disrupted(g)
    before = {c.id: c for c in await claims_in_db(g)}
    offers = list({m.to: m for m in g.sandbox.messages if m.channel == "sms" and m.tokens}.values())[:passengers]
    for message in offers:
        await g.say(message, "1")
    async with g.container.db.reading() as s:
        convs = list((await s.scalars(select(Conversation).where(Conversation.booked_option_id.is_not(None)))).all())
    assert len(convs) == passengers
    return convs, before


async def test_the_sweep_settles_the_bookings_claims_on_their_new_arrival(gateway: Gateway) -> None:
    convs, before = await booked(gateway, passengers=2)
    # the reply itself leaves the claims as they were: the worker's sweep settles them
    assert {c.id: (c.reason, c.amount, c.decided_option_id) for c in await claims_in_db(gateway)} == {
        c.id: (c.reason, c.amount, None) for c in before.values()
    }
    assert await Worker(gateway.container).settle_claims() == 2
    after = {c.id: c for c in await claims_in_db(gateway)}
    option_of = {conv.booking_id: conv.booked_option_id for conv in convs}
    mine = [c for c in after.values() if c.booking_id in option_of]
    assert {c.booking_id for c in mine} == set(option_of)
    assert all(c.reason in ("cancelled", "reroute_halved", "notice_under_7d_reroute", "notice_7d_reroute") for c in mine)
    assert all(c.decided_option_id == option_of[c.booking_id] and c.updated_at >= before[c.id].updated_at for c in mine)
    others = [c for c in after.values() if c.booking_id not in option_of]
    assert all((c.reason, c.amount, c.decided_option_id) == (before[c.id].reason, before[c.id].amount, None) for c in others)


async def test_a_second_sweep_changes_nothing_and_paid_or_disputed_claims_are_never_decided(gateway: Gateway) -> None:
    (conv,), before = await booked(gateway)
    mine = sorted(c.id for c in before.values() if c.booking_id == conv.booking_id)
    assert len(mine) > 2, "the seeded world's first booked booking has passengers left open besides a paid and a disputed one"
    frozen = {mine[0]: "paid", mine[1]: "disputed"}
    async with gateway.container.db.transaction() as s:
        for claim_id, status in frozen.items():
            await s.execute(update(Claim).where(Claim.id == claim_id).values(status=status, amount=123, reason="kept"))
    worker = Worker(gateway.container)
    assert await worker.settle_claims() == 1
    once = {c.id: c for c in await claims_in_db(gateway)}
    assert all(once[i].decided_option_id == conv.booked_option_id for i in mine if i not in frozen)
    for claim_id, status in frozen.items():
        kept = once[claim_id]
        assert (kept.status, kept.amount, kept.reason, kept.decided_option_id) == (status, 123, "kept", None)
        assert kept.updated_at == before[claim_id].updated_at

    gateway.container.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert await worker.settle_claims() == 0
    twice = {c.id: c for c in await claims_in_db(gateway)}
    assert {i: (c.status, c.amount, c.reason, c.updated_at) for i, c in twice.items()} == {
        i: (c.status, c.amount, c.reason, c.updated_at) for i, c in once.items()
    }


async def test_erasure_unlinks_the_claim_and_keeps_the_totals_export_shows_it(gateway: Gateway) -> None:
    disruption = await disrupted(gateway)
    claim = (await claims_in_db(gateway))[0]
    assert claim.passenger_id is not None
    exported = await gateway.client.get(f"/v1/passengers/{claim.passenger_id}/export")
    assert exported.status_code == 200, exported.text
    assert [row["id"] for row in exported.json()["tables"]["claims"]] == [claim.id]
    totals = (await gateway.client.get(f"/v1/disruptions/{disruption}")).json()["claims"]

    erased = await gateway.client.delete(f"/v1/passengers/{claim.passenger_id}")
    assert erased.status_code == 200, erased.text
    assert {"table": "claims", "action": "anonymised", "rows": 1, "columns": ["booking_id", "passenger_id"]} in erased.json()["tables"]
    gone = next(c for c in await claims_in_db(gateway) if c.id == claim.id)
    assert (gone.passenger_id, gone.booking_id, gone.amount, gone.status) == (None, None, claim.amount, claim.status)
    assert (await gateway.client.get(f"/v1/disruptions/{disruption}")).json()["claims"] == totals
    again = await gateway.client.delete(f"/v1/passengers/{claim.passenger_id}")
    assert not any(t["table"] == "claims" for t in again.json()["tables"])
    # an erased passenger gets no new claim when the flight's story goes on
    await gateway.disrupt(gateway.world.target, reason="TECH", idempotency_key="later")
    await gateway.settle()
    async with gateway.container.db.reading() as s:
        erased_pax = await s.get(Passenger, claim.passenger_id)
        mine = await s.scalar(select(func.count()).select_from(Claim).where(Claim.passenger_id == claim.passenger_id))
    assert erased_pax is not None and erased_pax.erased_at is not None and mine == 0
