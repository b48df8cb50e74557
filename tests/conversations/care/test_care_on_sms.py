"""Care vouchers through the real Twilio SDK against the local fake: the passenger's language, once per batch, consent checked at send."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.sandbox import Sandbox
from conversations.care_sweep import sweep_care
from conversations.engine import MessageKind
from conversations.models import Conversation, OutboxMessage
from gateway.container import build
from gateway.settings import Settings, TwilioSettings
from infra import crypto
from rebooking_core.care.hotels import TableHotels
from rebooking_core.care.models import CareVoucher
from rebooking_core.care.policy import CarePolicy
from tests.conversations.care.conftest import morning_clock
from tests.conversations.care.test_care_sweep import _delay
from tests.conversations.conftest import Rig, _network
from tests.fakes.server import LocalServer
from tests.fakes.twilio_api import FakeTwilio

H = dt.timedelta(hours=1)
SENDER = "+15550001111"


@pytest.fixture
def twilio() -> Iterator[tuple[FakeTwilio, str]]:
    fake = FakeTwilio()
    with LocalServer(fake.app) as srv:
        yield fake, srv.url
        fake.release()


@pytest.fixture
async def rig(engine: AsyncEngine, twilio: tuple[FakeTwilio, str]) -> AsyncIterator[Rig]:
    """The gateway as `build()` wires it for production, SMS through Twilio's SDK to the fake."""
    previous = crypto.keyring()
    clock = morning_clock()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=engine.url.render_as_string(hide_password=False),
        pii_keys=SecretStr("k1:test-pii-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        blind_index_key=SecretStr("test-blind-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        ops_api_keys=SecretStr("ops-key-0123456789-abcdefghijklmnopqrstuvwxyz"),
        public_base_url="https://rebook.example.test",
        twilio=TwilioSettings(
            account_sid=twilio[0].account_sid,
            auth_token=SecretStr(twilio[0].auth_token),
            from_number=SENDER,
            api_base=twilio[1],
        ),
    )
    c = build(settings, clock=clock)
    try:
        disrupted, alternatives = await _network(c, clock)
        yield Rig(c, Sandbox(), clock, disrupted, alternatives)
    finally:
        await c.aclose()
        crypto.configure(previous)


async def _sweep(rig: Rig) -> int:
    now = rig.clock()
    async with rig.c.db.transaction() as s:
        swept, _ = await sweep_care(
            s, now=now, policy=CarePolicy(lead=7 * H), hotels=lambda s: TableHotels(s, (), now=now)
        )
    return swept.vouchers


async def test_the_voucher_goes_once_on_sms_in_the_passengers_language_and_not_without_consent(
    rig: Rig, twilio: tuple[FakeTwilio, str]
) -> None:
    fake, _ = twilio
    german = await rig.add_pax(("sms",), pax=2)
    withdrawn = await rig.add_pax(("sms",))
    await _delay(rig, rig.disrupted.dep_utc + 3 * H)
    async with rig.c.db.transaction() as s:
        await s.execute(
            update(Conversation)
            .where(Conversation.booking_id == german.booking_id)
            .values(locale="de")
        )
    await rig.withdraw(withdrawn, "sms")
    await rig.c.dispatcher.drain()
    before = len(fake.requests)

    assert await _sweep(rig) == 3
    assert await _sweep(rig) == 0
    await rig.c.dispatcher.drain()

    async with rig.c.db.reading() as s:
        vouchers = list(await s.scalars(select(CareVoucher).order_by(CareVoucher.id)))
        rows = {
            r.conversation_id: r
            for r in await s.scalars(
                select(OutboxMessage).where(OutboxMessage.key == MessageKind.CARE_VOUCHER.value)
            )
        }
    mine = [v.code for v in vouchers if v.booking_id == german.booking_id]
    sent = [
        r.form
        for r in fake.requests[before:]
        if any(code in r.form.get("Body", "") for code in mine)
    ]
    assert len(sent) == 1, "one SMS for the booking's two vouchers"
    body = sent[0]["Body"]
    assert sent[0]["To"] == german.phone
    assert all(code in body for code in mine)
    assert "Essen und Getränke bis 15" in body and "Gutscheine" in body
    # the passenger who withdrew consent holds a voucher (the page shows it) but no SMS carries it
    [theirs] = [v.code for v in vouchers if v.booking_id == withdrawn.booking_id]
    assert not any(theirs in r.form.get("Body", "") for r in fake.requests)
    assert len(rows) == 2
    refused = rows[(await rig.conversation(withdrawn)).id]
    assert (refused.status, refused.last_error) == ("failed", "no_consented_channel")
