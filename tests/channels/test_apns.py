"""ApnsChannel over real HTTP/2 and TLS against the APNs fake: headers, payload, provider token, every error reason."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator

import pytest

from channels.apns import ApnsChannel, ProviderToken, classify
from channels.push_payload import MAX_PAYLOAD_BYTES
from conversations.ports import (
    ChoiceView,
    DeviceUnregistered,
    InvalidCredentials,
    MessageRejected,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
    ReasonClass,
    RecipientUnreachable,
)
from tests.fakes.apns_api import KEY_ID, TEAM_ID, TOPIC, FakeApns, LocalApns, p8_key

DEVICE = "a" * 64
HOLD = dt.datetime(2031, 3, 12, 18, 40, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def apple(clock: Clock) -> Iterator[tuple[FakeApns, LocalApns, str]]:
    pem, key = p8_key()
    fake = FakeApns(public_key=key.public_key(), clock=clock)
    with LocalApns(fake) as server:
        yield fake, server, pem


@pytest.fixture
async def apns(apple: tuple[FakeApns, LocalApns, str], clock: Clock) -> AsyncIterator[ApnsChannel]:
    _, server, pem = apple
    channel = ApnsChannel(key_id=KEY_ID, team_id=TEAM_ID, private_key=pem, topic=TOPIC, api_base=server.url, ca_file=str(server.ca_file), clock=clock)
    yield channel
    await channel.aclose()


def offer(**overrides: object) -> OutboundMessage:
    values: dict[str, object] = {
        "idempotency_key": "c7:offer:1",
        "to": DEVICE,
        "locale": "en",
        "body": "Your flight RB203 to Madrid is cancelled. We held seats for you.",
        "choices": tuple(
            ChoiceView(token=f"opt:31:{i}", number=i, title=f"18:{i:02d} RB{300 + i}", description="arrives 21:10") for i in range(1, 7)
        ),
        "page_link": "https://rebook.example.test/p/AbCdEfGhIjKlMnOpQrStUv",
        "thread": "conversation-7",
        "expires_at": HOLD,
        "action_token": "v1.1.7.99.1931000000.nonce.mac",
    }
    values.update(overrides)
    return OutboundMessage(**values)  # type: ignore[arg-type]


async def test_an_offer_goes_as_an_alert_with_its_options_as_actions(apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str]) -> None:
    fake, server, _ = apple
    result = await apns.send(offer())
    sent = fake.last()
    assert (result.provider, result.provider_message_id) == ("apns", sent.headers["apns-id"])
    assert sent.device == DEVICE
    assert sent.headers["apns-topic"] == TOPIC
    assert sent.headers["apns-push-type"] == "alert"
    assert sent.headers["apns-priority"] == "10"
    assert sent.headers["apns-expiration"] == str(int(HOLD.timestamp()))
    assert sent.headers["apns-collapse-id"] == "conversation-7"
    aps, app = sent.payload["aps"], sent.payload["rebook"]
    assert aps["alert"]["body"].startswith("Your flight RB203")
    assert aps["category"] == "rebook.options.4", "four options as actions, the rest behind More"
    assert [o["id"] for o in json.loads(app["options"])] == ["opt:31:1", "opt:31:2", "opt:31:3", "opt:31:4"]
    assert app["more"] == "https://rebook.example.test/p/AbCdEfGhIjKlMnOpQrStUv"
    assert app["action_token"] == "v1.1.7.99.1931000000.nonce.mac"
    assert sent.size <= MAX_PAYLOAD_BYTES
    assert server.connections == 1


async def test_the_same_message_keeps_its_apns_id_and_one_connection_carries_many(apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str]) -> None:
    fake, server, _ = apple
    first = await apns.send(offer())
    again = await apns.send(offer())
    other = await apns.send(offer(idempotency_key="c8:offer:1", thread="conversation-8"))
    assert first.provider_message_id == again.provider_message_id != other.provider_message_id
    assert server.connections == 1, "HTTP/2: every request multiplexed on one connection"
    assert fake.requests[-1].headers["apns-collapse-id"] == "conversation-8"


async def test_a_message_without_options_is_a_plain_alert_at_normal_priority(apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str], clock: Clock) -> None:
    fake, _, _ = apple
    await apns.send(offer(choices=(), expires_at=None, body="You are booked on RB305."))
    sent = fake.last()
    assert sent.payload["aps"]["category"] == "rebook.message"
    assert "options" not in sent.payload["rebook"]
    assert sent.headers["apns-priority"] == "5"
    assert int(sent.headers["apns-expiration"]) == int(clock.now) + 24 * 3600


async def test_a_long_offer_is_cut_to_fit_4096_bytes(apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str]) -> None:
    fake, _, _ = apple
    long_titles = tuple(ChoiceView(token=f"opt:31:{i}:" + "x" * 600, number=i, title="é" * 200, description="") for i in range(1, 5))
    await apns.send(offer(body="Ü" * 2000, choices=long_titles, action_token="t" * 200))
    sent = fake.last()
    assert sent.size <= MAX_PAYLOAD_BYTES
    options = json.loads(sent.payload["rebook"]["options"])
    assert 1 <= len(options) <= 4 and all(len(o["title"]) <= 40 for o in options)
    assert sent.payload["aps"]["category"] == f"rebook.options.{len(options)}"


@pytest.mark.parametrize(
    ("status", "reason", "error", "klass"),
    [
        (410, "Unregistered", DeviceUnregistered, ReasonClass.PERMANENT),
        (410, "ExpiredToken", DeviceUnregistered, ReasonClass.PERMANENT),
        (400, "BadDeviceToken", DeviceUnregistered, ReasonClass.PERMANENT),
        (400, "DeviceTokenNotForTopic", DeviceUnregistered, ReasonClass.PERMANENT),
        (400, "BadCollapseId", MessageRejected, ReasonClass.PERMANENT),
        (400, "BadExpirationDate", MessageRejected, ReasonClass.PERMANENT),
        (413, "PayloadTooLarge", MessageRejected, ReasonClass.PERMANENT),
        (400, "TopicDisallowed", InvalidCredentials, ReasonClass.PERMANENT),
        (403, "InvalidProviderToken", InvalidCredentials, ReasonClass.PERMANENT),
        (403, "BadCertificateEnvironment", InvalidCredentials, ReasonClass.PERMANENT),
        (429, "TooManyRequests", RateLimited, ReasonClass.TEMPORARY),
        (429, "TooManyProviderTokenUpdates", RateLimited, ReasonClass.TEMPORARY),
        (500, "InternalServerError", ProviderUnavailable, ReasonClass.TEMPORARY),
        (503, "ServiceUnavailable", ProviderUnavailable, ReasonClass.TEMPORARY),
        (503, "Shutdown", ProviderUnavailable, ReasonClass.TEMPORARY),
        (400, "IdleTimeout", ProviderUnavailable, ReasonClass.TEMPORARY),
        (502, "", ProviderUnavailable, ReasonClass.TEMPORARY),
    ],
)
async def test_every_apns_reason_is_mapped(
    apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str], status: int, reason: str, error: type[Exception], klass: ReasonClass
) -> None:
    fake, _, _ = apple
    fake.fail_next(status, reason)
    with pytest.raises(error) as info:
        await apns.send(offer())
    assert info.value.reason_class is klass  # type: ignore[attr-defined]
    assert info.value.code == (reason or str(status))  # type: ignore[attr-defined]


async def test_unregistered_and_bad_tokens_are_unreachable_devices(apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str]) -> None:
    fake, _, _ = apple
    fake.unregistered.add("b" * 64)
    with pytest.raises(DeviceUnregistered) as gone:
        await apns.send(offer(to="b" * 64))
    with pytest.raises(DeviceUnregistered) as bad:
        await apns.send(offer(to="12345"))
    assert (gone.value.code, bad.value.code) == ("Unregistered", "BadDeviceToken")
    assert isinstance(gone.value, RecipientUnreachable), "the dispatcher falls back to the next channel"


async def test_too_many_requests_carries_apples_retry_after(apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str]) -> None:
    fake, _, _ = apple
    fake.fail_next(429, "TooManyRequests", {"retry-after": "12"})
    with pytest.raises(RateLimited) as info:
        await apns.send(offer())
    assert info.value.retry_after == 12.0


async def test_an_expired_provider_token_is_renewed_once_and_the_send_retried(apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str]) -> None:
    fake, _, _ = apple
    await apns.send(offer())
    fake.fail_next(403, "ExpiredProviderToken")
    result = await apns.send(offer(idempotency_key="c7:offer:2"))
    assert result.provider == "apns"
    assert apns.token.minted == 2
    assert len(fake.tokens_seen) == 2 and fake.requests[-1].headers["authorization"] == f"bearer {fake.tokens_seen[-1]}"


async def test_a_token_apple_still_calls_expired_after_renewal_is_invalid_credentials(apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str]) -> None:
    fake, _, _ = apple
    fake.fail_next(403, "ExpiredProviderToken")
    fake.fail_next(403, "ExpiredProviderToken")
    with pytest.raises(InvalidCredentials) as info:
        await apns.send(offer())
    assert info.value.code == "ExpiredProviderToken"
    assert apns.token.minted == 2, "renewed once, not in a loop"


async def test_the_provider_token_is_reused_for_50_minutes_then_renewed(apns: ApnsChannel, apple: tuple[FakeApns, LocalApns, str], clock: Clock) -> None:
    fake, _, _ = apple
    await apns.send(offer())
    clock.now += 49 * 60
    await apns.send(offer(idempotency_key="k2"))
    assert len(set(fake.tokens_seen)) == 1, "Apple refuses renewals more often than every 20 minutes"
    clock.now += 2 * 60
    await apns.send(offer(idempotency_key="k3"))
    assert len(fake.tokens_seen) == 2, "and tokens older than an hour"
    assert all(r.answered == 200 for r in fake.requests)


async def test_a_token_older_than_an_hour_is_refused_by_the_fake(apple: tuple[FakeApns, LocalApns, str], clock: Clock) -> None:
    fake, _, pem = apple
    old = ProviderToken(key_id=KEY_ID, team_id=TEAM_ID, private_key=pem, clock=lambda: clock.now - 3700).current()
    assert fake._provider_token(f"bearer {old}") == "ExpiredProviderToken"
    assert fake._provider_token("bearer not.a.jwt") == "InvalidProviderToken"


async def test_a_wrong_key_is_invalid_credentials(apple: tuple[FakeApns, LocalApns, str], clock: Clock) -> None:
    _, server, _ = apple
    other, _ = p8_key()
    channel = ApnsChannel(key_id=KEY_ID, team_id=TEAM_ID, private_key=other, topic=TOPIC, api_base=server.url, ca_file=str(server.ca_file), clock=clock)
    try:
        with pytest.raises(InvalidCredentials) as info:
            await channel.send(offer())
    finally:
        await channel.aclose()
    assert info.value.code == "InvalidProviderToken"


async def test_an_untrusted_certificate_is_refused(apple: tuple[FakeApns, LocalApns, str], clock: Clock) -> None:
    _, server, pem = apple
    channel = ApnsChannel(key_id=KEY_ID, team_id=TEAM_ID, private_key=pem, topic=TOPIC, api_base=server.url, clock=clock)
    try:
        with pytest.raises(ProviderUnavailable) as info:
            await channel.send(offer())
    finally:
        await channel.aclose()
    assert info.value.code == "connect"


def test_unknown_reasons_fall_back_on_the_status() -> None:
    assert isinstance(classify(400, "SomethingNew"), MessageRejected)
    assert isinstance(classify(503, "SomethingNew"), ProviderUnavailable)
    assert isinstance(classify(429, ""), RateLimited)
