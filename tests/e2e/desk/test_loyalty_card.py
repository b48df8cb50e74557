"""The agent's passenger card shows the loyalty programme's status, miles and preferences, in Slack and over HTTP; export holds them, erasure removes them."""

from __future__ import annotations

from sqlalchemy import update

from conversations.engine import Status
from gateway.settings import DEV_OPS_KEY
from rebooking_core.models import Passenger
from tests.e2e.desk.conftest import Desk, escalate

PREFERENCES = {"time": "morning", "cabin": "J", "seat": "<aisle>"}
#: The development key holds every scope (the ops API's agents and the privacy routes).
OPS = {"Authorization": f"Bearer {DEV_OPS_KEY}"}


async def test_the_card_shows_loyalty_in_slack_and_in_the_escalation_api(desk: Desk) -> None:
    rig, fake = desk.rig, desk.fake
    loyal = await rig.add_pax(("whatsapp",))
    async with rig.c.db.transaction() as s:
        await s.execute(
            update(Passenger)
            .where(Passenger.id == loyal.passenger_id)
            .values(tier=2, loyalty_status="Senator", miles=412_000, preferences=PREFERENCES)
        )
    await escalate(desk, loyal)
    assert (await rig.conversation(loyal)).status == Status.ESCALATED
    await desk.agents.pump()
    [queue] = fake.posts()

    r = await desk.click("take_next", str((await rig.conversation(loyal)).disruption_id))
    assert r.status_code == 200
    await desk.settle()
    card = next(p for p in fake.posts() if p is not queue)
    fields = [
        f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", [])
    ]
    # one field: the level name, the grouped balance, the preferences sorted and escaped (never Slack markup)
    assert (
        "*loyalty*\nSenator · 412,000 miles · prefers cabin J, seat &lt;aisle&gt;, time morning"
        in fields
    )

    [esc] = await rig.escalations(loyal)
    body = (await desk.http.get(f"/v1/escalations/{esc.id}", headers=OPS)).json()
    assert body["loyalty"] == {"status": "Senator", "miles": 412_000, "preferences": PREFERENCES}
    assert body["tier"] == 2

    # The passenger's export (GDPR Art. 20) holds the loyalty data too.
    exported = await desk.http.get(
        f"/v1/passengers/{loyal.passenger_id}/export", params={"reason": "DSR-7"}, headers=OPS
    )
    assert exported.status_code == 200, exported.text
    [me] = exported.json()["tables"]["passengers"]
    assert (me["loyalty_status"], me["miles"], me["preferences"]) == (
        "Senator",
        412_000,
        PREFERENCES,
    )

    # Erased: the API card has no loyalty any more (erasure clears the columns; the card would not show them anyway).
    erased = await desk.http.delete(
        f"/v1/passengers/{loyal.passenger_id}", params={"reason": "GDPR request"}, headers=OPS
    )
    assert erased.status_code == 200, erased.text
    async with rig.c.db.reading() as s:
        row = await s.get(Passenger, loyal.passenger_id)
        assert row is not None and (row.loyalty_status, row.miles, row.preferences) == (
            None,
            None,
            None,
        )
    after = (await desk.http.get(f"/v1/escalations/{esc.id}", headers=OPS)).json()
    assert after["loyalty"] is None and after["first_name"] == ""


async def test_a_passenger_without_loyalty_data_has_no_loyalty_field(desk: Desk) -> None:
    rig, fake = desk.rig, desk.fake
    plain = await rig.add_pax(("whatsapp",))
    await escalate(desk, plain)
    await desk.agents.pump()
    [queue] = fake.posts()
    await desk.click("take_next", str((await rig.conversation(plain)).disruption_id))
    await desk.settle()
    card = next(p for p in fake.posts() if p is not queue)
    assert "*loyalty*" not in str(card["blocks"])
    [esc] = await rig.escalations(plain)
    assert (await desk.http.get(f"/v1/escalations/{esc.id}", headers=OPS)).json()["loyalty"] is None
