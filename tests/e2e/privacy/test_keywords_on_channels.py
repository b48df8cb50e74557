"""Every opt-out, opt-in and help word of every shipped language, on SMS and on WhatsApp, end to end."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from consent.keywords import WORDS, Keyword
from conversations.engine import Status
from conversations.models import OutboxMessage
from rebooking_core.models import Passenger
from tests.conversations.conftest import Pax, Rig

AIRLINE = "Rebook Air"


def words(keyword: Keyword) -> list[tuple[str, str]]:
    return [(lang, word) for lang, ws in WORDS[keyword].items() for word in ws]


async def _speaking(rig: Rig, channel: str, lang: str) -> Pax:
    who = await rig.add_pax((channel,))
    async with rig.c.db.transaction() as s:
        await s.execute(update(Passenger).where(Passenger.id == who.passenger_id).values(language=lang))
    return who


async def _keys(rig: Rig, who: Pax) -> list[str]:
    return [m.key for m in await rig.outbox(who)]


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
async def test_every_keyword_in_every_language_is_honoured_on_the_channel(rig: Rig, channel: str) -> None:
    stops = {(lang, w): await _speaking(rig, channel, lang) for lang, w in words(Keyword.STOP)}
    starts = {(lang, w): await _speaking(rig, channel, lang) for lang, w in words(Keyword.START)}
    helps = {(lang, w): await _speaking(rig, channel, lang) for lang, w in words(Keyword.HELP)}
    sentence = await _speaking(rig, channel, "en")
    eager = await _speaking(rig, channel, "en")
    await rig.offered(*stops.values(), *starts.values(), *helps.values(), sentence, eager)

    for (_, word), who in stops.items():
        await rig.reply(channel, who, f"  {word.lower()}  ")
    for (lang, _), who in starts.items():
        await rig.reply(channel, who, WORDS[Keyword.STOP][lang][0])
    await rig.c.dispatcher.drain()
    for (_, word), who in starts.items():
        await rig.reply(channel, who, word.capitalize())
    for (_, word), who in helps.items():
        await rig.reply(channel, who, word)
    await rig.reply(channel, sentence, "stop please")
    await rig.reply(channel, eager, "YES")
    await rig.c.dispatcher.drain()

    for (lang, word), who in stops.items():
        assert await rig.consent(who, channel) == "withdrawn", (lang, word)
        assert (await rig.conversation(who)).status == Status.OPTED_OUT, (lang, word)
        assert (await _keys(rig, who))[-1] == "stop_ack", (lang, word)
        assert AIRLINE in rig.last(channel, who).text, (lang, word)
    for (lang, word), who in starts.items():
        assert await rig.consent(who, channel) == "granted", (lang, word)
        assert "start_ack" in await _keys(rig, who), (lang, word)
        assert (await rig.conversation(who)).status == Status.OFFERED, (lang, word)
    for (lang, word), who in helps.items():
        assert "help" in await _keys(rig, who), (lang, word)
        answer = next(m.text for m in rig.inbox(channel, who) if rig.c.settings.help_contact in m.text)
        assert AIRLINE in answer, (lang, word)
        assert await rig.consent(who, channel) == "granted"

    # A keyword inside a sentence is not the keyword: consent stays, and the reply says how to stop.
    assert await rig.consent(sentence, channel) == "granted"
    assert (await rig.conversation(sentence)).status == Status.OFFERED
    assert (await _keys(rig, sentence))[-1] == "stop_hint"
    # START re-subscribes only after a STOP: from someone who never stopped it changes nothing.
    assert await rig.consent(eager, channel) == "granted"
    assert "start_ack" not in await _keys(rig, eager)
    async with rig.c.db.reading() as s:
        unsent = (await s.scalars(select(OutboxMessage.id).where(OutboxMessage.status != "sent"))).all()
    assert list(unsent) == []


async def test_localized_confirmations_differ_by_the_passenger_language(rig: Rig) -> None:
    people = {lang: await _speaking(rig, "sms", lang) for lang in WORDS[Keyword.STOP]}
    await rig.offered(*people.values())
    for lang, who in people.items():
        await rig.reply("sms", who, WORDS[Keyword.STOP][lang][0])
    await rig.c.dispatcher.drain()
    texts = {lang: rig.last("sms", who).text for lang, who in people.items()}
    assert len(set(texts.values())) == len(texts)
    assert all(AIRLINE in t for t in texts.values())
