"""The passenger page: GET changes nothing, every action is a CSRF-checked POST, one choice books once."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from consent.models import AuditEntry, ConsentEvent, ConsentState
from conversations.engine import Status
from conversations.models import Conversation, OutboxMessage
from conversations.page import links
from conversations.page.models import PageLink
from infra.orm import Base
from rebooking_core.models import ContactPoint, Inventory, Offer, OfferOption, SeatHold
from tests.gateway.conftest import Gateway, World, running

_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


@dataclass
class Page:
    g: Gateway
    token: str
    conv: Conversation

    @property
    def url(self) -> str:
        return f"/p/{self.token}"

    async def csrf(self) -> str:
        r = await self.g.client.get(self.url)
        found = _CSRF.search(r.text)
        assert found is not None, r.text
        return found.group(1)

    async def post(self, action: str, **form: str | list[str]) -> tuple[int, str]:
        r = await self.g.client.post(f"{self.url}/{action}", data=form)
        return r.status_code, r.headers.get("location", "")


async def _open_conversations(g: Gateway) -> list[Conversation]:
    async with g.container.db.reading() as s:
        found = await s.scalars(
            select(Conversation)
            .where(Conversation.status == Status.OFFERED.value, Conversation.passenger_id.is_not(None))
            .order_by(Conversation.id)
        )
        return list(found)


async def _mint(g: Gateway, conv: Conversation, *, now: dt.datetime | None = None, ttl: dt.timedelta = links.DEFAULT_TTL) -> str:
    async with g.container.db.transaction() as s:
        return links.mint(
            s, booking_id=conv.booking_id, disruption_id=conv.disruption_id, now=now or g.container.clock(), ttl=ttl
        )


@pytest.fixture
async def offered(db_url: str, world: World) -> AsyncIterator[Gateway]:
    async with running(db_url, world) as g:
        assert (await g.disrupt(world.target)).status_code == 202
        await g.settle()
        yield g


@pytest.fixture
async def page(offered: Gateway) -> Page:
    conv = (await _open_conversations(offered))[0]
    return Page(offered, await _mint(offered, conv), conv)


async def _counts(g: Gateway) -> dict[str, object]:
    """What any action would change: messages, conversation versions, consent, seats."""
    async with g.container.db.reading() as s:
        return {
            "outbox": await s.scalar(select(func.count()).select_from(OutboxMessage)),
            "versions": list(await s.scalars(select(Conversation.version).order_by(Conversation.id))),
            "consent": await s.scalar(select(func.count()).select_from(ConsentEvent)),
            "sold": await s.scalar(select(func.sum(Inventory.sold))),
            "links": await s.scalar(select(func.count()).select_from(PageLink)),
        }


async def _options(g: Gateway, conv: Conversation) -> list[OfferOption]:
    async with g.container.db.reading() as s:
        fresh = await s.get(Conversation, conv.id)
        assert fresh is not None and fresh.offer_id is not None
        return list(await s.scalars(select(OfferOption).where(OfferOption.offer_id == fresh.offer_id).order_by(OfferOption.rank)))


async def test_the_page_shows_every_held_option_and_a_get_changes_nothing(page: Page) -> None:
    before = await _counts(page.g)
    options = await _options(page.g, page.conv)

    r = await page.g.client.get(page.url)
    confirm = await page.g.client.get(f"{page.url}/confirm/{options[0].id}")

    assert r.status_code == 200 and confirm.status_code == 200
    assert await _counts(page.g) == before
    for option in options:
        assert f'name="option_id" value="{option.id}"' in r.text
    assert f'name="option_id" value="{options[0].id}"' in confirm.text
    assert '<html lang="en" dir="ltr">' in r.text
    for answer in (r, confirm):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in answer.headers["content-security-policy"]
        assert "<script" not in answer.text


async def test_a_post_without_or_with_a_wrong_csrf_token_is_403_and_changes_nothing(page: Page) -> None:
    option = (await _options(page.g, page.conv))[0]
    before = await _counts(page.g)

    missing = await page.post("choose", option_id=str(option.id))
    wrong = await page.post("choose", option_id=str(option.id), csrf="0" * 64)
    other = await page.post("agent", csrf=links.csrf_token(links.token_hash(links.new_token())))

    assert [missing[0], wrong[0], other[0]] == [403, 403, 403]
    assert await _counts(page.g) == before


async def test_an_expired_link_and_an_unknown_token_get_the_same_friendly_page(offered: Gateway) -> None:
    conv = (await _open_conversations(offered))[0]
    now = offered.container.clock()
    expired = await _mint(offered, conv, now=now - dt.timedelta(days=15), ttl=dt.timedelta(days=14))
    unknown = links.new_token()

    answers = [await offered.client.get(f"/p/{t}") for t in (expired, unknown)]

    assert [a.status_code for a in answers] == [404, 404]
    normalized = [
        _CSRF.sub("", a.text).replace(t, "TOKEN") for a, t in zip(answers, (expired, unknown), strict=True)
    ]
    assert normalized[0] == normalized[1]
    assert "This link has expired" in answers[0].text and "Send me a new link" in answers[0].text
    assert answers[0].headers["cache-control"] == "no-store"
    assert (await offered.client.get("/p/not-a-token")).status_code == 404


async def test_another_bookings_option_is_404_and_books_nothing(offered: Gateway) -> None:
    mine, theirs = (await _open_conversations(offered))[:2]
    page = Page(offered, await _mint(offered, mine), mine)
    their_option = (await _options(offered, theirs))[0]
    csrf = await page.csrf()
    before = await _counts(offered)

    status, _ = await page.post("choose", option_id=str(their_option.id), csrf=csrf)
    confirm = await offered.client.get(f"{page.url}/confirm/{their_option.id}")

    assert status == 404 and confirm.status_code == 404
    assert await _counts(offered) == before


async def test_a_choice_books_once_and_a_second_post_is_acknowledged_only(page: Page) -> None:
    option = (await _options(page.g, page.conv))[-1]
    csrf = await page.csrf()

    first = await page.post("choose", option_id=str(option.id), csrf=csrf)
    sold_after_first = (await _counts(page.g))["sold"]
    second = await page.post("choose", option_id=str(option.id), csrf=csrf)

    assert first == (303, f"{page.url}?notice=booked")
    assert second == (303, f"{page.url}?notice=already_booked")
    assert (await _counts(page.g))["sold"] == sold_after_first
    async with page.g.container.db.reading() as s:
        conv = await s.get(Conversation, page.conv.id)
        assert conv is not None and conv.status == Status.BOOKED.value and conv.booked_option_id == option.id
        offer = await s.get(Offer, option.offer_id)
        assert offer is not None and offer.accepted_option_id == option.id
        kinds = list(await s.scalars(select(OutboxMessage.key).where(OutboxMessage.conversation_id == conv.id)))
    assert kinds.count("booked") == 1 and kinds.count("already_booked") == 1
    shown = await page.g.client.get(f"{page.url}?notice=booked")
    assert "Your new itinerary" in shown.text and "you are rebooked" in shown.text
    assert 'name="option_id"' not in shown.text


async def test_two_posts_at_once_book_one_seat(page: Page) -> None:
    option = (await _options(page.g, page.conv))[0]
    csrf = await page.csrf()

    answers = await asyncio.gather(*(page.post("choose", option_id=str(option.id), csrf=csrf) for _ in range(2)))

    assert sorted(location.rsplit("=", 1)[1] for _, location in answers) == ["already_booked", "booked"]
    async with page.g.container.db.reading() as s:
        committed = await s.scalar(
            select(func.count()).select_from(SeatHold).where(SeatHold.option_id == option.id, SeatHold.status == "committed")
        )
        kinds = list(await s.scalars(select(OutboxMessage.key).where(OutboxMessage.conversation_id == page.conv.id)))
    assert committed == len(option.flight_ids)
    assert kinds.count("booked") == 1


async def test_a_choice_on_the_page_after_one_on_another_channel_is_acknowledged(page: Page) -> None:
    options = await _options(page.g, page.conv)
    # The passenger answers "1" on their channel first (the sandbox's recorded offer to them).
    theirs = next(m for m in page.g.sandbox.messages if f"more:{options[0].offer_id}" in m.tokens)
    await page.g.say(theirs, "1")

    status, location = await page.post("choose", option_id=str(options[-1].id), csrf=await page.csrf())

    assert (status, location) == (303, f"{page.url}?notice=already_booked")
    async with page.g.container.db.reading() as s:
        after = await s.get(Conversation, page.conv.id)
    assert after is not None and after.booked_option_id == options[0].id


async def test_preferences_go_to_the_consent_ledger_with_the_web_page_as_source(page: Page) -> None:
    async with page.g.container.db.reading() as s:
        channels = list(
            await s.scalars(select(ContactPoint.channel).where(ContactPoint.passenger_id == page.conv.passenger_id))
        )
    assert channels
    kept = channels[-1]

    status, location = await page.post("preferences", csrf=await page.csrf(), allow=[kept], preferred=kept)

    assert (status, location) == (303, f"{page.url}?notice=saved")
    async with page.g.container.db.reading() as s:
        states = {c.channel: c.state for c in await s.scalars(select(ConsentState).where(ConsentState.passenger_id == page.conv.passenger_id, ConsentState.purpose == "service"))}
        events = list(await s.scalars(select(ConsentEvent).where(ConsentEvent.source == "web page")))
        first = (
            await s.scalars(
                select(ContactPoint.channel).where(ContactPoint.passenger_id == page.conv.passenger_id).order_by(ContactPoint.preference)
            )
        ).first()
    assert states[kept] == "granted"
    assert all(state == "withdrawn" for ch, state in states.items() if ch != kept)
    assert all(e.evidence and e.evidence.startswith("ip:") for e in events)
    assert first == kept


async def test_language_and_a_person_and_a_refund_are_posts_that_redirect_back(page: Page) -> None:
    csrf = await page.csrf()

    assert await page.post("language", csrf=csrf, locale="ar") == (303, f"{page.url}?notice=language")
    shown = await page.g.client.get(page.url)
    assert '<html lang="ar" dir="rtl">' in shown.text
    assert await page.post("refund", csrf=csrf) == (303, f"{page.url}?notice=refund")
    async with page.g.container.db.reading() as s:
        conv = await s.get(Conversation, page.conv.id)
        audited = list(await s.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"conversation:{page.conv.id}")))
    assert conv is not None and conv.status == Status.ESCALATED.value and conv.locale == "ar"
    assert "refund.requested" in audited and "escalation.opened" in audited


async def test_erasure_revokes_the_link(page: Page) -> None:
    assert (await page.g.client.get(page.url)).status_code == 200

    erased = await page.g.client.delete(f"/v1/passengers/{page.conv.passenger_id}")

    assert erased.status_code == 200
    tables = {t["table"]: t for t in erased.json()["tables"]}
    assert tables["page_links"]["action"] == "deleted" and tables["page_links"]["rows"] >= 1
    assert (await page.g.client.get(page.url)).status_code == 404
    async with page.g.container.db.reading() as s:
        assert await links.find(s, page.token) is None


def test_page_links_have_a_privacy_policy() -> None:
    from consent import privacy

    assert "page_links" in privacy.personal_tables(Base.metadata)


async def test_a_token_is_at_least_128_bits_of_base62_and_only_its_hash_is_stored(page: Page) -> None:
    assert re.fullmatch(r"[0-9A-Za-z]{22}", page.token)
    async with page.g.container.db.reading() as s:
        stored = list(await s.scalars(select(PageLink.token_hash)))
    assert page.token not in " ".join(stored)
    assert links.token_hash(page.token) in stored


async def test_one_address_hammering_links_gets_429(db_url: str, world: World) -> None:
    async with running(db_url, world, page={"requests_per_minute": 3}) as g:
        answers = [await g.client.get(f"/p/{links.new_token()}") for _ in range(5)]

    assert [a.status_code for a in answers] == [404, 404, 404, 429, 429]
    assert answers[-1].headers["retry-after"] == "60" and answers[-1].headers["cache-control"] == "no-store"


async def test_asking_for_a_person_after_opting_out_says_not_now(page: Page) -> None:
    options = await _options(page.g, page.conv)
    theirs = next(m for m in page.g.sandbox.messages if f"more:{options[0].offer_id}" in m.tokens)
    await page.g.say(theirs, "STOP")

    assert await page.post("agent", csrf=await page.csrf()) == (303, f"{page.url}?notice=not_now")
    async with page.g.container.db.reading() as s:
        conv = await s.get(Conversation, page.conv.id)
    assert conv is not None and conv.status == Status.OPTED_OUT.value
