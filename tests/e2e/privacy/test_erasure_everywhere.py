"""Erasure reaches the contents of JSON columns and the agent desk: a passenger taken over in Slack leaves nothing behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import JSON, String, select, type_coerce, update

from consent import privacy
from conversations.desk.models import AgentDecision
from conversations.lifecycles import EscalationStatus, OutboxStatus, allowed
from conversations.models import Delivery, OutboxMessage
from infra.orm import Base
from tests.conversations.conftest import Rig
from tests.e2e.desk.conftest import ESC, SECRET, Desk, desk, fake, slack_server  # noqa: F401  (fixtures)
from tests.e2e.desk.desk_journey import take_over
from tests.e2e.privacy.conftest import OPS_API_KEYS, auth
from tests.e2e.privacy.journey import GIVEN, all_rows, dump, found_in, journey, readable

#: JSON columns of personal tables that erasure leaves, and why they can hold nothing about a person.
JSON_WITHOUT_PII = {
    ("conversations", "impact"): "the impacted booking: ids, codes, airports, times and the locator the booking keeps",
    ("outbox", "tried_channels"): "channel names",
    ("offer_options", "flight_ids"): "flight ids",
    ("refund_requests", "segment_ids"): "segment ids",
    ("pnr_changes", "change"): "the PNR change sent to the PSS: the locator the booking keeps, flight codes, cabins, a count",
    ("audit_log", "details"): "ids and counts only; append-only and hash-chained",
    ("outbound_events", "data"): "ids, codes, statuses and times; a locator is looked up at delivery, never after erasure",
}
WROTE = ("Is there a later flight? My son Caspian has the same booking", "You can also write to me on Signal")


@pytest.fixture
def settings_overrides(slack_server: tuple[Any, str]) -> dict[str, Any]:  # noqa: F811
    return {
        "ops_api_keys": OPS_API_KEYS,
        "slack": {
            "bot_token": slack_server[0].token,
            "signing_secret": SECRET,
            "api_base": f"{slack_server[1]}/api/",
            "escalation_channel": ESC,
            "card_debounce_seconds": 5,
        },
    }


def test_every_json_column_of_a_personal_table_is_erased_or_holds_no_pii() -> None:
    unclassified = []
    for name in privacy.personal_tables(Base.metadata):
        policy = privacy.POLICY[name]
        for column in Base.metadata.tables[name].columns:
            if not isinstance(column.type, JSON):
                continue
            if column.name in policy.cleared:
                assert all(rule.values[column.name] in ({}, [], None) for rule in policy.rules if column.name in rule.values)
            elif (name, column.name) not in JSON_WITHOUT_PII:
                unclassified.append(f"{name}.{column.name}")
    assert unclassified == [], "erase these JSON columns in consent/privacy.py, or say here why they hold no PII"


def test_the_status_changes_of_erasure_are_edges_of_their_lifecycles() -> None:
    for table, states in (("outbox", OutboxStatus), ("escalations", EscalationStatus)):
        for rule in privacy.POLICY[table].rules:
            if "status" in rule.values:
                target = states(rule.values["status"])
                assert all(allowed(source, target) for source in rule.when["status"]), (table, rule)


async def test_a_passenger_taken_over_in_slack_is_erased_from_every_column_and_every_message(desk: Desk) -> None:  # noqa: F811
    rig: Rig = desk.rig
    person = await journey(rig)
    agent_text = f"{GIVEN}, I rebooked you; I will call {person.pax.phone} to confirm"
    taken = await take_over(desk, person.pax, passenger_texts=WROTE, agent_text=agent_text)
    async with rig.c.db.transaction() as s:
        # Decisions carry free-form details: put the passenger's name in one, as a future detail could.
        await s.execute(
            update(AgentDecision)
            .where(AgentDecision.escalation_id == taken.escalation.id)
            .values(detail={"amount": 100, "currency": "EUR", "note": f"{GIVEN} asked for a voucher"})
        )
    secrets = [*person.secrets, *WROTE, agent_text]
    before = await all_rows(rig)
    assert agent_text not in dump(before["outbox"]), "the agent's text is stored encrypted in the message's parameters"
    assert agent_text in dump(readable(before)), "…but anyone with the live key can read it"
    async with rig.c.db.reading() as s:
        at_rest = (await s.scalars(select(type_coerce(Delivery.text, String)).where(Delivery.text.is_not(None)))).all()
    assert at_rest and all(v.startswith("enc1:") for v in at_rest), "…and so is the conversation log's copy, as sent"
    assert agent_text in [d["text"] for d in before["deliveries"]]

    exported = await desk.http.get(f"/v1/passengers/{person.pax.passenger_id}/export", headers=auth("all"))
    assert exported.status_code == 200
    bundle = exported.json()["tables"]
    assert [m["params"]["text"] for m in bundle["outbox"] if m["key"] == "agent_text"] == [agent_text]
    assert [d["detail"]["note"] for d in bundle["agent_decisions"] if "note" in d["detail"]] == [f"{GIVEN} asked for a voucher"]
    assert len(bundle["agent_relays"]) == len(WROTE)

    r = await desk.http.delete(f"/v1/passengers/{person.pax.passenger_id}", headers=auth("erase"))
    assert r.status_code == 200, r.text
    receipt = r.json()

    rows = readable(await all_rows(rig))
    for table, table_rows in rows.items():
        for row in table_rows:
            leaks = found_in(dump(row), secrets)
            assert not leaks, f"{table} still holds {leaks} in {sorted(k for k, v in row.items() if found_in(dump(v), secrets))}"
    by_table = {t["table"]: t for t in receipt["tables"]}
    assert "params" in by_table["outbox"]["columns"]
    assert by_table["agent_decisions"]["columns"] == ["detail"]
    assert by_table["agent_relays"]["rows"] == len(WROTE)
    assert {"table": "escalations", "store": "slack", "rows": 1} in receipt["redactions"]
    assert found_in(dump(receipt), secrets) == []
    erased_export = await desk.http.get(f"/v1/passengers/{person.pax.passenger_id}/export", headers=auth("all"))
    assert found_in(dump(erased_export.json()), secrets) == []

    await desk.agents.pump()
    ours = [body for body in desk.fake.messages.values() if "user" not in body]
    assert ours and [json.dumps(b) for b in ours if found_in(json.dumps(b, ensure_ascii=False), secrets)] == []


async def test_a_notice_outside_any_conversation_is_exported_and_cancelled(desk: Desk) -> None:  # noqa: F811
    """A broadcast notice is an outbox row with a passenger but no conversation: it belongs to them too."""
    rig: Rig = desk.rig
    who = await rig.add_pax(("sms",))
    async with rig.c.db.transaction() as s:
        for n, status in enumerate(("pending", "sent")):
            s.add(
                OutboxMessage(
                    conversation_id=None, passenger_id=who.passenger_id, idempotency_key=f"notice-{who.passenger_id}-{n}",
                    key="broadcast_notice", params={"text": f"Gate change for {who.phone}"}, status=status,
                    tried_channels=[], attempts=0, next_attempt_at=rig.clock(), created_at=rig.clock(),
                )
            )

    exported = (await desk.http.get(f"/v1/passengers/{who.passenger_id}/export", headers=auth("all"))).json()
    assert sorted(m["status"] for m in exported["tables"]["outbox"]) == ["pending", "sent"]
    r = await desk.http.delete(f"/v1/passengers/{who.passenger_id}", headers=auth("erase"))

    by_table = {t["table"]: t for t in r.json()["tables"]}
    assert by_table["outbox"] == {"table": "outbox", "action": "anonymised", "rows": 2, "columns": ["last_error", "params", "status"]}
    async with rig.c.db.reading() as s:
        rows = (await s.scalars(select(OutboxMessage).where(OutboxMessage.passenger_id == who.passenger_id).order_by(OutboxMessage.id))).all()
    assert [(m.status, m.params) for m in rows] == [("cancelled", {}), ("sent", {})]
