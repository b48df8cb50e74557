"""Export holds every record a conversation created; erasure leaves no PII in the database, Redis or logs."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import redis.asyncio as aioredis

from consent import privacy
from infra.orm import Base
from tests.conversations.conftest import Rig
from tests.e2e.privacy.conftest import OPS_API_KEYS, auth
from tests.e2e.privacy.journey import (
    EMAIL,
    GIVEN,
    all_rows,
    captured_logs,
    dump,
    found_in,
    journey,
    primary_keys,
)

REDIS_URL = os.environ.get("REBOOK_TEST_PRIVACY_REDIS_URL", "redis://127.0.0.1:6379/12")
SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "export.schema.json"
#: Operational tables a disruption writes that describe flights, not people.
REFERENCE = {"flights", "inventory", "disruptions", "disruption_flights"}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ops_api_keys": OPS_API_KEYS, "redis_url": REDIS_URL}


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    """A real Redis (db 12); the test fails, never skips, when it is down."""
    client = aioredis.Redis.from_url(REDIS_URL)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


def test_every_table_has_a_privacy_policy_and_the_committed_schema_is_current() -> None:
    privacy.check_policy(Base.metadata)
    committed = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert committed == privacy.export_schema(Base.metadata), "run `rebook privacy schema > docs/export.schema.json`"
    assert set(committed["properties"]["tables"]["required"]) == {
        name for name in Base.metadata.tables if privacy.POLICY[name].personal
    }


def test_a_table_without_a_policy_stops_export_and_erasure() -> None:
    from sqlalchemy import Column, Integer, MetaData, Table

    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    Table("loyalty_profiles", metadata, Column("id", Integer, primary_key=True))
    with pytest.raises(privacy.UnknownTable, match="loyalty_profiles"):
        privacy.check_policy(metadata)


async def test_export_contains_every_record_the_conversation_created(rig: Rig, api: httpx.AsyncClient, redis: aioredis.Redis) -> None:
    before = primary_keys(await all_rows(rig))
    person = await journey(rig)
    after = await all_rows(rig)
    created = {name: keys - before[name] for name, keys in primary_keys(after).items()}

    r = await api.get(f"/v1/passengers/{person.pax.passenger_id}/export", headers=auth("export"), params={"reason": "DSR-1"})
    assert r.status_code == 200, r.text
    bundle = r.json()
    jsonschema.validate(bundle, json.loads(SCHEMA.read_text(encoding="utf-8")), format_checker=jsonschema.FormatChecker())
    exported = {name: primary_keys({name: rows})[name] for name, rows in bundle["tables"].items()}

    for table in Base.metadata.sorted_tables:
        new = created[table.name]
        if table.name in REFERENCE or not new:
            continue
        if table.name == "processed_events":
            # Provider event ids are personal only when they carry the number (a WhatsApp id does).
            new = {k for k in new if privacy.embeds(k[1], [person.pax.phone])}
            assert new, "the WhatsApp event id is linked to the passenger"
        if table.name == "outbound_events":
            # A disruption's events name no passenger: the export holds those about this one.
            mine = {str(r["id"]) for r in after[table.name] if r["passenger_id"] == person.pax.passenger_id}
            new = {k for k in new if k[0] in mine}
            assert new, "the passenger's consent and conversation events are theirs"
        assert table.name in exported, f"{table.name}: rows were created but the export has no section for it"
        missing = new - exported[table.name]
        assert not missing, f"{table.name}: created rows missing from the export: {sorted(missing)}"
    touched = {name for name, keys in created.items() if keys} - REFERENCE
    assert touched >= {"passengers", "contact_points", "consent_events", "conversations", "outbox", "deliveries", "inbound_messages", "escalations", "audit_log", "seat_holds"}
    assert GIVEN in dump(bundle) and EMAIL in dump(bundle)
    schema = await api.get("/v1/privacy/export-schema", headers=auth("export"))
    assert schema.json() == json.loads(SCHEMA.read_text(encoding="utf-8"))


async def test_erasure_leaves_no_pii_in_any_table_redis_key_or_log_and_is_idempotent(
    rig: Rig, api: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    with captured_logs() as logs:
        person = await journey(rig)
        pid = person.pax.passenger_id
        phone = person.pax.phone
        await redis.set(f"rebook:cache:pax:{pid}:profile", json.dumps({"name": GIVEN}))
        await redis.hset("rebook:sessions", mapping={phone: "open", "+15550000000": "open"})
        await redis.rpush("rebook:recent", f"reply from {phone}", "reply from +15550000000")
        await redis.sadd("rebook:emails", EMAIL, "someone.else@example.org")
        await redis.xadd("rebook:audit-feed", {"to": phone.lstrip("+"), "kind": "offer"})
        await redis.xadd("rebook:audit-feed", {"to": "15550000000", "kind": "offer"})
        await redis.set("rebook:unrelated", "keep me")
        before = await all_rows(rig)
        assert found_in(dump(before), person.secrets), "the journey stored the passenger's identifiers"

        r = await api.delete(f"/v1/passengers/{pid}", headers=auth("erase"), params={"reason": "GDPR request"})
        assert r.status_code == 200, r.text
        receipt = r.json()
        again = await api.delete(f"/v1/passengers/{pid}", headers=auth("erase"))
        exported = await api.get(f"/v1/passengers/{pid}/export", headers=auth("export"))

    rows = await all_rows(rig)
    for table, table_rows in rows.items():
        leaks = found_in(dump(table_rows), person.secrets)
        assert not leaks, f"{table} still holds {leaks}"
    leaked_keys = []
    async for key in redis.scan_iter():
        content = await _redis_dump(redis, key)
        if found_in(key.decode() + content, person.secrets):
            leaked_keys.append(key)
    assert leaked_keys == []
    assert await redis.get("rebook:unrelated") == b"keep me"
    assert await redis.hget("rebook:sessions", "+15550000000") == b"open"
    assert await redis.xlen("rebook:audit-feed") == 1
    assert found_in(logs.getvalue(), person.secrets) == []
    assert "send failed" in logs.getvalue(), "the logs saw the failed WhatsApp send"

    assert found_in(dump(receipt), person.secrets) == []
    by_table = {t["table"]: t for t in receipt["tables"]}
    assert by_table["contact_points"] == {"table": "contact_points", "action": "deleted", "rows": 4, "columns": []}
    assert {"passengers", "inbound_messages", "deliveries", "processed_events", "consent_events", "escalations"} <= set(by_table)
    assert receipt["stores"]["redis"] >= 5
    assert receipt["already_erased"] is False
    assert again.status_code == 200
    assert again.json()["already_erased"] is True and again.json()["tables"] == [] and again.json()["stores"] == {"redis": 0}
    assert exported.status_code == 200 and found_in(dump(exported.json()), person.secrets) == []

    # The booking record and the counts survive, without the person.
    assert len(rows["bookings"]) == 1 and len(rows["passengers"]) == 1 and rows["passengers"][0]["erased_at"] is not None
    assert len(rows["conversations"]) == 1 and rows["conversations"][0]["status"] == before["conversations"][0]["status"]
    assert len(rows["deliveries"]) == len(before["deliveries"]) and len(rows["inbound_messages"]) == len(before["inbound_messages"])
    assert [e["action"] for e in rows["audit_log"]][-3:] == ["data.erased", "data.erased", "data.exported"]
    assert (await api.delete("/v1/passengers/999999", headers=auth("erase"))).status_code == 404


async def test_erasure_cancels_what_was_still_to_be_sent(rig: Rig, api: httpx.AsyncClient, redis: aioredis.Redis) -> None:
    who = await rig.add_pax(("sms",))
    ids = await rig.disrupt()
    await rig.c.service.offer_batch(ids)
    assert [(m.key, m.status) for m in await rig.outbox(who)] == [("offer", "pending")]
    assert (await rig.conversation(who)).timer_at is not None

    r = await api.delete(f"/v1/passengers/{who.passenger_id}", headers=auth("erase"))
    assert r.status_code == 200
    await rig.c.dispatcher.drain()

    assert rig.sandbox.messages == []
    assert [(m.key, m.status) for m in await rig.outbox(who)] == [("offer", "cancelled")]
    assert (await rig.conversation(who)).timer_at is None


async def _redis_dump(client: aioredis.Redis, key: bytes) -> str:
    kind = (await client.type(key)).decode()
    value: Any
    if kind == "string":
        value = await client.get(key)
    elif kind == "hash":
        value = await client.hgetall(key)
    elif kind == "list":
        value = await client.lrange(key, 0, -1)
    elif kind == "set":
        value = await client.smembers(key)
    elif kind == "zset":
        value = await client.zrange(key, 0, -1, withscores=True)
    elif kind == "stream":
        value = await client.xrange(key)
    else:
        value = kind
    return repr(value)
