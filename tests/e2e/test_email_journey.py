"""The whole journey by e-mail: offer mailed through a local SMTP relay, its link opens the page, a POST
books, the second POST is only acknowledged, the confirmation threads under the offer, one-click unsubscribe."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from channels.email import EmailChannel
from channels.sandbox import Sandbox, SandboxChannel
from channels.sns import Verifier
from consent.models import ConsentEvent, ConsentState
from conversations.address_feedback import AddressFeedback
from conversations.models import Conversation, Delivery, OutboxMessage
from gateway.container import Container, build
from gateway.http.app import create_app
from gateway.migrate import upgrade_async
from rebooking_core.importer import import_bookings, import_schedule
from rebooking_core.models import ContactPoint
from tests.e2e.page_browser import small_world
from tests.fakes.smtp import PASSWORD, USERNAME, LocalSmtp
from tests.fakes.sns import Signer, bounce, complaint
from tests.gateway.conftest import OPS_KEY, World, sandbox_settings
from webhooks import ses as ses_hooks

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:aiosmtpd.*")

PUBLIC = "https://rebook.example.test"
#: E-mail set up (so messages carry page links); the channel itself is the one built here against the local relay.
EMAIL_SETTINGS = {"host": "127.0.0.1", "from": "noreply@rebook.example.test"}
_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
_OPTION = re.compile(r'name="option_id" value="(\d+)"')


@dataclass
class Journey:
    c: Container
    http: httpx.AsyncClient
    smtp: LocalSmtp

    async def work(self) -> None:
        await self.c.jobs.wait_idle()
        await self.c.dispatcher.drain()

    def mails(self) -> list[EmailMessage]:
        return [r.message for r in self.smtp.fake.received]


@pytest.fixture(scope="module")
def world() -> World:
    return small_world()


@pytest.fixture
def smtp() -> Iterator[LocalSmtp]:
    with LocalSmtp() as server:
        yield server


@pytest.fixture
async def journey(tmp_path: Path, world: World, smtp: LocalSmtp) -> AsyncIterator[Journey]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}"
    await upgrade_async(url)
    email = EmailChannel(
        host="127.0.0.1", port=smtp.port, from_address="Rebook Air <noreply@rebook.example.test>",
        username=USERNAME, password=PASSWORD, tls="none",
    )
    c = build(sandbox_settings(url, public_base_url=PUBLIC, email=EMAIL_SETTINGS), channels={"email": email})
    await c.start()
    try:
        async with c.db.transaction() as s:
            await import_schedule(s, world.schedule)
        async with c.db.transaction() as s:
            await import_bookings(s, world.bookings)
        transport = httpx.ASGITransport(app=create_app(c))
        async with httpx.AsyncClient(
            transport=transport, base_url=PUBLIC, headers={"Authorization": f"Bearer {OPS_KEY}"}
        ) as http:
            yield Journey(c, http, smtp)
    finally:
        await c.aclose()


def _text(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


async def test_the_whole_journey_by_email(journey: Journey, world: World) -> None:
    carrier, number, date = world.target
    disrupted = await journey.http.post(
        "/v1/disruptions",
        json={"flight": {"carrier": carrier, "number": number, "date": date.isoformat()}, "kind": "cancelled"},
    )
    assert disrupted.status_code == 202
    await journey.work()

    offers = [m for m in journey.mails() if "/confirm/" in _text(m)]
    assert offers, "no passenger of the flight is reachable by e-mail"
    offer = offers[0]
    assert offer.get_content_type() == "multipart/alternative"
    assert offer["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirm_url = re.search(r"https://\S+/confirm/\d+", _text(offer))
    assert confirm_url is not None
    confirm = urlsplit(confirm_url.group(0)).path
    page_path = confirm.rsplit("/confirm/", 1)[0]
    async with journey.c.db.reading() as s:
        outbox_before = await s.scalar(select(func.count()).select_from(OutboxMessage))

    shown = await journey.http.get(confirm)
    assert shown.status_code == 200 and "Confirm your choice" in shown.text
    async with journey.c.db.reading() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == outbox_before

    csrf = _CSRF.search(shown.text)
    option = _OPTION.search(shown.text)
    assert csrf is not None and option is not None
    form = {"csrf": csrf.group(1), "option_id": option.group(1)}
    first = await journey.http.post(f"{page_path}/choose", data=form)
    second = await journey.http.post(f"{page_path}/choose", data=form)
    assert (first.status_code, first.headers["location"]) == (303, f"{page_path}?notice=booked")
    assert (second.status_code, second.headers["location"]) == (303, f"{page_path}?notice=already_booked")
    itinerary = await journey.http.get(page_path)
    assert "Your new itinerary" in itinerary.text

    sent_before = len(journey.mails())
    await journey.work()
    answers = journey.mails()[sent_before:]
    to_them = [m for m in answers if m["To"] == offer["To"]]
    assert len(to_them) == 2  # the confirmation and the acknowledgement of the second choice
    assert {m["In-Reply-To"] for m in to_them} == {offer["In-Reply-To"]}
    assert any("rebooked" in _text(m) for m in to_them)
    async with journey.c.db.reading() as s:
        booked = await s.scalar(select(func.count()).select_from(Conversation).where(Conversation.status == "booked"))
    assert booked == 1

    unsubscribe = offer["List-Unsubscribe"].strip().split(",")[0].strip("<> ")
    answer = await journey.http.post(
        urlsplit(unsubscribe).path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    async with journey.c.db.reading() as s:
        events = list(await s.scalars(select(ConsentEvent).where(ConsentEvent.source == "unsubscribe")))
        assert [(e.channel, e.state) for e in events] == [("email", "withdrawn")]
        state = await s.get(ConsentState, (events[0].passenger_id, "email", "service"))
    assert state is not None and state.state == "withdrawn"


@pytest.fixture
async def with_sms(tmp_path: Path, world: World, smtp: LocalSmtp) -> AsyncIterator[tuple[Journey, Signer]]:
    """E-mail first for everyone who has it, SMS (sandboxed) behind it, SES feedback through a signed SNS webhook."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'rebook.db'}"
    await upgrade_async(url)
    email = EmailChannel(host="127.0.0.1", port=smtp.port, from_address="noreply@rebook.example.test", tls="none")
    box = Sandbox()
    # E-mail not set up in the settings: no page links needed here, and the app's own SES route (which
    # fetches certificates from AWS) stays out of the way of the one below.
    c = build(
        sandbox_settings(url, public_base_url=PUBLIC),
        channels={"email": email, "sms": SandboxChannel("sms", box)},
        sandbox=box,
    )
    await c.start()
    signer = Signer()
    try:
        async with c.db.transaction() as s:
            await import_schedule(s, world.schedule)
        async with c.db.transaction() as s:
            await import_bookings(s, world.bookings)
        async with c.db.transaction() as s:
            await s.execute(update(ContactPoint).where(ContactPoint.channel == "email").values(preference=-1))
        app = create_app(c)
        verifier = Verifier(cert_hosts=("sns.*.amazonaws.com",), fetch=signer.fetch)
        app.include_router(
            ses_hooks.router(sink=c.inbound, addresses=AddressFeedback(c.db, clock=c.clock), verifier=verifier, clock=lambda: signer.now)
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=PUBLIC, headers={"Authorization": f"Bearer {OPS_KEY}"}
        ) as http:
            yield Journey(c, http, smtp), signer
    finally:
        await c.aclose()


