"""FcmChannel through firebase-admin's async send path against fakes of the FCM v1 send and OAuth token endpoints."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from unittest import mock

import firebase_admin
import pytest

from channels.fcm import FcmChannel, aim
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
)
from tests.fakes.fcm_api import PROJECT, FakeFcm, rsa_key, service_account
from tests.fakes.server import LocalServer

DEVICE = "fcmTok-" + "Zq9XkL2mPq7RvT4wYb8nHc3sDf6gJ1" * 4
HOLD = dt.datetime(2031, 3, 12, 18, 40, tzinfo=dt.UTC)
NOW = dt.datetime(2031, 3, 12, 18, 0, tzinfo=dt.UTC).timestamp()


@pytest.fixture
def google() -> Iterator[tuple[FakeFcm, str, Path]]:
    key = rsa_key()
    fake = FakeFcm(key)
    with LocalServer(fake.app()) as server, tempfile.TemporaryDirectory() as tmp:
        yield fake, server.url, service_account(Path(tmp), key, f"{server.url}/token")


@pytest.fixture
async def fcm(google: tuple[FakeFcm, str, Path]) -> AsyncIterator[FcmChannel]:
    _, url, sa = google
    channel = FcmChannel(credentials_file=str(sa), project_id=PROJECT, api_base=url, clock=lambda: NOW)
    yield channel
    await channel.aclose()


def offer(**overrides: object) -> OutboundMessage:
    values: dict[str, object] = {
        "idempotency_key": "c7:offer:1",
        "to": DEVICE,
        "locale": "de",
        "body": "Ihr Flug RB203 nach Madrid fällt aus. Wir halten Plätze für Sie.",
        "choices": tuple(ChoiceView(token=f"opt:31:{i}", number=i, title=f"18:{i:02d} RB{300 + i}", description="") for i in range(1, 6)),
        "page_link": "https://rebook.example.test/p/AbCdEfGhIjKlMnOpQrStUv",
        "thread": "conversation-7",
        "expires_at": HOLD,
        "action_token": "v1.1.7.99.1931000000.nonce.mac",
    }
    values.update(overrides)
    return OutboundMessage(**values)  # type: ignore[arg-type]


async def test_an_offer_is_an_android_notification_with_its_options_as_data(fcm: FcmChannel, google: tuple[FakeFcm, str, Path]) -> None:
    fake, _, _ = google
    result = await fcm.send(offer())
    [sent] = fake.sends
    assert (result.provider, result.provider_message_id) == ("fcm", f"projects/{PROJECT}/messages/0:1%fake")
    assert sent.token == DEVICE
    android = sent.message["android"]
    assert android["collapse_key"] == "conversation-7"
    assert android["ttl"] == "2400s", "TTL = the hold's expiry (40 minutes on)"
    assert android["priority"] == "high"
    assert android["notification"]["body"].startswith("Ihr Flug RB203")
    assert android["notification"]["tag"] == "conversation-7"
    data = sent.message["data"]
    assert [o["id"] for o in json.loads(data["options"])] == ["opt:31:1", "opt:31:2", "opt:31:3", "opt:31:4"]
    assert data["category"] == "rebook.options.4"
    assert data["more"].endswith("/p/AbCdEfGhIjKlMnOpQrStUv")
    assert data["action_token"] == "v1.1.7.99.1931000000.nonce.mac"
    assert sent.size <= MAX_PAYLOAD_BYTES + 200
    assert fake.token_requests == 1


async def test_the_oauth_token_is_fetched_once_and_reused(fcm: FcmChannel, google: tuple[FakeFcm, str, Path]) -> None:
    fake, _, _ = google
    for n in range(3):
        await fcm.send(offer(idempotency_key=f"k{n}"))
    assert fake.token_requests == 1
    assert len({s.authorization for s in fake.sends}) == 1


async def test_unregistered_is_a_dead_device(fcm: FcmChannel, google: tuple[FakeFcm, str, Path]) -> None:
    fake, _, _ = google
    fake.unregistered.add(DEVICE)
    with pytest.raises(DeviceUnregistered) as info:
        await fcm.send(offer())
    assert (info.value.code, info.value.reason_class) == ("UNREGISTERED", ReasonClass.PERMANENT)


async def test_a_malformed_registration_token_is_a_dead_device_other_invalid_arguments_are_rejected(
    fcm: FcmChannel, google: tuple[FakeFcm, str, Path]
) -> None:
    fake, _, _ = google
    with pytest.raises(DeviceUnregistered) as bad_token:
        await fcm.send(offer(to="12345"))
    fake.fail_next(400, "INVALID_ARGUMENT")
    with pytest.raises(MessageRejected) as bad_message:
        await fcm.send(offer())
    assert bad_token.value.code == bad_message.value.code == "INVALID_ARGUMENT"
    assert not isinstance(bad_message.value, DeviceUnregistered)


async def test_quota_exceeded_is_retried_after_what_fcm_asks(fcm: FcmChannel, google: tuple[FakeFcm, str, Path]) -> None:
    fake, _, _ = google
    fake.fail_next(429, "QUOTA_EXCEEDED", {"Retry-After": "30"})
    with pytest.raises(RateLimited) as info:
        await fcm.send(offer())
    assert (info.value.code, info.value.retry_after, info.value.reason_class) == ("QUOTA_EXCEEDED", 30.0, ReasonClass.TEMPORARY)


@pytest.mark.parametrize(("status", "code"), [(503, "UNAVAILABLE"), (500, "INTERNAL")])
async def test_unavailable_and_internal_are_transient_and_not_retried_by_the_sdk(
    fcm: FcmChannel, google: tuple[FakeFcm, str, Path], status: int, code: str
) -> None:
    fake, _, _ = google
    fake.fail_next(status, code)
    with pytest.raises(ProviderUnavailable) as info:
        await fcm.send(offer())
    assert (info.value.code, info.value.reason_class) == (code, ReasonClass.TEMPORARY)
    assert fake.attempts == 1, "the dispatcher owns retries and their backoff"
    await fcm.send(offer())
    assert len(fake.sends) == 1


@pytest.mark.parametrize(("status", "code"), [(403, "SENDER_ID_MISMATCH"), (401, "THIRD_PARTY_AUTH_ERROR")])
async def test_credential_errors_are_invalid_credentials(fcm: FcmChannel, google: tuple[FakeFcm, str, Path], status: int, code: str) -> None:
    fake, _, _ = google
    fake.fail_next(status, code)
    with pytest.raises(InvalidCredentials) as info:
        await fcm.send(offer())
    assert info.value.code == code
    assert (fake.attempts, fake.token_requests) == (1, 1), "not our OAuth token: a new one would not help"


class RefreshSpy:
    """Wraps the credential's `refresh` (a blocking HTTP call) and notes whether each ran on a thread with an event loop."""

    def __init__(self, channel: FcmChannel) -> None:
        self.inside_loop: list[bool] = []
        self._refresh = channel._credential.refresh
        channel._credential.refresh = self

    def __call__(self, request: object) -> None:
        try:
            asyncio.get_running_loop()
            self.inside_loop.append(True)
        except RuntimeError:
            self.inside_loop.append(False)
        self._refresh(request)


