"""`POST /v1/feeds/mvt|asm` through the app as `build()` wires it, on SQLite and PostgreSQL: messages move the flight's story once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from gateway.http.limits import MIB
from rebooking_core.models import Disruption, DisruptionUpdate, Flight
from tests.gateway.conftest import FlightId, Gateway, World, running

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


async def flight_row(g: Gateway, flight: FlightId) -> Flight:
    carrier, number, date = flight
    async with g.container.db.reading() as s:
        row = (await s.scalars(select(Flight).where(Flight.carrier == carrier, Flight.number == number, Flight.service_date == date))).one()
    return row


async def count(g: Gateway, model: type) -> int:
    async with g.container.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


def ddhhmm(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%d%H%M")


def mvt_delay(flight: FlightId, new_departure: dt.datetime, *, code: str = "93", minutes: int = 45) -> str:
    carrier, number, date = flight
    return f"MVT\n{carrier}{number}/{date.day:02d}.GREBA.LHR\nED{ddhhmm(new_departure)}\nDL{code}/{minutes // 60:02d}{minutes % 60:02d}\n"


def asm(action: str, flight: FlightId, *more: str) -> str:
    carrier, number, date = flight
    day = f"{date.day:02d}{MONTHS[date.month - 1]}{date.year % 100:02d}"
    return "\n".join(["ASM", "UTC", action, f"{carrier}{number}/{day}", *more]) + "\n"


async def post(g: Gateway, kind: str, text: str, **headers: str) -> object:
    return await g.client.post(f"/v1/feeds/{kind}", content=text.encode(), headers={"Content-Type": "text/plain", **headers})


async def test_an_mvt_delay_opens_the_flights_disruption_once(gateway: Gateway) -> None:
    target = gateway.world.target
    flight = await flight_row(gateway, target)
    text = mvt_delay(target, flight.dep_utc + dt.timedelta(hours=5))
    first = await gateway.client.post("/v1/feeds/mvt", content=text, headers={"Content-Type": "text/plain; charset=utf-8"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["messages"], body["ignored"]) == (1, 0)
    [outcome] = body["updates"]
    assert (outcome["kind"], outcome["outcome"]) == ("delay", "applied")
    assert outcome["flight"] == f"{target[0]}{target[1]}/{target[2].isoformat()}"
    await gateway.settle()
    sent = len(gateway.sandbox.messages)
    assert await count(gateway, Disruption) == 1

    again = await gateway.client.post("/v1/feeds/mvt", content=text, headers={"Content-Type": "text/plain"})
    assert again.status_code == 200
    assert [u["outcome"] for u in again.json()["updates"]] == ["duplicate"]
    await gateway.settle()
    assert len(gateway.sandbox.messages) == sent
    assert await count(gateway, Disruption) == 1
    assert await count(gateway, DisruptionUpdate) == 1
    assert (await flight_row(gateway, target)).est_dep_utc == flight.dep_utc + dt.timedelta(hours=5)


async def test_asm_cancel_then_reinstate_moves_one_disruption(gateway: Gateway) -> None:
    target = gateway.world.target
    cancelled = await gateway.client.post("/v1/feeds/asm", content=asm("CNL OPER", target), headers={"Content-Type": "text/plain"})
    assert cancelled.status_code == 200, cancelled.text
    [c] = cancelled.json()["updates"]
    assert (c["kind"], c["outcome"]) == ("cancellation", "applied")
    await gateway.settle()
    assert (await flight_row(gateway, target)).status == "cancelled"

    envelope = f"QU LHRRMRB\n.HDQOCRB {ddhhmm(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))}\n"
    back = await gateway.client.post("/v1/feeds/asm", content=envelope + asm("RIN", target), headers={"Content-Type": "text/plain"})
    assert back.status_code == 200, back.text
    [r] = back.json()["updates"]
    assert (r["kind"], r["outcome"], r["disruption_id"]) == ("reinstatement", "applied", c["disruption_id"])
    assert await count(gateway, Disruption) == 1
    assert (await flight_row(gateway, target)).status != "cancelled"
    await gateway.settle()


async def test_new_and_on_time_messages_are_read_and_ignored(gateway: Gateway) -> None:
    target = gateway.world.target
    carrier, number, date = target
    text = f"MVT\n{carrier}{number}/{date.day:02d}.GREBA.LHR\nAA1122/1130\n"
    answer = await gateway.client.post("/v1/feeds/mvt", content=text, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200
    assert answer.json() == {"messages": 1, "ignored": 1, "updates": []}
    new = asm("NEW", target, "J 320 J12Y162", "LHR1400 CDG1615")
    answer = await gateway.client.post("/v1/feeds/asm", content=new, headers={"Content-Type": "text/plain"})
    assert answer.json() == {"messages": 1, "ignored": 1, "updates": []}
    assert await count(gateway, DisruptionUpdate) == 0


async def test_a_malformed_message_refuses_the_body_naming_line_and_field(gateway: Gateway) -> None:
    target = gateway.world.target
    flight = await flight_row(gateway, target)
    good = mvt_delay(target, flight.dep_utc + dt.timedelta(hours=2))
    bad = "NNNN\nMVT\nRB391/06.GREBA.LHR\nXD061130\n"
    answer = await gateway.client.post("/v1/feeds/mvt", content=good + bad, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["detail"] == "line 8: movement: unknown action code 'XD' (AD, AA, ED, EA, NI, DL, PX, SI)"
    assert problem["errors"][0]["loc"] == ["body", "line 8", "movement"]
    assert await count(gateway, DisruptionUpdate) == 0  # the good message before it was not applied either

    for text, line, field in (
        (asm("CNL", ("RB", "391", dt.date(2026, 11, 30))).replace("30NOV26", "31NOV26"), 4, "flight date"),
        ("ASM\nUTC\nCNL\n", 1, "flight"),
        ("ASM\nUTC\nXYZ\nRB391/07DEC26\n", 3, "action"),
    ):
        refused = await gateway.client.post("/v1/feeds/asm", content=text, headers={"Content-Type": "text/plain"})
        assert refused.status_code == 422, text
        assert refused.json()["errors"][0]["loc"] == ["body", f"line {line}", field], refused.json()


async def test_one_refused_update_is_the_answer(gateway: Gateway) -> None:
    target = gateway.world.target
    flight = await flight_row(gateway, target)
    unknown = mvt_delay(("RB", "9999", target[2]), flight.dep_utc + dt.timedelta(hours=1))
    answer = await gateway.client.post("/v1/feeds/mvt", content=unknown, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 404
    assert "no flight RB9999" in answer.json()["detail"]

    early = mvt_delay(target, flight.dep_utc - dt.timedelta(minutes=30))
    answer = await gateway.client.post("/v1/feeds/mvt", content=early, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 422
    assert "after the schedule" in answer.json()["detail"]

    both = unknown + "NNNN\n" + mvt_delay(target, flight.dep_utc + dt.timedelta(hours=3))
    answer = await gateway.client.post("/v1/feeds/mvt", content=both, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200
    assert [u["outcome"] for u in answer.json()["updates"]] == ["unknown_flight", "applied"]
    assert await count(gateway, Disruption) == 1
    await gateway.settle()


async def test_text_only_and_bounded(gateway: Gateway) -> None:
    answer = await gateway.client.post("/v1/feeds/mvt", json={"text": "MVT"})
    assert answer.status_code == 415
    answer = await gateway.client.post("/v1/feeds/mvt", content=b"MVT\n\xff\xfe", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 400
    answer = await gateway.client.post("/v1/feeds/asm", content=b"A" * (MIB + 1), headers={"Content-Type": "text/plain"})
    assert answer.status_code == 413
    many = "".join(f"MVT\nRB1/{(i % 28) + 1:02d}.LHR\nAA1000\nNNNN\n" for i in range(501))
    answer = await gateway.client.post("/v1/feeds/mvt", content=many, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 422
    assert "at most 500 messages" in answer.json()["detail"]


async def test_the_feeds_scope_and_nothing_else(db_url: str, world: World) -> None:
    keys = "k-feeds:feeds,k-ops:ops"
    async with running(db_url, world, load=False, ops_api_keys=keys) as g:
        text = "MVT\nRB1/06.LHR\nAA1000\n"
        for key, expected in (("k-feeds", 200), ("k-ops", 403), ("k-none", 401)):
            answer = await g.client.post("/v1/feeds/mvt", content=text, headers={"Content-Type": "text/plain", "Authorization": f"Bearer {key}"})
            assert answer.status_code == expected, key
        answer = await g.client.get("/v1/escalations", headers={"Authorization": "Bearer k-feeds"})
        assert answer.status_code == 403