async def test_a_hard_bounce_falls_back_to_sms_and_a_complaint_withdraws_email_consent(
    with_sms: tuple[Journey, Signer], world: World
) -> None:
    journey, signer = with_sms
    carrier, number, date = world.target
    await journey.http.post(
        "/v1/disruptions",
        json={"flight": {"carrier": carrier, "number": number, "date": date.isoformat()}, "kind": "cancelled"},
    )
    await journey.work()
    async with journey.c.db.reading() as s:
        mailed = list(
            await s.execute(
                select(Delivery.outbox_id, Delivery.provider_message_id, Conversation.passenger_id)
                .join(Conversation, Conversation.id == Delivery.conversation_id)
                .where(Delivery.channel == "email")
                .order_by(Delivery.id)
            )
        )
        with_phone = set(await s.scalars(select(ContactPoint.passenger_id).where(ContactPoint.channel == "sms")))
    bounced = next(m for m in mailed if m.passenger_id in with_phone)
    complained = next(m for m in mailed if m.passenger_id != bounced.passenger_id)
    # The fake relay answers like SES ("250 Ok <id>"), numbering the messages it accepts.
    by_ses_id = {f"0100019a-fake-{n + 1:06d}-000000": r.recipients[0] for n, r in enumerate(journey.smtp.fake.received)}

    for message in (
        signer.notification(bounce(bounced.provider_message_id, by_ses_id[bounced.provider_message_id])),
        signer.notification(complaint(complained.provider_message_id, by_ses_id[complained.provider_message_id])),
    ):
        answer = await journey.http.post("/webhooks/ses", content=json.dumps(message))
        assert answer.status_code == 200
    await journey.work()

    async with journey.c.db.reading() as s:
        row = await s.get(OutboxMessage, bounced.outbox_id)
        assert row is not None and row.tried_channels == ["email"] and row.channel == "sms" and row.status == "sent"
        left = await s.scalar(
            select(func.count())
            .select_from(ContactPoint)
            .where(ContactPoint.passenger_id == bounced.passenger_id, ContactPoint.channel == "email")
        )
        assert left == 0
        state = await s.get(ConsentState, (complained.passenger_id, "email", "service"))
        assert state is not None and state.state == "withdrawn"
        [event] = list(await s.scalars(select(ConsentEvent).where(ConsentEvent.source == "complaint")))
        assert event.passenger_id == complained.passenger_id
