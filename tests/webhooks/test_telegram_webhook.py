"""POST /webhooks/telegram on its own: the secret first, malformed updates 400, kinds we do not act on 200 and dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

import httpx
import pytest
from fastapi import FastAPI

from channels.telegram import TelegramChannel
from conversations.optin.ports import ChatLinked, LinkOutcome
from conversations.ports import DeliveryReceipt, IdentityChanged, InboundText
from tests.fakes.server import LocalServer
from tests.fakes.telegram_api import BOT_USERNAME, TOKEN, FakeBotApi
from webhooks.telegram import PATH, SECRET_HEADER, router

SECRET = "only-telegram-knows_this-0123"
CHAT = 31337


class Recorded:
    def __init__(self) -> None:
        self.events: list[object] = []

    async def accept(self, events: Sequence[InboundText | DeliveryReceipt | IdentityChanged]) -> None:
        self.events.extend(events)

    async def link(self, event: ChatLinked) -> LinkOutcome:
        self.events.append(event)
        return LinkOutcome.LINKED


@pytest.fixture
def api() -> Iterator[tuple[FakeBotApi, str]]:
    fake = FakeBotApi()
    with LocalServer(fake.app()) as server:
        yield fake, server.url


@pytest.fixture
async def hook(api: tuple[FakeBotApi, str]) -> AsyncIterator[tuple[httpx.AsyncClient, Recorded]]:
    bot = TelegramChannel(bot_token=TOKEN, bot_username=BOT_USERNAME, api_base=api[1])
    seen = Recorded()
    app = FastAPI()
    app.include_router(router(sink=seen, links=seen, bot=bot, webhook_secret=SECRET))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="https://rebook.example.test") as client:
        yield client, seen
    await bot.aclose()


def test_no_secret_no_route() -> None:
    with pytest.raises(ValueError, match="fail closed"):
        router(sink=Recorded(), links=Recorded(), bot=TelegramChannel(bot_token=TOKEN), webhook_secret="")


@pytest.mark.parametrize("secret", [None, "", "x", SECRET.upper(), SECRET + " ", "ünïcode"])
async def test_anything_but_the_secret_is_403_before_the_body_is_read(
    hook: tuple[httpx.AsyncClient, Recorded], secret: str | None
) -> None:
    client, seen = hook
    headers = {SECRET_HEADER: secret.encode("utf-8")} if secret is not None else {}
    answer = await client.post(PATH, content=b"not even json", headers=headers)
    assert answer.status_code == 403 and seen.events == []


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'{"update_id": NaN}', b'{"update_id": "1"}', b'{"update_id": 1, "message": []}',
     b'{"update_id": 1, "callback_query": {"id": "1", "data": "x"}}'],
)
async def test_malformed_updates_are_400_and_reach_nothing(hook: tuple[httpx.AsyncClient, Recorded], body: bytes) -> None:
    client, seen = hook
    answer = await client.post(PATH, content=body, headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"})
    assert answer.status_code == 400 and seen.events == []


async def test_kinds_we_do_not_act_on_are_acknowledged_and_dropped(
    hook: tuple[httpx.AsyncClient, Recorded], api: tuple[FakeBotApi, str]
) -> None:
    client, seen = hook
    fake = api[0]
    for update in (
        {"update_id": 9, "edited_message": {"message_id": 1}},
        {"update_id": 10, "my_chat_member": {}},
        fake.text_update(-1001, "1", chat_type="supergroup"),
        {**fake.text_update(CHAT, "x"), "message": {**fake.text_update(CHAT, "x")["message"], "text": None, "sticker": {}}},
    ):
        answer = await client.post(PATH, json=update, headers={SECRET_HEADER: SECRET})
        assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert seen.events == []
    reply = fake.text_update(CHAT, "/help@" + BOT_USERNAME)
    assert (await client.post(PATH, json=reply, headers={SECRET_HEADER: SECRET})).status_code == 200
    [event] = seen.events
    assert isinstance(event, InboundText) and event.text == "HELP" and event.event_id == str(reply["update_id"])
