"""Refund instead over real provider webhooks: a WhatsApp list row (Graph API fake) and an SMS number (Twilio fake)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from rebooking_core.models import RefundRequestRow
from tests.e2e.test_http_flow import (  # noqa: F401  (the fixtures this journey reuses)
    DAY,
    WA_PHONE,
    World,
    _template_payload,
    fakes,
    world,
)


@pytest.fixture(autouse=True)
def _choices_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before `world` builds the container: the passenger's own choices are shown."""
    monkeypatch.setenv("REBOOK_CHOICES__ENABLED", "true")


async def _refunds(world: World) -> int:  # noqa: F811
    async with world.c.db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(RefundRequestRow)) or 0)


async def test_refund_by_whatsapp_list_row_and_by_sms_number_gives_every_seat_back_once(
    world: World,  # noqa: F811
) -> None:
    r = await world.http.post(
        "/v1/disruptions",
        json={
            "flight": {"carrier": "RB", "number": "100", "date": DAY.isoformat()},
            "kind": "cancelled",
            "reason": "TECH",
            "idempotency_key": "e2e-refund",
        },
    )
    assert r.status_code == 202, r.text
    await world.work()
    assert await world.inventory("100") == {"sold": 3, "held": 0}
    assert await world.inventory("102") == {"sold": 0, "held": 3}

    # WhatsApp: the template's button, then the options as a list whose rows end with the choices.
    more = _template_payload(next(b for b in world.graph.bodies if b["to"] == WA_PHONE[1:]))
    now = str(int(time.time()))
    await world.whatsapp(
        {
            "from": WA_PHONE[1:],
            "id": "wamid.more",
            "timestamp": now,
            "type": "button",
            "button": {"payload": more, "text": "x"},
        }
    )
    await world.work()
    [listed] = [
        b for b in world.graph.bodies if b["to"] == WA_PHONE[1:] and b["type"] == "interactive"
    ]
    rows = [
        row for section in listed["interactive"]["action"]["sections"] for row in section["rows"]
    ]
    refund = next(row for row in rows if row["id"].startswith("refund:"))
    assert refund["title"] == "Lieber Erstattung"  # the German passenger's language
    tap = {
        "from": WA_PHONE[1:],
        "id": "wamid.refund",
        "timestamp": now,
        "type": "interactive",
        "interactive": {
            "type": "list_reply",
            "list_reply": {"id": refund["id"], "title": refund["title"]},
        },
    }
    assert (await world.whatsapp(tap)).status_code == 200
    await world.work()
    told = [b for b in world.graph.bodies if b["to"] == WA_PHONE[1:]][-1]
    assert "Erstattungswunsch" in told["text"]["body"] and "kein Geld" in told["text"]["body"]
    assert await world.inventory("100") == {"sold": 2, "held": 0}, (
        "her seat on the cancelled flight is given back"
    )
    assert await world.inventory("102") == {"sold": 0, "held": 2}, (
        "her holds are released; the SMS booking's stay"
    )

    # SMS: the choices are numbered after the two flights, so "3" is the refund, for both passengers (in
    # Spanish, UCS-2, the segment budget shows only the first entries; the number and the word still work).
    assert (await world.sms("SM" + "3" * 32, "3")).status_code == 200
    await world.work()
    assert "reembolso del vuelo RB100" in world.twilio.requests[-1].form["Body"]
    assert await world.inventory("100") == {"sold": 0, "held": 0}
    assert await world.inventory("102") == {"sold": 0, "held": 0}
    assert await world.inventory("104") == {"sold": 0, "held": 0}

    # The same answers again (new provider ids): acknowledged, nothing recorded or moved twice.
    await world.whatsapp({**tap, "id": "wamid.refund-again"})
    assert (await world.sms("SM" + "4" * 32, "reembolso")).status_code == 200
    await world.work()
    assert "ya está registrada" in world.twilio.requests[-1].form["Body"]
    assert await _refunds(world) == 2
    assert await world.inventory("100") == {"sold": 0, "held": 0}