async def test_a_401_renews_the_oauth_token_in_a_thread_and_retries_once(fcm: FcmChannel, google: tuple[FakeFcm, str, Path]) -> None:
    fake, _, _ = google
    await fcm.send(offer(idempotency_key="k0"))
    spy = RefreshSpy(fcm)
    fake.issued.clear()  # Google stops taking the token the channel holds (revoked, or its clock ran ahead)

    result = await fcm.send(offer(idempotency_key="k1"))

    assert result.provider_message_id.endswith("%fake")
    assert (fake.attempts, len(fake.sends), fake.token_requests) == (3, 2, 2), "sent, refused with 401, renewed, sent"
    assert spy.inside_loop == [False], "the renewal ran in a worker thread, never inside the event loop"
    assert fake.sends[0].authorization != fake.sends[1].authorization


async def test_a_token_refused_again_after_renewal_is_invalid_credentials(fcm: FcmChannel, google: tuple[FakeFcm, str, Path]) -> None:
    fake, _, _ = google
    spy = RefreshSpy(fcm)
    fake.fail_next(401, "UNAUTHENTICATED")
    fake.fail_next(401, "UNAUTHENTICATED")
    with pytest.raises(InvalidCredentials) as info:
        await fcm.send(offer())
    assert info.value.code == "UNAUTHENTICATED"
    assert (fake.attempts, fake.token_requests) == (2, 2), "one renewal, one retry, no more"
    assert spy.inside_loop == [False, False]


async def test_a_token_near_its_expiry_is_renewed_in_a_thread_before_the_send(fcm: FcmChannel, google: tuple[FakeFcm, str, Path]) -> None:
    fake, _, _ = google
    await fcm.send(offer(idempotency_key="k0"))
    spy = RefreshSpy(fcm)
    fcm._credential.expiry = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=60)

    await fcm.send(offer(idempotency_key="k1"))

    assert (fake.attempts, fake.token_requests) == (2, 2), "renewed ahead, no 401"
    assert spy.inside_loop == [False]


async def test_a_service_account_google_refuses_is_invalid_credentials(google: tuple[FakeFcm, str, Path]) -> None:
    fake, url, _ = google
    with tempfile.TemporaryDirectory() as tmp:
        wrong = service_account(Path(tmp), rsa_key(), f"{url}/token")
        channel = FcmChannel(credentials_file=str(wrong), project_id=PROJECT, api_base=url)
        try:
            with pytest.raises(InvalidCredentials) as info:
                await channel.send(offer())
        finally:
            await channel.aclose()
    assert info.value.code == "invalid_grant"
    assert fake.attempts == 0


def test_the_private_endpoint_override_refuses_another_sdk_version(google: tuple[FakeFcm, str, Path]) -> None:
    _, url, sa = google
    app = firebase_admin.initialize_app(firebase_admin.credentials.Certificate(str(sa)), options={"projectId": PROJECT}, name="version-check")
    try:
        with mock.patch.object(firebase_admin, "__version__", "7.8.0"), pytest.raises(RuntimeError, match="installed: 7.8.0"):
            aim(app, url, PROJECT)
    finally:
        firebase_admin.delete_app(app)
