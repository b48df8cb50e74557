"""Scoped ops keys, the consent endpoints, and consent read at send time, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from consent.models import AuditEntry, ConsentEvent
from conversations.models import Escalation
from gateway.auth import ApiKey, parse_api_keys
from gateway.settings import Settings
from tests.conversations.conftest import Rig
from tests.e2e.privacy.conftest import auth

ROUTES = {
    "consent:read": ("GET", "/v1/passengers/{pid}/consent"),
    "consent:write": ("PUT", "/v1/passengers/{pid}/consent/sms/service"),
    "dsr:export": ("GET", "/v1/passengers/{pid}/export"),
    "dsr:erase": ("DELETE", "/v1/passengers/{pid}"),
    "ops": ("GET", "/v1/escalations"),
}
HOLDERS = {"read": {"consent:read"}, "write": {"consent:read", "consent:write"}, "export": {"dsr:export"}, "erase": {"dsr:erase"}, "ops": {"ops"}}


async def test_each_route_needs_its_scope(rig: Rig, api: httpx.AsyncClient) -> None:
    a = await rig.add_pax(("sms",))
    body = {"state": "granted"}
    for scope, (method, url) in ROUTES.items():
        path = url.format(pid=a.passenger_id)
        missing = await api.request(method, path, json=body if method == "PUT" else None)
        assert missing.status_code == 401, path
        for holder, scopes in HOLDERS.items():
            if scope in scopes:
                continue
            refused = await api.request(method, path, json=body if method == "PUT" else None, headers=auth(holder))
            assert refused.status_code == 403, (holder, path)
    for scope, (method, url) in ROUTES.items():
        if scope == "dsr:erase":
            continue
        holder = next(h for h, scopes in HOLDERS.items() if scope in scopes)
        ok = await api.request(method, url.format(pid=a.passenger_id), json=body if method == "PUT" else None, headers=auth(holder))
        assert ok.status_code == 200, (holder, ok.text)
    erased = await api.delete(f"/v1/passengers/{a.passenger_id}", headers=auth("erase"))
    assert erased.status_code == 200
    assert (await api.get("/v1/escalations", headers=auth("all"))).status_code == 200


def test_scoped_keys_parse_and_a_bare_key_keeps_every_scope() -> None:
    keys = parse_api_keys(" plain , reader:consent:read+dsr:export ")
    assert keys[0] == ApiKey("plain", frozenset({"ops", "consent:read", "consent:write", "dsr:export", "dsr:erase", "feeds", "agents", "app", "webhooks"}))
    assert keys[1] == ApiKey("reader", frozenset({"consent:read", "dsr:export"}))
    assert keys[0].key_id != keys[1].key_id and "plain" not in keys[0].key_id
    s = Settings(_env_file=None, sandbox=True, ops_api_keys="a,b:ops")  # type: ignore[call-arg, arg-type]
    assert s.api_keys == ["a", "b"]


@pytest.mark.parametrize("raw", ["k:admin", "k:", ":ops", "k:ops+nope"])
def test_unknown_or_empty_scopes_are_refused_at_load(raw: str) -> None:
    with pytest.raises(ValueError, match="OPS_API_KEYS"):
        Settings(_env_file=None, sandbox=True, ops_api_keys=raw)  # type: ignore[call-arg, arg-type]


async def test_put_records_provenance_history_and_audit_and_get_shows_them(rig: Rig, api: httpx.AsyncClient) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    url = f"/v1/passengers/{a.passenger_id}/consent/sms/service"

    r = await api.put(url, json={"state": "withdrawn", "reason": "passenger called the desk"}, headers=auth("write"))
    assert r.status_code == 200, r.text
    assert r.json()["changed"] is True
    again = await api.put(url, json={"state": "withdrawn"}, headers=auth("write"))
    assert again.json()["changed"] is False

    got = (await api.get(f"/v1/passengers/{a.passenger_id}/consent", headers=auth("read"))).json()
    current = {(c["channel"], c["purpose"]): c["state"] for c in got["current"]}
    assert current == {("sms", "service"): "withdrawn", ("whatsapp", "service"): "granted"}
    assert [(h["channel"], h["state"], h["source"]) for h in got["history"]] == [
        ("whatsapp", "granted", "booking_import"),
        ("sms", "granted", "booking_import"),
        ("sms", "withdrawn", "ops_api"),
    ]
    write_key = next(k for k in rig.c.settings.scoped_api_keys if k.secret == "k-write")
    assert got["history"][-1]["evidence"] == write_key.key_id
    async with rig.c.db.reading() as s:
        entries = (await s.scalars(select(AuditEntry).where(AuditEntry.action == "consent.withdrawn"))).all()
        events = (await s.scalars(select(ConsentEvent))).all()
    assert len(events) == 3
    [entry] = entries
    assert (entry.actor, entry.passenger_id, entry.reason) == (f"ops_api:{write_key.key_id}", a.passenger_id, "passenger called the desk")
    assert entry.details["channel"] == "sms"


async def test_consent_endpoints_refuse_unknown_passengers_channels_and_states(rig: Rig, api: httpx.AsyncClient) -> None:
    a = await rig.add_pax(("sms",))
    assert (await api.get("/v1/passengers/999999/consent", headers=auth("all"))).status_code == 404
    assert (await api.put("/v1/passengers/999999/consent/sms/service", json={"state": "granted"}, headers=auth("all"))).status_code == 404
    bad = [("fax", "service", "granted"), ("sms", "spam", "granted"), ("sms", "service", "maybe")]
    for channel, purpose, state in bad:
        r = await api.put(f"/v1/passengers/{a.passenger_id}/consent/{channel}/{purpose}", json={"state": state}, headers=auth("all"))
        assert r.status_code == 422, (channel, purpose, state)


async def test_consent_withdrawn_over_the_api_after_planning_is_honoured_at_send_time(rig: Rig, api: httpx.AsyncClient) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    ids = await rig.disrupt()
    assert await rig.c.service.offer_batch(ids) == 1  # the offer is planned in the outbox, not sent yet
    assert [m.key for m in await rig.outbox(a)] == ["offer"]

    r = await api.put(f"/v1/passengers/{a.passenger_id}/consent/whatsapp/service", json={"state": "withdrawn"}, headers=auth("write"))
    assert r.status_code == 200
    await rig.c.dispatcher.drain()

    assert rig.inbox("whatsapp", a) == []
    assert len(rig.inbox("sms", a)) == 1
    assert [(d.channel, d.status) for d in await rig.deliveries(a)] == [("sms", "sent")]


async def test_no_consented_channel_left_means_unreachable_and_escalated_never_messaged(rig: Rig, api: httpx.AsyncClient) -> None:
    a = await rig.add_pax(("whatsapp", "sms"))
    ids = await rig.disrupt()
    await rig.c.service.offer_batch(ids)
    for channel in ("whatsapp", "sms"):
        await api.put(f"/v1/passengers/{a.passenger_id}/consent/{channel}/service", json={"state": "withdrawn"}, headers=auth("write"))
    await rig.c.dispatcher.drain()

    assert rig.sandbox.messages == []
    async with rig.c.db.reading() as s:
        reasons = (await s.scalars(select(Escalation.reason))).all()
        audited = (await s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq))).all()
    assert list(reasons) == ["unreachable"]
    assert "escalation.opened" in audited
